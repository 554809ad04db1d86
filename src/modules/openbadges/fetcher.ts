import { lookup as dnsLookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import { isIP } from 'node:net';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { FetchError } from './errors.ts';
import { isBlockedAddress } from './ip.ts';
import type { Fetcher, FetchResponse } from './types.ts';

export interface ResolvedAddress {
  address: string;
  family: number;
}

export interface SafeFetcherOptions {
  /** Exact `host:port` entries that may be private (tests reach a local issuer this way). */
  allowPrivateHosts?: string[];
  /** Whole fetch, redirects included. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** Cap on the body, compressed and decompressed alike. */
  maxBytes?: number;
  maxRedirects?: number;
  userAgent?: string;
  /** Name resolution, replaceable so tests can make a public-looking name resolve to loopback. */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function defaultResolve(hostname: string): Promise<ResolvedAddress[]> {
  return dnsLookup(hostname, { all: true, verbatim: true });
}

function mediaType(contentType: string | null): string | null {
  if (!contentType) return null;
  return contentType.split(';')[0]?.trim().toLowerCase() || null;
}

function acceptable(contentType: string | null, accept: string[]): boolean {
  const media = mediaType(contentType);
  if (!media) return false;
  return accept.some((a) => {
    const want = a.toLowerCase();
    if (want === '*/*' || want === media) return true;
    return want.endsWith('/*') && media.startsWith(want.slice(0, -1));
  });
}

function flattenHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * The service's one outbound HTTP client. Every address is checked on the socket actually being
 * connected (through the lookup hook, and again on connect), so a name that resolves to a public
 * address once and to an internal one later gains nothing.
 */
export function createSafeFetcher(opts: SafeFetcherOptions = {}): Fetcher {
  const allow = new Set((opts.allowPrivateHosts ?? []).map((h) => h.toLowerCase()));
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const connectTimeoutMs = Math.min(opts.connectTimeoutMs ?? 5_000, timeoutMs);
  const maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
  const maxRedirects = opts.maxRedirects ?? 5;
  const userAgent = opts.userAgent ?? 'badge-backpack/0.1 (+open badges verifier)';
  const resolve = opts.resolve ?? defaultResolve;

  return async (url, fetchOpts) => {
    const deadline = Date.now() + timeoutMs;
    let current = url;
    let previousProtocol: string | null = null;
    for (let hop = 0; ; hop++) {
      const target = parseTarget(current);
      if (previousProtocol === 'https:' && target.protocol === 'http:') {
        throw new FetchError('fetch_scheme_downgrade', 'refusing a redirect from https to http');
      }
      const res = await oneRequest(target, {
        allowed: allow.has(hostKey(target)),
        deadline,
        connectTimeoutMs,
        maxBytes: Math.min(maxBytes, fetchOpts?.maxBytes ?? maxBytes),
        userAgent,
        resolve,
        accept: fetchOpts?.accept,
        conditional: conditionalHeaders(fetchOpts?.headers),
        signal: fetchOpts?.signal,
      });
      if (res.response) return res.response;
      if (hop >= maxRedirects)
        throw new FetchError('fetch_too_many_redirects', `more than ${maxRedirects} redirects`);
      previousProtocol = target.protocol;
      try {
        current = new URL(res.redirect, target).href;
      } catch {
        throw new FetchError('fetch_bad_url', 'redirect to an unparseable location');
      }
    }
  };
}

const CONDITIONAL = ['if-none-match', 'if-modified-since'];

/** Only validators pass: callers must not be able to set hosts, cookies or authorization. */
function conditionalHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (CONDITIONAL.includes(lower) && !/[\r\n]/.test(value)) out[lower] = value;
  }
  return out;
}

function parseTarget(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FetchError('fetch_bad_url', 'not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new FetchError('fetch_bad_scheme', `scheme ${u.protocol} is not fetched`);
  }
  if (u.username || u.password) {
    throw new FetchError('fetch_credentials_in_url', 'URLs carrying credentials are not fetched');
  }
  return u;
}

function hostKey(u: URL): string {
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname}:${port}`.toLowerCase();
}

interface HopOptions {
  allowed: boolean;
  deadline: number;
  connectTimeoutMs: number;
  maxBytes: number;
  userAgent: string;
  resolve: (hostname: string) => Promise<ResolvedAddress[]>;
  accept: string[] | undefined;
  conditional: Record<string, string>;
  signal: AbortSignal | undefined;
}

type HopResult =
  | { redirect: string; response?: undefined }
  | { redirect?: undefined; response: FetchResponse };

function guardedLookup(allowed: boolean, resolve: HopOptions['resolve']): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const usable = addresses.filter((a) => allowed || !isBlockedAddress(a.address));
        // One bad answer taints the name: a resolver mixing public and internal answers is an attack.
        if (usable.length === 0 || usable.length !== addresses.length) {
          callback(
            new FetchError('fetch_blocked_address', `${hostname} resolves to a refused address`),
            '',
            0,
          );
          return;
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const matching = wanted ? usable.filter((a) => a.family === wanted) : usable;
        if (matching.length === 0) {
          callback(new FetchError('fetch_failed', `${hostname} has no usable address`), '', 0);
          return;
        }
        if (options.all) {
          callback(null, matching);
        } else {
          const first = matching[0] as ResolvedAddress;
          callback(null, first.address, first.family);
        }
      },
      () => callback(new FetchError('fetch_failed', `cannot resolve ${hostname}`), '', 0),
    );
  };
}

function oneRequest(target: URL, o: HopOptions): Promise<HopResult> {
  const literal = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  if (isIP(literal) !== 0 && !o.allowed && isBlockedAddress(literal)) {
    return Promise.reject(new FetchError('fetch_blocked_address', `${literal} is not a public address`));
  }
  if (target.hostname.endsWith('.') && isIP(target.hostname.slice(0, -1)) !== 0) {
    return Promise.reject(new FetchError('fetch_bad_url', 'IP literal with a trailing dot'));
  }
  return new Promise<HopResult>((resolvePromise, rejectPromise) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(totalTimer);
      rejectPromise(
        err instanceof FetchError
          ? err
          : new FetchError('fetch_failed', (err as Error)?.message ?? 'fetch failed'),
      );
    };
    const remaining = o.deadline - Date.now();
    if (remaining <= 0) {
      fail(new FetchError('fetch_timeout', 'fetch timed out'));
      return;
    }
    if (o.signal?.aborted) {
      fail(new FetchError('fetch_timeout', 'the verification ran out of time'));
      return;
    }
    const headers: Record<string, string> = {
      ...o.conditional,
      'user-agent': o.userAgent,
      'accept-encoding': 'gzip, deflate, br',
    };
    if (o.accept?.length) headers.accept = o.accept.join(', ');
    const requestFn = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = requestFn(target, {
      method: 'GET',
      headers,
      agent: false,
      lookup: guardedLookup(o.allowed, o.resolve),
    });
    const totalTimer = setTimeout(() => {
      req.destroy(new FetchError('fetch_timeout', 'fetch timed out'));
    }, remaining);
    req.on('error', fail);
    const onAbort = () => req.destroy(new FetchError('fetch_timeout', 'the verification ran out of time'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => o.signal?.removeEventListener('abort', onAbort));
    req.on('socket', (socket: Socket) => {
      const connectTimer = setTimeout(() => {
        req.destroy(new FetchError('fetch_timeout', 'connect timed out'));
      }, o.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        // Second line of defence: whatever path led here, judge the address actually connected.
        const remote = socket.remoteAddress;
        if (!o.allowed && (!remote || isBlockedAddress(remote))) {
          req.destroy(
            new FetchError('fetch_blocked_address', `${remote ?? 'unknown'} is not a public address`),
          );
        }
      });
      socket.once('close', () => clearTimeout(connectTimer));
    });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        res.resume();
        settled = true;
        clearTimeout(totalTimer);
        req.destroy();
        resolvePromise({ redirect: location });
        return;
      }
      const contentType = res.headers['content-type'] ?? null;
      if (status >= 200 && status < 300 && o.accept?.length && !acceptable(contentType, o.accept)) {
        req.destroy();
        fail(new FetchError('fetch_bad_content_type', `unexpected content type ${contentType ?? '(none)'}`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > o.maxBytes) {
        req.destroy();
        fail(new FetchError('fetch_too_large', `body larger than ${o.maxBytes} bytes`));
        return;
      }
      const encoding = (res.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
      let decoder: Transform | null = null;
      if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
      else if (encoding === 'deflate') decoder = createInflate();
      else if (encoding === 'br') decoder = createBrotliDecompress();
      else if (encoding !== 'identity' && encoding !== '') {
        req.destroy();
        fail(new FetchError('fetch_failed', `unsupported content encoding ${encoding}`));
        return;
      }
      const chunks: Buffer[] = [];
      let raw = 0;
      let decoded = 0;
      const tooLarge = () => {
        req.destroy();
        decoder?.destroy();
        fail(new FetchError('fetch_too_large', `body larger than ${o.maxBytes} bytes`));
      };
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(totalTimer);
        resolvePromise({
          response: {
            status,
            url: target.href,
            contentType,
            body: new Uint8Array(Buffer.concat(chunks)),
            headers: flattenHeaders(res),
          },
        });
      };
      res.on('data', (chunk: Buffer) => {
        raw += chunk.length;
        if (raw > o.maxBytes) {
          tooLarge();
          return;
        }
        if (decoder) decoder.write(chunk);
        else chunks.push(chunk);
      });
      res.on('error', fail);
      if (decoder) {
        decoder.on('data', (chunk: Buffer) => {
          decoded += chunk.length;
          if (decoded > o.maxBytes) {
            tooLarge();
            return;
          }
          chunks.push(chunk);
        });
        decoder.on('error', () => fail(new FetchError('fetch_failed', 'corrupt compressed body')));
        decoder.on('end', finish);
        res.on('end', () => decoder?.end());
      } else {
        res.on('end', finish);
      }
    });
    req.end();
  });
}
