import { createHash } from 'node:crypto';
import { OpenBadgesInputError } from './errors.ts';

export type JsonRecord = Record<string, unknown>;

export function isRecord(x: unknown): x is JsonRecord {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function str(x: unknown): string | null {
  return typeof x === 'string' && x.length > 0 ? x : null;
}

export function asArray(x: unknown): unknown[] {
  if (x === undefined || x === null) return [];
  return Array.isArray(x) ? x : [x];
}

export function strings(x: unknown): string[] {
  return asArray(x).filter((v): v is string => typeof v === 'string');
}

/** The `id` of a node given either as a string reference or as an embedded object. */
export function refId(x: unknown): string | null {
  if (typeof x === 'string') return x;
  if (isRecord(x)) return str(x.id);
  return null;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export const MAX_TEXT_INPUT = 2 * 1024 * 1024;

/** What one JSON text may cost: characters, nesting and values (containers, members, items). */
export interface JsonLimits {
  maxChars: number;
  maxDepth: number;
  maxValues: number;
}

/**
 * Limits per kind of JSON the engine reads. A parsed value costs some tens of bytes of heap, so
 * the value count bounds memory where the size alone does not (`[{},{},…]`); the depth bounds
 * every recursive walk after parsing. Assertions, badge classes, profiles, keys and schemas are
 * small documents (an embedded data: image is the largest legitimate part); status and
 * revocation lists may be long.
 */
export const JSON_LIMITS = {
  /** Text an earner or platform hands over (a JSON body kept as text, a baked payload). */
  input: { maxChars: MAX_TEXT_INPUT, maxDepth: 64, maxValues: 50_000 },
  /** A fetched assertion, BadgeClass, issuer profile, key, DID document or schema. */
  document: { maxChars: 1024 * 1024, maxDepth: 64, maxValues: 20_000 },
  /** A fetched revocation list or status list credential. */
  statusList: { maxChars: 8 * 1024 * 1024, maxDepth: 32, maxValues: 100_000 },
} as const satisfies Record<string, JsonLimits>;

/**
 * Why `text` is over `limits`, or null. One pass over the characters without allocating, made
 * before JSON.parse so that a hostile document is refused before it costs any heap. Values are
 * counted as containers plus separators, an upper bound on what JSON.parse would build.
 */
export function jsonOverLimits(text: string, limits: JsonLimits): string | null {
  if (text.length > limits.maxChars) return `larger than ${limits.maxChars} characters`;
  let depth = 0;
  let values = 1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: find the closing quote not escaped by an odd run of backslashes.
      for (;;) {
        const close = text.indexOf('"', i + 1);
        if (close < 0) return null;
        let slashes = 0;
        while (text.charCodeAt(close - 1 - slashes) === 0x5c) slashes++;
        i = close;
        if (slashes % 2 === 0) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
      if (++values > limits.maxValues) return `more than ${limits.maxValues} values`;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x2c) {
      if (++values > limits.maxValues) return `more than ${limits.maxValues} values`;
    }
  }
  return null;
}

/** JSON.parse behind the limits: the value, or why it was not read. */
export function parseJsonWithin(
  text: string,
  limits: JsonLimits,
): { ok: true; value: unknown } | { ok: false; overLimit: boolean; reason: string } {
  const over = jsonOverLimits(text, limits);
  if (over) return { ok: false, overLimit: true, reason: over };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, overLimit: false, reason: 'not valid JSON' };
  }
}

export function parseJsonText(text: string, limits: JsonLimits = JSON_LIMITS.input): unknown {
  if (text.length > limits.maxChars) {
    throw new OpenBadgesInputError('too_large', 'input_too_large', 'payload larger than the limit');
  }
  const parsed = parseJsonWithin(text, limits);
  if (parsed.ok) return parsed.value;
  if (parsed.overLimit) {
    throw new OpenBadgesInputError('too_large', 'json_too_complex', `payload is ${parsed.reason}`);
  }
  throw new OpenBadgesInputError('malformed', 'json_malformed', 'payload is not valid JSON');
}

/** JSON with sorted keys: a stable text for hashing documents that carry no id. */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  if (isRecord(x)) {
    return `{${Object.keys(x)
      .sort()
      .filter((k) => x[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(x[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x);
}

export function isHttpUrl(x: string | null | undefined): boolean {
  if (!x) return false;
  try {
    const u = new URL(x);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function hostOf(x: string | null): string | null {
  if (!x) return null;
  try {
    return new URL(x).hostname.toLowerCase() || null;
  } catch {
    return null;
  }
}

export function resolveUrl(ref: string | null, base: string | null): string | null {
  if (!ref) return null;
  try {
    return new URL(ref, base ?? undefined).href;
  } catch {
    return ref;
  }
}

/**
 * Dates as the versions wrote them: ISO 8601 (2.0, 3.0), `YYYY-MM-DD` or Unix seconds (0.5, 1.0).
 * Returns null when unreadable.
 */
export function parseDate(x: unknown): Date | null {
  if (typeof x === 'number' && Number.isFinite(x)) return new Date(x * 1000);
  if (typeof x !== 'string' || x.trim() === '') return null;
  const t = x.trim();
  if (/^\d{1,12}$/.test(t)) return new Date(Number(t) * 1000);
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return null;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

// The signature part may be empty: an unsecured token (alg none) is read, then refused by its algorithm.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function isCompactJws(x: string): boolean {
  return COMPACT_JWS.test(x);
}

/** A JWS header or payload as JSON, null when it is not JSON or is over the input limits. */
export function decodeJwsPart(part: string | undefined): unknown {
  if (!part) return null;
  const parsed = parseJsonWithin(Buffer.from(part, 'base64url').toString('utf8'), JSON_LIMITS.input);
  return parsed.ok ? parsed.value : null;
}
