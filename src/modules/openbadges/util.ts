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

export function parseJsonText(text: string): unknown {
  if (text.length > MAX_TEXT_INPUT) {
    throw new OpenBadgesInputError('too_large', 'input_too_large', 'payload larger than the limit');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new OpenBadgesInputError('malformed', 'json_malformed', 'payload is not valid JSON');
  }
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

export function decodeJwsPart(part: string | undefined): unknown {
  if (!part) return null;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}
