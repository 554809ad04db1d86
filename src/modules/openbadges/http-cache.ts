import type { Fetcher, FetchOptions, FetchResponse } from './types.ts';

export interface HttpCacheOptions {
  /** Bound on the bytes kept (bodies, headers and URLs); the least recently used go first. */
  maxBytes: number;
  /** Freshness of a response whose server says nothing about it (no Cache-Control lifetime, no Expires). */
  defaultTtlMs: number;
  /** No response stays fresh longer than this, whatever its server says. */
  maxTtlMs: number;
  /** Milliseconds since the epoch; the app's clock, so tests can move time. */
  now?: () => number;
}

export interface HttpCache {
  fetcher: Fetcher;
  /** Bytes kept now, for tests and metrics. */
  size(): number;
}

interface Entry {
  response: FetchResponse;
  /** When the response (or its last revalidation) arrived. */
  receivedAt: number;
  lifetimeMs: number;
  etag: string | null;
  lastModified: string | null;
  bytes: number;
}

type Directives = Map<string, string | true>;

function directives(value: string | undefined): Directives {
  const out: Directives = new Map();
  for (const part of (value ?? '').split(',')) {
    const [rawName, ...rest] = part.split('=');
    const name = rawName?.trim().toLowerCase();
    if (!name) continue;
    const arg = rest
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (!out.has(name)) out.set(name, rest.length ? arg : true);
  }
  return out;
}

function seconds(value: string | true | undefined): number | null {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return null;
  return Number(value);
}

function httpDate(value: string | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

/**
 * How long a response may be reused without asking its server again (RFC 9111 4.2.1, as a shared
 * cache: every earner's verification reuses it), or null when it must not be stored at all.
 */
function freshness(headers: Record<string, string>, now: number, opts: HttpCacheOptions): number | null {
  const cc = directives(headers['cache-control']);
  if (cc.has('no-store') || cc.has('private')) return null;
  if ((headers.vary ?? '').split(',').some((v) => v.trim() === '*')) return null;
  let lifetime: number;
  const shared = seconds(cc.get('s-maxage'));
  const maxAge = seconds(cc.get('max-age'));
  if (shared !== null) lifetime = shared * 1000;
  else if (maxAge !== null) lifetime = maxAge * 1000;
  else if (headers.expires !== undefined) {
    const expires = httpDate(headers.expires);
    // An unreadable Expires means "already expired" (RFC 9111 5.3).
    lifetime = expires === null ? 0 : expires - (httpDate(headers.date) ?? now);
  } else lifetime = opts.defaultTtlMs;
  const noCache = cc.has('no-cache') || (!headers['cache-control'] && /no-cache/i.test(headers.pragma ?? ''));
  if (noCache) lifetime = 0;
  const age = seconds(headers.age ?? undefined) ?? 0;
  return Math.max(0, Math.min(lifetime, opts.maxTtlMs) - age * 1000);
}

function sizeOf(key: string, res: FetchResponse): number {
  let bytes = key.length + res.url.length + res.body.byteLength + 64;
  for (const [k, v] of Object.entries(res.headers)) bytes += k.length + v.length;
  return bytes;
}

/** Headers a 304 may update on the stored response (RFC 9111 4.3.4). */
function merged(stored: Record<string, string>, fresh: Record<string, string>): Record<string, string> {
  const out = { ...stored };
  for (const [k, v] of Object.entries(fresh)) {
    if (k === 'content-length' || k === 'content-encoding' || k === 'transfer-encoding') continue;
    out[k] = v;
  }
  // The 304 says how old it is itself; an Age kept from the first answer would count twice.
  if (!('age' in fresh)) delete out.age;
  return out;
}

/**
 * Issuer documents (badge classes, profiles, keys, DID documents, status lists, hosted assertions)
 * fetched once and reused under HTTP caching rules: Cache-Control (`max-age`, `s-maxage`,
 * `no-cache`, `no-store`, `private`), Expires, revalidation with ETag / Last-Modified, a bounded
 * default lifetime when the server says nothing, and a bounded size. A stale response is never
 * served, even when its server cannot be reached: a revocation must not hide behind a cache.
 * Bodies are shared between callers, who treat them as read-only.
 */
export function createHttpCache(inner: Fetcher, opts: HttpCacheOptions): HttpCache {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const pending = new Map<string, Promise<FetchResponse>>();
  let total = 0;
  // One entry may take a quarter of the budget, so one large status list cannot flush the rest.
  const maxEntryBytes = Math.floor(opts.maxBytes / 4);

  const evict = (key: string) => {
    const e = entries.get(key);
    if (!e) return;
    entries.delete(key);
    total -= e.bytes;
  };

  const store = (key: string, res: FetchResponse, at: number) => {
    evict(key);
    if (res.status !== 200) return;
    const lifetimeMs = freshness(res.headers, at, opts);
    if (lifetimeMs === null) return;
    const etag = res.headers.etag ?? null;
    const lastModified = res.headers['last-modified'] ?? null;
    // Nothing to reuse: stale at once and nothing to revalidate with.
    if (lifetimeMs === 0 && !etag && !lastModified) return;
    const bytes = sizeOf(key, res);
    if (bytes > maxEntryBytes) return;
    entries.set(key, { response: res, receivedAt: at, lifetimeMs, etag, lastModified, bytes });
    total += bytes;
    for (const [oldest] of entries) {
      if (total <= opts.maxBytes) break;
      evict(oldest);
    }
  };

  const load = async (
    key: string,
    url: string,
    fetchOpts: FetchOptions | undefined,
  ): Promise<FetchResponse> => {
    const stale = entries.get(key);
    const headers: Record<string, string> = {};
    if (stale?.etag) headers['if-none-match'] = stale.etag;
    if (stale?.lastModified) headers['if-modified-since'] = stale.lastModified;
    const conditional = Object.keys(headers).length > 0;
    const res = await inner(url, conditional ? { ...fetchOpts, headers } : fetchOpts);
    const at = now();
    if (res.status === 304 && stale) {
      const updated: FetchResponse = {
        ...stale.response,
        headers: merged(stale.response.headers, res.headers),
      };
      store(key, updated, at);
      return updated;
    }
    store(key, res, at);
    return res;
  };

  const fetcher: Fetcher = async (url, fetchOpts) => {
    // A caller revalidating on its own gets the server's answer, not ours.
    if (fetchOpts?.headers && Object.keys(fetchOpts.headers).length > 0) return inner(url, fetchOpts);
    const key = `${(fetchOpts?.accept ?? []).join(',')} ${url}`;
    const hit = entries.get(key);
    if (hit && now() - hit.receivedAt < hit.lifetimeMs) {
      // Most recently used last: the Map's order is the eviction order.
      entries.delete(key);
      entries.set(key, hit);
      return hit.response;
    }
    // Concurrent verifications needing the same document share one request.
    let inFlight = pending.get(key);
    if (!inFlight) {
      inFlight = load(key, url, fetchOpts).finally(() => pending.delete(key));
      pending.set(key, inFlight);
    }
    return inFlight;
  };

  return { fetcher, size: () => total };
}
