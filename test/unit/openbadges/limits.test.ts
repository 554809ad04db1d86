// What one verification may cost: fetched JSON is read within limits of size, nesting and
// values per kind of document; a credential with absurdly many entries is refused before
// anything is fetched; fetches are bounded in number and in time; and a host that cannot be
// reached is described the same way whatever the reason.
import { describe, expect, it } from 'vitest';
import {
  createSafeFetcher,
  type Fetcher,
  type FetchResponse,
  jsonOverLimits,
  OpenBadgesInputError,
  type Verdict,
  type VerifyContext,
  verifyBadge,
} from '../../../src/modules/openbadges/index.ts';

const now = () => new Date('2025-06-01T00:00:00Z');
const ORIGIN = 'https://issuer.example';

function served(docs: Map<string, string>, calls: string[] = []): Fetcher {
  return async (url) => {
    calls.push(url);
    const body = docs.get(url);
    const res: FetchResponse = {
      status: body === undefined ? 404 : 200,
      url,
      contentType: 'application/json',
      body: new Uint8Array(Buffer.from(body ?? '')),
      headers: {},
    };
    return res;
  };
}

function context(fetcher: Fetcher, extra: Partial<VerifyContext> = {}): VerifyContext {
  return { fetcher, now, recipients: [{ address: 'learner@example.org', verified: true }], ...extra };
}

const check = (v: Verdict, code: string) => v.checks.find((c) => c.code === code);

function hostedDocs(): Map<string, string> {
  return new Map([
    [
      `${ORIGIN}/a`,
      JSON.stringify({
        '@context': 'https://w3id.org/openbadges/v2',
        type: 'Assertion',
        id: `${ORIGIN}/a`,
        recipient: { type: 'email', hashed: false, identity: 'learner@example.org' },
        badge: `${ORIGIN}/class`,
        verification: { type: 'hosted' },
        issuedOn: '2024-01-01T00:00:00Z',
      }),
    ],
    [
      `${ORIGIN}/class`,
      JSON.stringify({
        '@context': 'https://w3id.org/openbadges/v2',
        type: 'BadgeClass',
        id: `${ORIGIN}/class`,
        name: 'Limits',
        description: 'd',
        image: `${ORIGIN}/img.png`,
        criteria: { narrative: 'n' },
        issuer: `${ORIGIN}/issuer`,
      }),
    ],
    [
      `${ORIGIN}/issuer`,
      JSON.stringify({
        '@context': 'https://w3id.org/openbadges/v2',
        type: 'Issuer',
        id: `${ORIGIN}/issuer`,
        name: 'Issuer',
        url: ORIGIN,
      }),
    ],
  ]);
}

describe('jsonOverLimits', () => {
  const limits = { maxChars: 1000, maxDepth: 3, maxValues: 10 };

  it('refuses depth, values and size beyond the limits', () => {
    expect(jsonOverLimits('[[[[]]]]', limits)).toMatch(/deeper than 3/);
    expect(jsonOverLimits(`[${'0,'.repeat(20)}0]`, limits)).toMatch(/more than 10 values/);
    expect(jsonOverLimits(`"${'x'.repeat(1000)}"`, limits)).toMatch(/larger than 1000/);
    expect(jsonOverLimits('{"a":[1,2,{"b":null}]}', limits)).toBeNull();
  });

  it('does not count brackets or commas inside strings, escaped quotes included', () => {
    expect(jsonOverLimits('["[[[[,,,,,,,,,,,,,,", "\\"[[[[[,,,,,,,,,,,\\\\", "]]]"]', limits)).toBeNull();
    expect(jsonOverLimits('["\\\\\\"[[[["]', limits)).toBeNull();
  });
});

describe('fetched JSON is read within limits', () => {
  it('refuses the hostile issuer documents: deep, wide and huge', async () => {
    const docs = hostedDocs();
    const depth = 2 * 1024 * 1024;
    docs.set(`${ORIGIN}/huge`, `${'['.repeat(depth)}${']'.repeat(depth)}`);
    docs.set(`${ORIGIN}/deep`, `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    docs.set(`${ORIGIN}/wide`, `[${'{},'.repeat(200_000)}{}]`);
    const reasons: Record<string, string | undefined> = {};
    for (const name of ['huge', 'deep', 'wide']) {
      const verdict = await verifyBadge({ kind: 'url', url: `${ORIGIN}/${name}` }, context(served(docs)));
      expect(verdict.ok).toBe(false);
      reasons[name] = check(verdict, 'hosted_fetched')?.message;
    }
    expect(reasons.huge).toMatch(/serves more than 1048576 bytes/);
    expect(reasons.deep).toMatch(/nested deeper than 64 levels/);
    expect(reasons.wide).toMatch(/more than 20000 values/);
  });

  it('refuses a BadgeClass nested beyond the limit', async () => {
    const docs = hostedDocs();
    const badgeClass = JSON.parse(docs.get(`${ORIGIN}/class`) ?? '{}') as Record<string, unknown>;
    docs.set(
      `${ORIGIN}/class`,
      JSON.stringify(badgeClass).replace('{', `{"x":${'['.repeat(5000)}${']'.repeat(5000)},`),
    );
    const verdict = await verifyBadge({ kind: 'url', url: `${ORIGIN}/a` }, context(served(docs)));
    expect(check(verdict, 'badge_class_fetched')).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/nested deeper than 64/),
    });
  });

  it('reads a signed payload nested a hundred thousand deep as unreadable, not as a crash', async () => {
    const payload = `{"@context":"https://w3id.org/openbadges/v2","type":"Assertion","verification":{"type":"signed"},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const jws = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}.c2ln`;
    const outcome = await verifyBadge({ kind: 'jws', jws }, context(served(new Map()))).catch(
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(OpenBadgesInputError);
    expect((outcome as OpenBadgesInputError).code).toBe('jws_malformed');
  });
});

describe('fan-out', () => {
  function credential(entries: number): Record<string, unknown> {
    const many = (make: (i: number) => unknown) => Array.from({ length: entries }, (_, i) => make(i));
    return {
      '@context': [
        'https://www.w3.org/ns/credentials/v2',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      ],
      id: 'urn:uuid:0b6c2f5e-2a0c-4d7b-9d7e-6f1f7f8a9b10',
      type: ['VerifiableCredential', 'OpenBadgeCredential'],
      issuer: { id: `${ORIGIN}/issuer`, type: ['Profile'], name: 'Issuer' },
      validFrom: '2024-01-01T00:00:00Z',
      credentialSubject: {
        type: ['AchievementSubject'],
        identifier: [
          {
            type: 'IdentityObject',
            identityHash: 'learner@example.org',
            identityType: 'emailAddress',
            hashed: false,
          },
        ],
        achievement: {
          id: `${ORIGIN}/achievement`,
          type: ['Achievement'],
          name: 'Fan-out',
          criteria: { narrative: 'n' },
        },
      },
      credentialSchema: many((i) => ({ id: `${ORIGIN}/schema/${i}`, type: 'JsonSchemaValidator2019' })),
      credentialStatus: many((i) => ({
        id: `${ORIGIN}/status/${i}#1`,
        type: 'BitstringStatusListEntry',
        statusPurpose: 'revocation',
        statusListIndex: '1',
        statusListCredential: `${ORIGIN}/status/${i}`,
      })),
      proof: many((i) => ({
        type: 'DataIntegrityProof',
        cryptosuite: 'eddsa-rdfc-2022',
        verificationMethod: `did:web:issuer.example:k${i}#key`,
        proofPurpose: 'assertionMethod',
        proofValue: 'z1111',
      })),
    };
  }

  it('refuses 300 schemas, status entries and proofs as invalid without fetching any', async () => {
    const calls: string[] = [];
    const verdict = await verifyBadge(
      { kind: 'json', json: credential(300) },
      context(served(new Map(), calls)),
    );
    expect(verdict.status).toBe('invalid');
    expect(check(verdict, 'limits_exceeded')).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/300 credentialSchema entries.*300 credentialStatus.*300 proof/),
    });
    expect(calls).toEqual([]);
  });

  it('stops at the fetch count of the verification context and fails the badge', async () => {
    const calls: string[] = [];
    const verdict = await verifyBadge(
      { kind: 'url', url: `${ORIGIN}/a` },
      context(served(hostedDocs(), calls), { limits: { maxFetches: 2 } }),
    );
    expect(calls).toHaveLength(2);
    expect(verdict.ok).toBe(false);
    expect(check(verdict, 'limits_exceeded')).toMatchObject({
      status: 'failed',
      message: 'the badge needs more than 2 fetches to verify',
    });
  });

  it('cuts off fetches in flight when the time budget runs out', async () => {
    const stalled: Fetcher = (url, opts) =>
      new Promise((_resolve, reject) => {
        opts?.signal?.addEventListener('abort', () => reject(new Error(`${url} cut off`)));
      });
    const started = Date.now();
    const verdict = await verifyBadge(
      { kind: 'url', url: `${ORIGIN}/a` },
      context(stalled, { limits: { timeBudgetMs: 200 } }),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(check(verdict, 'limits_exceeded')).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/took longer than/),
    });
  });
});

describe('unreachable hosts', () => {
  it('are described alike whether the name resolves to an internal address or not at all', async () => {
    const fetcher = createSafeFetcher({
      timeoutMs: 2000,
      resolve: async (hostname) => {
        if (hostname === 'internal.example') return [{ address: '127.0.0.1', family: 4 }];
        throw new Error('ENOTFOUND');
      },
    });
    const messages: string[] = [];
    for (const host of ['internal.example', 'missing.example']) {
      const verdict = await verifyBadge({ kind: 'url', url: `http://${host}/a` }, context(fetcher));
      messages.push((check(verdict, 'hosted_fetched')?.message ?? '').replace(host, 'HOST'));
    }
    expect(messages[0]).toBe('http://HOST/a: blocked or unreachable');
    expect(messages[1]).toBe(messages[0]);
    const refused = await fetcher('http://internal.example/a').catch((err: unknown) => err);
    expect(refused).toMatchObject({
      code: 'fetch_blocked_address',
      publicCode: 'fetch_unreachable',
      detail: 'internal.example resolves to a refused address',
      message: 'blocked or unreachable',
    });
  });
});
