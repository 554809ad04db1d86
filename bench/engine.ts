// The Open Badges engine alone, without HTTP or a database: verifying a signed assertion with
// the issuer's key already cached (issuer documents served from memory), and reading a baked
// PNG. Reported as operations per second and microseconds per operation.
import {
  bakePng,
  createKeyCache,
  type Fetcher,
  unbakePng,
  verifyBadge,
} from '../src/modules/openbadges/index.ts';
import { type LocalIssuer, solidPng } from './support/issuer.ts';
import type { Row } from './support/report.ts';

async function rate(
  seconds: number,
  op: () => Promise<unknown> | unknown,
): Promise<{ perSecond: number; micros: number }> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await op();
    n += 1;
  }
  const ms = performance.now() - start;
  return { perSecond: (n * 1000) / ms, micros: (ms * 1000) / n };
}

export async function benchEngine(issuer: LocalIssuer, seconds: number): Promise<Row[]> {
  // Issuer documents are fetched once over HTTP, then answered from memory.
  const documents = new Map<string, Awaited<ReturnType<Fetcher>>>();
  const fetcher: Fetcher = async (url, opts) => {
    let doc = documents.get(url);
    if (!doc) {
      const res = await fetch(url);
      const body = new Uint8Array(await res.arrayBuffer());
      doc = { status: res.status, url, contentType: res.headers.get('content-type'), body, headers: {} };
      documents.set(url, doc);
    }
    void opts;
    return doc;
  };
  const email = 'engine.bench@example.org';
  const keyCache = createKeyCache({ ttlMs: 3_600_000, max: 100 });
  const ctx = { fetcher, keyCache, now: () => new Date(), recipients: [{ address: email, verified: true }] };
  const jws = issuer.signed(7, email);
  const first = await verifyBadge({ kind: 'jws', jws }, ctx);
  if (!first.ok) throw new Error(`the benchmark assertion does not verify: ${JSON.stringify(first.checks)}`);
  const signed = await rate(seconds, () => verifyBadge({ kind: 'jws', jws }, ctx));

  const baked = bakePng(solidPng([200, 80, 40], 256), jws, '2.0');
  const read = await rate(seconds, () => unbakePng(baked));
  const bakedVerify = await rate(seconds, () => verifyBadge({ kind: 'image', bytes: baked }, ctx));
  const row = (scenario: string, r: { perSecond: number; micros: number }): Row => ({
    db: 'engine',
    scenario,
    value: r.perSecond,
    unit: 'op/s',
    extra: `${r.micros.toFixed(0)} µs per operation`,
  });
  return [
    row('Verify a signed OB 2.0 assertion (RS256, key cached)', signed),
    row(`Read a baked PNG (${Math.round(baked.length / 1024)} KB, chunks and CRCs checked)`, read),
    row('Verify a baked PNG carrying a signed assertion', bakedVerify),
  ];
}
