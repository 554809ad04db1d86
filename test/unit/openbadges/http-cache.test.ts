import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createHttpCache,
  FetchError,
  type FetchOptions,
  type FetchResponse,
  verifyBadge,
} from '../../../src/modules/openbadges/index.ts';
import { CORPUS_NOW, CORPUS_ROOT, corpusFetcher } from '../../support/real-world.ts';

/** An origin server in memory: documents with their headers, answering conditional requests. */
function origin(clock: { ms: number }) {
  const docs = new Map<string, { body: string; headers: Record<string, string> }>();
  const seen: { url: string; headers: Record<string, string> }[] = [];
  let down = false;
  const fetcher = async (url: string, opts?: FetchOptions): Promise<FetchResponse> => {
    seen.push({ url, headers: { ...opts?.headers } });
    if (down) throw new FetchError('fetch_failed', 'unreachable');
    const doc = docs.get(url);
    const base = { url, contentType: 'application/json' };
    if (!doc) return { ...base, status: 404, body: new Uint8Array(), headers: {} };
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      date: new Date(clock.ms).toUTCString(),
      ...doc.headers,
    };
    const etag = headers.etag;
    const since = headers['last-modified'];
    if (
      (etag && opts?.headers?.['if-none-match'] === etag) ||
      (!etag && since && opts?.headers?.['if-modified-since'] === since)
    ) {
      return { ...base, status: 304, body: new Uint8Array(), headers };
    }
    return { ...base, status: 200, body: new TextEncoder().encode(doc.body), headers };
  };
  return {
    fetcher,
    seen,
    publish: (url: string, body: string, headers: Record<string, string> = {}) =>
      docs.set(url, { body, headers }),
    setDown: (value: boolean) => {
      down = value;
    },
  };
}

function setup(opts: { maxBytes?: number; defaultTtlMs?: number; maxTtlMs?: number } = {}) {
  const clock = { ms: Date.parse('2026-01-01T00:00:00Z') };
  const server = origin(clock);
  const cache = createHttpCache(server.fetcher, {
    maxBytes: opts.maxBytes ?? 1024 * 1024,
    defaultTtlMs: opts.defaultTtlMs ?? 60_000,
    maxTtlMs: opts.maxTtlMs ?? 3_600_000,
    now: () => clock.ms,
  });
  const get = async (url: string, accept?: string[]) => {
    const res = await cache.fetcher(url, accept ? { accept } : undefined);
    return { status: res.status, text: Buffer.from(res.body).toString('utf8') };
  };
  return { clock, server, cache, get, advance: (ms: number) => (clock.ms += ms) };
}

const URL_A = 'https://issuer.example/key';

describe('HTTP cache for issuer documents', () => {
  it('reuses a response for its max-age, then revalidates it with its ETag and reuses the body on 304', async () => {
    const { server, get, advance } = setup();
    server.publish(URL_A, '{"v":1}', { 'cache-control': 'max-age=300', etag: '"v1"' });
    expect(await get(URL_A)).toEqual({ status: 200, text: '{"v":1}' });
    advance(299_000);
    expect(await get(URL_A)).toEqual({ status: 200, text: '{"v":1}' });
    expect(server.seen).toHaveLength(1);
    advance(2_000);
    expect(await get(URL_A)).toEqual({ status: 200, text: '{"v":1}' });
    expect(server.seen).toHaveLength(2);
    expect(server.seen[1]?.headers).toEqual({ 'if-none-match': '"v1"' });
    // The 304 made it fresh again for another max-age.
    advance(200_000);
    await get(URL_A);
    expect(server.seen).toHaveLength(2);
  });

  it('sees a changed document at the first use after its lifetime, not before', async () => {
    const { server, get, advance } = setup();
    server.publish(URL_A, '{"key":"old"}', { 'cache-control': 'max-age=60', etag: '"old"' });
    await get(URL_A);
    server.publish(URL_A, '{"key":"new"}', { 'cache-control': 'max-age=60', etag: '"new"' });
    advance(59_000);
    expect((await get(URL_A)).text).toBe('{"key":"old"}');
    advance(1_000);
    expect((await get(URL_A)).text).toBe('{"key":"new"}');
  });

  it('revalidates with Last-Modified when there is no ETag', async () => {
    const { server, get, advance } = setup();
    const lastModified = 'Wed, 31 Dec 2025 00:00:00 GMT';
    server.publish(URL_A, '{}', { 'cache-control': 'max-age=10', 'last-modified': lastModified });
    await get(URL_A);
    advance(11_000);
    await get(URL_A);
    expect(server.seen[1]?.headers).toEqual({ 'if-modified-since': lastModified });
  });

  it('never keeps a no-store response, and a no-store answer drops what was kept', async () => {
    const { server, cache, get, advance } = setup();
    server.publish(URL_A, '{"v":1}', { 'cache-control': 'no-store', etag: '"v1"' });
    await get(URL_A);
    await get(URL_A);
    expect(server.seen).toHaveLength(2);
    expect(server.seen.every((r) => Object.keys(r.headers).length === 0)).toBe(true);
    expect(cache.size()).toBe(0);

    server.publish(URL_A, '{"v":2}', { 'cache-control': 'max-age=10' });
    await get(URL_A);
    advance(11_000);
    server.publish(URL_A, '{"v":3}', { 'cache-control': 'no-store' });
    expect((await get(URL_A)).text).toBe('{"v":3}');
    expect(cache.size()).toBe(0);
    server.publish(URL_A, '{"v":4}', { 'cache-control': 'no-store' });
    expect((await get(URL_A)).text).toBe('{"v":4}');
  });

  it('revalidates a no-cache response on every use', async () => {
    const { server, get } = setup();
    server.publish(URL_A, '{}', { 'cache-control': 'no-cache', etag: '"x"' });
    await get(URL_A);
    await get(URL_A);
    await get(URL_A);
    expect(server.seen.map((r) => r.headers['if-none-match'] ?? null)).toEqual([null, '"x"', '"x"']);
  });

  it('does not keep a private response: this cache serves every earner', async () => {
    const { server, get } = setup();
    server.publish(URL_A, '{}', { 'cache-control': 'private, max-age=600' });
    await get(URL_A);
    await get(URL_A);
    expect(server.seen).toHaveLength(2);
  });

  it('prefers s-maxage to max-age, and reads Expires against the Date header', async () => {
    const { server, get, advance } = setup();
    server.publish(URL_A, '{}', { 'cache-control': 'max-age=5, s-maxage=100' });
    await get(URL_A);
    advance(50_000);
    await get(URL_A);
    expect(server.seen).toHaveLength(1);

    const b = 'https://issuer.example/profile';
    server.publish(b, '{}', {
      expires: new Date(Date.parse('2026-01-01T00:00:00Z') + 200_000).toUTCString(),
    });
    await get(b); // at +50 s: fresh until +200 s
    advance(140_000);
    await get(b);
    expect(server.seen.filter((r) => r.url === b)).toHaveLength(1);
    advance(20_000);
    await get(b);
    expect(server.seen.filter((r) => r.url === b)).toHaveLength(2);
  });

  it('keeps a document its server says nothing about for the default lifetime, and caps every lifetime', async () => {
    const { server, get, advance } = setup({ defaultTtlMs: 30_000, maxTtlMs: 120_000 });
    server.publish(URL_A, '{}');
    const b = 'https://issuer.example/list';
    server.publish(b, '{}', { 'cache-control': 'max-age=31536000' });
    await get(URL_A);
    await get(b);
    advance(29_000);
    await get(URL_A);
    expect(server.seen).toHaveLength(2);
    advance(2_000);
    await get(URL_A);
    expect(server.seen).toHaveLength(3);
    advance(90_000);
    await get(b);
    expect(server.seen.filter((r) => r.url === b)).toHaveLength(2);
  });

  it('counts the Age a response arrives with', async () => {
    const { server, get, advance } = setup();
    server.publish(URL_A, '{}', { 'cache-control': 'max-age=100', age: '90' });
    await get(URL_A);
    advance(11_000);
    await get(URL_A);
    expect(server.seen).toHaveLength(2);
  });

  it('never serves a stale document when its server cannot be reached', async () => {
    const { server, get, advance } = setup();
    server.publish(URL_A, '{"revoked":[]}', { 'cache-control': 'max-age=10', etag: '"a"' });
    await get(URL_A);
    advance(11_000);
    server.setDown(true);
    await expect(get(URL_A)).rejects.toThrow(FetchError);
  });

  it('stays within its byte budget, dropping the least recently used first', async () => {
    const { server, cache, get } = setup({ maxBytes: 4_000 });
    const body = 'x'.repeat(700);
    const urls = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `https://issuer.example/${n}`);
    for (const u of urls) server.publish(u, body, { 'cache-control': 'max-age=600' });
    for (const u of urls.slice(0, 4)) await get(u);
    await get(urls[0] as string); // a is now the most recently used
    for (const u of urls.slice(4)) await get(u);
    expect(cache.size()).toBeLessThanOrEqual(4_000);
    const before = server.seen.length;
    await get(urls[0] as string);
    expect(server.seen.length).toBe(before);
    await get(urls[1] as string);
    expect(server.seen.length).toBe(before + 1);
  });

  it('keeps no single document larger than a quarter of its budget', async () => {
    const { server, cache, get } = setup({ maxBytes: 4_000 });
    server.publish(URL_A, 'x'.repeat(2_000), { 'cache-control': 'max-age=600' });
    await get(URL_A);
    await get(URL_A);
    expect(server.seen).toHaveLength(2);
    expect(cache.size()).toBe(0);
  });

  it('keeps error answers out, and keys entries by what the caller accepts', async () => {
    const { server, get } = setup();
    await get('https://issuer.example/missing');
    await get('https://issuer.example/missing');
    expect(server.seen).toHaveLength(2);
    server.publish(URL_A, '{}', { 'cache-control': 'max-age=600' });
    await get(URL_A, ['application/json']);
    await get(URL_A, ['image/png']);
    await get(URL_A, ['application/json']);
    expect(server.seen.filter((r) => r.url === URL_A)).toHaveLength(2);
  });

  it('sends one request for concurrent uses of the same document', async () => {
    const { server, get } = setup();
    server.publish(URL_A, '{}', { 'cache-control': 'max-age=600' });
    const results = await Promise.all(Array.from({ length: 20 }, () => get(URL_A)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(server.seen).toHaveLength(1);
  });

  it('passes a caller’s own conditional request through untouched', async () => {
    const { server, cache } = setup();
    server.publish(URL_A, '{}', { 'cache-control': 'max-age=600', etag: '"e"' });
    await cache.fetcher(URL_A);
    const res = await cache.fetcher(URL_A, { headers: { 'if-none-match': '"e"' } });
    expect(res.status).toBe(304);
    expect(server.seen).toHaveLength(2);
  });
});

describe('HTTP cache under the engine: a did:web issuer from the real-world corpus', () => {
  const credential =
    'dcc-vc-test-fixtures/verifiableCredentials/v2/dataIntegrityProof/didweb/oidf-noStatus-notExpired.json';
  const didUrl = 'https://digitalcredentials.github.io/vc-test-fixtures/dids/oidf/did.json';

  it('sees a key withdrawn from the DID document at the first verification after the document’s lifetime', async () => {
    const clock = { ms: CORPUS_NOW.getTime() };
    const published = JSON.parse(
      readFileSync(join(CORPUS_ROOT, 'dcc-vc-test-fixtures/dids/oidf/did.json'), 'utf8'),
    ) as Record<string, unknown>;
    let document = published;
    let fetches = 0;
    const corpus = corpusFetcher();
    const issuerSite = async (url: string, opts?: FetchOptions): Promise<FetchResponse> => {
      if (url !== didUrl) return corpus(url, opts);
      fetches += 1;
      return {
        status: 200,
        url,
        contentType: 'application/did+json',
        body: new TextEncoder().encode(JSON.stringify(document)),
        headers: { 'content-type': 'application/did+json', 'cache-control': 'max-age=300' },
      };
    };
    const cache = createHttpCache(issuerSite, {
      maxBytes: 1024 * 1024,
      defaultTtlMs: 60_000,
      maxTtlMs: 3_600_000,
      now: () => clock.ms,
    });
    const json = JSON.parse(readFileSync(join(CORPUS_ROOT, credential), 'utf8'));
    const verify = () =>
      verifyBadge(
        { kind: 'json', json },
        { fetcher: cache.fetcher, now: () => new Date(clock.ms), recipients: [] },
      );
    const keyCheck = (v: Awaited<ReturnType<typeof verify>>) =>
      v.checks.find((c) => c.code === 'key_owned_by_issuer')?.status;

    expect(keyCheck(await verify())).toBe('passed');
    // The issuer withdraws its key: the document it now serves lists no assertion method.
    document = { ...published, assertionMethod: [], verificationMethod: [] };
    clock.ms += 299_000;
    expect(keyCheck(await verify())).toBe('passed');
    expect(fetches).toBe(1);
    clock.ms += 2_000;
    const after = await verify();
    expect(fetches).toBe(2);
    expect(after.ok).toBe(false);
    expect(after.checks.filter((c) => c.status === 'failed').map((c) => c.code)).toContain(
      'key_owned_by_issuer',
    );
  });
});
