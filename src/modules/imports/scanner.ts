// Reads an account export as it arrives, without holding the document: a byte-level JSON
// scanner checks the syntax of everything and hands over, one at a time, the few values an
// import needs (the export's date and account, each badge, each group), parsed on their own.

/** Why a document cannot be imported: it is not JSON (`malformed`) or not a backpack export. */
export class ExportFormatError extends Error {
  constructor(
    readonly kind: 'malformed' | 'unrecognized',
    message: string,
  ) {
    super(message);
  }
}

export type ScannedValue =
  | { kind: 'exportedAt' | 'account'; value: unknown }
  | { kind: 'badge' | 'group'; value: unknown; index: number };

export interface ScannerLimits {
  /** Largest single badge or group, in bytes (a badge carries its image in base64). */
  itemBytes: number;
  /** Deepest nesting anywhere in the document. */
  depth: number;
}

export const DEFAULT_SCANNER_LIMITS: ScannerLimits = { itemBytes: 16 * 1024 * 1024, depth: 64 };

/** The top-level values read whole; anything else at the top is only checked. */
const TOP_VALUES = new Set(['exportedAt', 'account']);
/** The sections an import reads; the others (share links, connected issuers) are only checked. */
const SECTION_ITEMS: Record<string, 'badge' | 'group'> = { badges: 'badge', groups: 'group' };
const HEAD_VALUE_BYTES = 64 * 1024;
const KEY_BYTES = 256;

enum Mode {
  Value,
  ValueOrEnd,
  KeyOrEnd,
  Key,
  Colon,
  After,
  String,
  Escape,
  Unicode,
  Literal,
  Done,
}

interface Frame {
  array: boolean;
  /** The key whose value is being read (objects), as far as it was kept. */
  key: string;
  index: number;
  keys: Set<string> | null;
}

interface Capture {
  kind: ScannedValue['kind'];
  index: number;
  depth: number;
  limit: number;
  parts: Buffer[];
  size: number;
  start: number;
}

const LITERAL = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$/;

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isLiteralByte(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x2d ||
    b === 0x2b ||
    b === 0x2e ||
    b === 0x45
  );
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46);
}

/**
 * Feed it the document's bytes in order (`push`), then `end`; each returns the values found.
 * Throws ExportFormatError at the first byte that cannot be part of valid JSON, and at the end
 * when the document is not shaped like an export (an object with `exportedAt`, `account` and
 * `sections.badges` as a list).
 */
export class ExportScanner {
  private mode = Mode.Value;
  private readonly stack: Frame[] = [];
  private stringIsKey = false;
  private key: number[] = [];
  private unicodeLeft = 0;
  private literal = '';
  private capture: Capture | null = null;
  private offset = 0;
  private readonly found = new Map<string, string>();
  private counts = { badge: 0, group: 0 };

  constructor(private readonly limits: ScannerLimits = DEFAULT_SCANNER_LIMITS) {}

  get badges(): number {
    return this.counts.badge;
  }

  get groups(): number {
    return this.counts.group;
  }

  push(chunk: Buffer): ScannedValue[] {
    const out: ScannedValue[] = [];
    if (this.capture) this.capture.start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      switch (this.mode) {
        case Mode.String: {
          // Most of a document is string content (originals, base64 images): skip it fast.
          let j = i;
          while (j < chunk.length) {
            const c = chunk[j] as number;
            if (c === 0x22 || c === 0x5c || c < 0x20) break;
            if (this.stringIsKey && this.key.length < KEY_BYTES) this.key.push(c);
            j++;
          }
          i = j;
          if (j === chunk.length) break;
          const c = chunk[j] as number;
          if (c === 0x5c) this.mode = Mode.Escape;
          else if (c < 0x20) this.fail(j, 'a control character inside a string');
          else if (this.stringIsKey) {
            this.stringIsKey = false;
            const frame = this.stack[this.stack.length - 1] as Frame;
            frame.key = Buffer.from(this.key).toString('utf8');
            if (frame.keys) {
              if (frame.keys.has(frame.key)) this.unrecognized(`"${frame.key}" appears twice`);
              frame.keys.add(frame.key);
            }
            this.mode = Mode.Colon;
          } else this.valueDone(chunk, j + 1, out);
          break;
        }
        case Mode.Escape:
          if (b === 0x75) {
            this.mode = Mode.Unicode;
            this.unicodeLeft = 4;
          } else if ('"\\/bfnrt'.includes(String.fromCharCode(b))) {
            if (this.stringIsKey && this.key.length < KEY_BYTES) this.key.push(b);
            this.mode = Mode.String;
          } else this.fail(i, 'an unknown escape in a string');
          break;
        case Mode.Unicode:
          if (!isHex(b)) this.fail(i, 'a broken \\u escape');
          this.unicodeLeft -= 1;
          if (this.unicodeLeft === 0) this.mode = Mode.String;
          break;
        case Mode.Literal:
          if (isLiteralByte(b)) {
            this.literal += String.fromCharCode(b);
            if (this.literal.length > 512) this.fail(i, 'a number or literal too long');
            break;
          }
          this.endLiteral(chunk, i, out);
          i -= 1;
          break;
        default:
          if (isWhitespace(b)) break;
          this.structural(chunk, i, b, out);
      }
    }
    if (this.capture) this.keepCaptured(chunk, chunk.length);
    this.offset += chunk.length;
    return out;
  }

  end(): ScannedValue[] {
    const out: ScannedValue[] = [];
    if (this.mode === Mode.Literal && this.stack.length === 0) this.endLiteral(Buffer.alloc(0), 0, out);
    if (this.mode !== Mode.Done) {
      throw new ExportFormatError('malformed', 'The document ends before its JSON is complete.');
    }
    if (!this.found.has('top:object')) this.unrecognized('the document is not a JSON object');
    for (const name of ['exportedAt', 'account', 'sections']) {
      if (!this.found.has(`top:${name}`)) this.unrecognized(`it has no "${name}"`);
    }
    if (this.found.get('top:sections') !== 'object') this.unrecognized('"sections" is not an object');
    if (this.found.get('sections:badges') !== 'array') this.unrecognized('"sections.badges" is not a list');
    const groups = this.found.get('sections:groups');
    if (groups !== undefined && groups !== 'array') this.unrecognized('"sections.groups" is not a list');
    return out;
  }

  private structural(chunk: Buffer, i: number, b: number, out: ScannedValue[]): void {
    switch (this.mode) {
      case Mode.Value:
      case Mode.ValueOrEnd:
        if (b === 0x5d && this.mode === Mode.ValueOrEnd) {
          this.close(chunk, i, true, out);
          return;
        }
        this.startValue(i, b);
        return;
      case Mode.KeyOrEnd:
      case Mode.Key:
        if (b === 0x7d && this.mode === Mode.KeyOrEnd) {
          this.close(chunk, i, false, out);
          return;
        }
        if (b !== 0x22) {
          this.fail(i, 'a property name expected');
          return;
        }
        this.stringIsKey = true;
        this.key = [];
        this.mode = Mode.String;
        return;
      case Mode.Colon:
        if (b !== 0x3a) {
          this.fail(i, '":" expected');
          return;
        }
        this.mode = Mode.Value;
        return;
      case Mode.After: {
        const frame = this.stack[this.stack.length - 1] as Frame;
        if (b === 0x2c) {
          if (frame.array) {
            frame.index += 1;
            this.mode = Mode.Value;
          } else this.mode = Mode.Key;
          return;
        }
        if (b === (frame.array ? 0x5d : 0x7d)) {
          this.close(chunk, i, frame.array, out);
          return;
        }
        this.fail(i, `"," or "${frame.array ? ']' : '}'}" expected`);
        return;
      }
      case Mode.Done:
        this.fail(i, 'more after the end of the document');
        return;
      default:
        this.fail(i, 'unexpected byte');
        return;
    }
  }

  private startValue(i: number, b: number): void {
    const depth = this.stack.length;
    const parent = this.stack[depth - 1];
    const kind = b === 0x7b ? 'object' : b === 0x5b ? 'array' : 'other';
    // Where this value sits decides whether it is read whole, and records the document's shape.
    if (depth === 0) this.found.set(`top:${kind}`, kind);
    else if (depth === 1 && parent && !parent.array) {
      this.found.set(`top:${parent.key}`, kind);
      if (!this.capture && TOP_VALUES.has(parent.key)) {
        this.begin(parent.key as 'exportedAt' | 'account', 0, HEAD_VALUE_BYTES, i);
      }
    } else if (depth === 2 && this.stack[0]?.key === 'sections' && parent && !parent.array) {
      this.found.set(`sections:${parent.key}`, kind);
    } else if (depth === 3 && parent?.array && this.stack[0]?.key === 'sections' && !this.capture) {
      const item = SECTION_ITEMS[(this.stack[1] as Frame).key];
      if (item) {
        this.counts[item] += 1;
        this.begin(item, parent.index, this.limits.itemBytes, i);
      }
    }
    if (kind !== 'other') {
      if (depth >= this.limits.depth) {
        this.fail(i, `nested deeper than ${this.limits.depth} levels`);
        return;
      }
      const isArray = kind === 'array';
      this.stack.push({ array: isArray, key: '', index: 0, keys: !isArray && depth <= 1 ? new Set() : null });
      this.mode = isArray ? Mode.ValueOrEnd : Mode.KeyOrEnd;
      return;
    }
    if (b === 0x22) {
      this.stringIsKey = false;
      this.mode = Mode.String;
      return;
    }
    if (!isLiteralByte(b)) {
      this.fail(i, 'a value expected');
      return;
    }
    this.literal = String.fromCharCode(b);
    this.mode = Mode.Literal;
  }

  private endLiteral(chunk: Buffer, i: number, out: ScannedValue[]): void {
    if (!LITERAL.test(this.literal)) this.fail(i, `"${this.literal.slice(0, 20)}" is not a JSON value`);
    this.literal = '';
    this.valueDone(chunk, i, out);
  }

  private close(chunk: Buffer, i: number, array: boolean, out: ScannedValue[]): void {
    const frame = this.stack.pop();
    if (!frame || frame.array !== array) {
      this.fail(i, 'mismatched brackets');
      return;
    }
    this.valueDone(chunk, i + 1, out);
  }

  /** A value ended just before `end` in `chunk`. */
  private valueDone(chunk: Buffer, end: number, out: ScannedValue[]): void {
    const capture = this.capture;
    if (capture && capture.depth === this.stack.length) {
      this.keepCaptured(chunk, end);
      this.capture = null;
      const text = Buffer.concat(capture.parts, capture.size).toString('utf8');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        this.fail(end, 'a value that is not valid JSON');
      }
      out.push(
        capture.kind === 'badge' || capture.kind === 'group'
          ? { kind: capture.kind, value, index: capture.index }
          : { kind: capture.kind, value },
      );
    }
    this.mode = this.stack.length === 0 ? Mode.Done : Mode.After;
  }

  private begin(kind: Capture['kind'], index: number, limit: number, start: number): void {
    this.capture = { kind, index, depth: this.stack.length, limit, parts: [], size: 0, start };
  }

  private keepCaptured(chunk: Buffer, end: number): void {
    const capture = this.capture as Capture;
    const part = chunk.subarray(capture.start, end);
    capture.size += part.length;
    if (capture.size > capture.limit) {
      const what =
        capture.kind === 'badge' || capture.kind === 'group'
          ? `${capture.kind} ${capture.index}`
          : capture.kind;
      throw new ExportFormatError('malformed', `The export's ${what} is larger than ${capture.limit} bytes.`);
    }
    // A copy: the chunk's memory belongs to the stream.
    capture.parts.push(Buffer.from(part));
    capture.start = end;
  }

  private fail(at: number, what: string): never {
    throw new ExportFormatError(
      'malformed',
      `The document is not valid JSON at byte ${this.offset + at}: ${what}.`,
    );
  }

  private unrecognized(why: string): never {
    throw new ExportFormatError('unrecognized', `The document is not a backpack export: ${why}.`);
  }
}
