// Values generated from the contract's JSON Schemas: valid ones (within every bound), values at
// the bounds, and invalid ones (wrong types, huge or odd strings, deep nesting, unknown and
// prototype-polluting keys). Seeded, so that a failure can be replayed from its seed.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Schema = Record<string, unknown>;

/** mulberry32: small, fast, good enough for test data, and reproducible from a 32-bit seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(
    readonly random: () => number,
    private readonly resolve: (schema: Schema) => Schema,
  ) {}

  int(min: number, max: number): number {
    return Math.floor(this.random() * (max - min + 1)) + min;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.random() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  private text(min: number, max: number): string {
    const length = this.int(min, Math.min(max, min + 24));
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-';
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }

  private stringFor(schema: Schema, boundary: boolean): string {
    const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : 64;
    const examples = [schema.example, ...((schema.examples as unknown[] | undefined) ?? []), schema.default];
    const example = examples.find((e) => typeof e === 'string') as string | undefined;
    if (schema.pattern) return example ?? this.text(Math.max(min, 3), max);
    switch (schema.format) {
      case 'email':
        return `fuzz${this.int(0, 1e6)}@example.org`;
      case 'uri':
      case 'url':
        return this.pick(['https://issuer.example/a/1', 'http://127.0.0.1:9/x', 'https://example.org/']);
      case 'date-time':
        return new Date(Date.UTC(2020, 0, 1) + this.int(0, 1e9) * 1000).toISOString();
      case 'date':
        return '2024-02-29';
      case 'uuid':
        return crypto.randomUUID();
      default:
        break;
    }
    if (example !== undefined && this.chance(0.5)) return example;
    if (boundary) return 'x'.repeat(this.pick([min, max]));
    return this.text(min, max);
  }

  /** A value the schema accepts (best effort: patterns fall back to examples). */
  valid(raw: Schema, boundary = false, depth = 0): Json {
    const schema = this.resolve(raw);
    if ('const' in schema) return schema.const as Json;
    if (Array.isArray(schema.enum)) return this.pick(schema.enum as Json[]);
    if (Array.isArray(schema.allOf)) {
      const merged: Schema = {};
      for (const part of schema.allOf as Schema[]) Object.assign(merged, this.resolve(part));
      return this.valid(merged, boundary, depth);
    }
    for (const key of ['oneOf', 'anyOf'] as const) {
      if (Array.isArray(schema[key])) return this.valid(this.pick(schema[key] as Schema[]), boundary, depth);
    }
    let type = schema.type;
    if (Array.isArray(type))
      type = this.pick(type.filter((t) => t !== 'null').length ? type.filter((t) => t !== 'null') : type);
    if (type === undefined) type = schema.properties ? 'object' : 'string';
    switch (type) {
      case 'null':
        return null;
      case 'boolean':
        return this.chance(0.5);
      case 'integer':
      case 'number': {
        const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
        const max = typeof schema.maximum === 'number' ? schema.maximum : 1000;
        return boundary ? this.pick([min, max]) : this.int(min, max);
      }
      case 'string':
        return this.stringFor(schema, boundary);
      case 'array': {
        const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
        const max = Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 3, depth > 3 ? min : 3);
        const n = boundary ? this.pick([min, max]) : this.int(min, Math.max(min, max));
        const items = (schema.items as Schema | undefined) ?? {};
        const out: Json[] = [];
        for (let i = 0; i < n; i++) out.push(this.valid(items, boundary, depth + 1));
        return schema.uniqueItems ? [...new Map(out.map((v) => [JSON.stringify(v), v])).values()] : out;
      }
      default: {
        const out: { [key: string]: Json } = {};
        const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
        const required = new Set((schema.required as string[] | undefined) ?? []);
        for (const [name, sub] of Object.entries(properties)) {
          if (required.has(name) || this.chance(0.6)) out[name] = this.valid(sub, boundary, depth + 1);
        }
        return out;
      }
    }
  }

  /** A value the schema must refuse, or that stresses the parser and the handlers. */
  hostile(raw: Schema): Json {
    const schema = this.resolve(raw);
    const base = this.valid(schema);
    const isObject = base !== null && typeof base === 'object' && !Array.isArray(base);
    const variants: (() => Json)[] = [
      () => (typeof base === 'string' ? 12345 : 'not-the-right-type'),
      () => 'x'.repeat(this.pick([1000, 70_000])),
      () => '\u0000\uFEFF\u202E\uD800 \u{1F4A9} e\u0301 \\u0000 \'"<script>alert(1)</script>',
      () => {
        let v: Json = 'deep';
        for (let i = 0; i < this.pick([64, 512]); i++) v = [v];
        return v;
      },
      () => Number.MAX_SAFE_INTEGER + 2,
      () => -1,
      () => null,
      () => [],
    ];
    if (isObject) {
      const obj = base as { [key: string]: Json };
      const required = (schema.required as string[] | undefined) ?? [];
      variants.push(
        () => ({ ...obj, unknownField: 'x' }),
        () =>
          JSON.parse(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`) as Json,
        () => {
          const copy = { ...obj };
          if (required[0]) delete copy[required[0]];
          else copy.unknownField = 1;
          return copy;
        },
        () => {
          const copy: { [key: string]: Json } = { ...obj };
          const names = Object.keys((schema.properties as object | undefined) ?? {});
          const name = names.length ? this.pick(names) : 'x';
          copy[name] = this.pick<Json>([{ a: 1 }, [1, 2], true, 'zz', -99999999, '']);
          return copy;
        },
      );
    }
    return this.pick(variants)();
  }
}
