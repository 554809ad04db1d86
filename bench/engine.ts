// The Open Badges engine alone, without HTTP or a database: verifying each kind of proof in use
// (OB 2.0 RS256 JWS, OB 3.0 Data Integrity suites and VC-JWT) with the issuer's documents reused
// from the HTTP cache under the caching rules their servers give (a did:web document with
// max-age and an ETag; OB 2.0 documents with no caching headers, hence the default lifetime),
// and reading a baked PNG. Reported as operations per second and microseconds per operation.
import {
  type BadgeInput,
  bakePng,
  createHttpCache,
  createSafeFetcher,
  unbakePng,
  type VerifyContext,
  verifyBadge,
} from '../src/modules/openbadges/index.ts';
import { startDidWebIssuer } from './support/did-web-issuer.ts';
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
  const email = 'engine.bench@example.org';
  // A lifetime longer than the run: every verification after the first reuses the documents.
  const didWeb = await startDidWebIssuer(email, 3600);
  const hosts = [new URL(issuer.origin).host, didWeb.hostPort];
  const cache = createHttpCache(createSafeFetcher({ allowPrivateHosts: hosts }), {
    maxBytes: 8 * 1024 * 1024,
    defaultTtlMs: 300_000,
    maxTtlMs: 3_600_000,
  });
  const ctx: VerifyContext = {
    fetcher: cache.fetcher,
    now: () => new Date(),
    recipients: [{ address: email, verified: true }],
    didWebHttpHosts: [didWeb.hostPort],
  };
  const rows: Row[] = [];
  const row = (scenario: string, r: { perSecond: number; micros: number }): Row => ({
    db: 'engine',
    scenario,
    value: r.perSecond,
    unit: 'op/s',
    extra: `${r.micros.toFixed(0)} µs per operation`,
  });
  const measure = async (scenario: string, input: BadgeInput) => {
    const first = await verifyBadge(input, ctx);
    if (first.status !== 'valid') {
      const failed = first.checks.filter((c) => c.status === 'failed');
      throw new Error(`${scenario}: the benchmark badge does not verify: ${JSON.stringify(failed)}`);
    }
    rows.push(row(scenario, await rate(seconds, () => verifyBadge(input, ctx))));
  };

  try {
    const jws = issuer.signed(7, email);
    await measure('Verify a signed OB 2.0 assertion (RS256 JWS, issuer documents cached)', {
      kind: 'jws',
      jws,
    });
    for (const [kind, credential] of Object.entries(didWeb.credentials)) {
      await measure(`Verify an OB 3.0 credential: ${kind} proof, did:web document cached`, {
        kind: 'json',
        json: credential,
      });
    }
    await measure('Verify an OB 3.0 VC-JWT (EdDSA, did:web key, document cached)', {
      kind: 'jws',
      jws: didWeb.vcJwt,
    });
    const requests = didWeb.documentRequests();
    if (requests.full !== 1) throw new Error(`the DID document was fetched ${requests.full} times, not once`);

    const baked = bakePng(solidPng([200, 80, 40], 256), jws, '2.0');
    rows.push(
      row(
        `Read a baked PNG (${Math.round(baked.length / 1024)} KB, chunks and CRCs checked)`,
        await rate(seconds, () => unbakePng(baked)),
      ),
    );
    rows.push(
      row(
        'Verify a baked PNG carrying a signed assertion',
        await rate(seconds, () => verifyBadge({ kind: 'image', bytes: baked }, ctx)),
      ),
    );
  } finally {
    await didWeb.close();
  }
  return rows;
}
