import { createHash, sign as cryptoSign, generateKeyPairSync } from 'node:crypto';
import { CompactSign, type CryptoKey, exportSPKI, generateKeyPair } from 'jose';
import jsonld from 'jsonld';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bakePng,
  bakeSvg,
  createKeyCache,
  createSafeFetcher,
  hashRecipient,
  type OpenBadgesInputError,
  type Verdict,
  type VerifyContext,
  verifyBadge,
} from '../../../src/modules/openbadges/index.ts';
import { documentLoader } from '../../../src/modules/openbadges/jsonld-loader.ts';
import { type LocalServer, makePng, SIMPLE_SVG, startServer } from './helpers.ts';

const docs = new Map<string, { status?: number; body: string | Uint8Array; type: string }>();
let server: LocalServer;
let base: string;
let altBase: string;
let pem: string;
let rsaPrivate: CryptoKey;
let ctx: VerifyContext;
const now = () => new Date('2025-06-01T00:00:00Z');
const ADDRESS = 'learner@example.org';

const failed = (v: Verdict) => v.checks.filter((c) => c.status === 'failed').map((c) => c.code);
const statusOf = (v: Verdict, code: string) => v.checks.find((c) => c.code === code)?.status;
const json = (x: unknown) => ({ body: JSON.stringify(x), type: 'application/json' });

function assertion(overrides: Record<string, unknown> = {}) {
  return {
    '@context': 'https://w3id.org/openbadges/v2',
    type: 'Assertion',
    id: `${base}/assertions/1`,
    recipient: {
      type: 'email',
      hashed: true,
      salt: 's4lt',
      identity: hashRecipient(ADDRESS, 'sha256', 's4lt'),
    },
    badge: `${base}/badge`,
    verification: { type: 'hosted' },
    issuedOn: '2024-01-01T00:00:00Z',
    ...overrides,
  };
}

beforeAll(async () => {
  server = await startServer((req, res) => {
    const doc = docs.get(req.url ?? '');
    if (!doc) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(doc.status ?? 200, { 'content-type': doc.type });
    res.end(doc.body);
  });
  base = server.origin;
  altBase = base.replace('127.0.0.1', 'localhost');
  const kp = await generateKeyPair('RS256', { extractable: true });
  rsaPrivate = kp.privateKey;
  pem = await exportSPKI(kp.publicKey);
  const port = server.hostPort.split(':')[1];
  ctx = {
    fetcher: createSafeFetcher({
      allowPrivateHosts: [server.hostPort, `localhost:${port}`],
      timeoutMs: 3000,
    }),
    now,
    recipients: [
      { address: ADDRESS, verified: true },
      { address: 'unverified@example.org', verified: false },
    ],
  };
  const issuer = {
    '@context': 'https://w3id.org/openbadges/v2',
    type: 'Issuer',
    id: `${base}/issuer`,
    name: 'Local Issuer',
    url: base,
    email: 'issuer@example.org',
    publicKey: `${base}/key`,
    revocationList: `${base}/revocations`,
  };
  docs.set('/issuer', json(issuer));
  docs.set(
    '/badge',
    json({
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'BadgeClass',
      id: `${base}/badge`,
      name: 'Local Badge',
      description: 'Made in a test',
      image: `${base}/badge.png`,
      criteria: { narrative: 'Do the thing' },
      issuer: `${base}/issuer`,
      tags: ['t1'],
      alignment: [{ targetName: 'Skill', targetUrl: 'https://skills.example/1' }],
    }),
  );
  docs.set('/badge.png', { body: makePng(), type: 'image/png' });
  docs.set(
    '/key',
    json({
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'CryptographicKey',
      id: `${base}/key`,
      owner: `${base}/issuer`,
      publicKeyPem: pem,
    }),
  );
  docs.set(
    '/stranger-key',
    json({ type: 'CryptographicKey', id: `${base}/stranger-key`, owner: `${base}/other`, publicKeyPem: pem }),
  );
  docs.set(
    '/revocations',
    json({
      type: 'RevocationList',
      revokedAssertions: [{ id: `${base}/assertions/revoked`, revocationReason: 'test' }],
    }),
  );
  docs.set('/assertions/1', json(assertion()));
  docs.set('/assertions/gone', { status: 410, body: 'gone', type: 'text/plain' });
  docs.set('/assertions/flagged', json(assertion({ id: `${base}/assertions/flagged`, revoked: true })));
  docs.set(
    '/assertions/expired',
    json(assertion({ id: `${base}/assertions/expired`, expires: '2024-06-01T00:00:00Z' })),
  );
  // Hosted on another host name than the issuer's: the default origin rule refuses it.
  docs.set('/assertions/elsewhere', json(assertion({ id: `${altBase}/assertions/elsewhere` })));
  // 0.5, 1.0 and 1.1 documents.
  docs.set(
    '/v05',
    json({
      recipient: hashRecipient(ADDRESS, 'sha256', 'x'),
      salt: 'x',
      issued_on: '2013-01-01',
      badge: {
        version: '0.5.0',
        name: 'Old',
        description: 'Old badge',
        image: '/badge.png',
        criteria: '/criteria',
        issuer: { origin: base, name: 'Old Issuer' },
      },
    }),
  );
  docs.set(
    '/v1-badge',
    json({
      name: 'One',
      description: 'One badge',
      image: `${base}/badge.png`,
      criteria: `${base}/c`,
      issuer: `${base}/v1-issuer`,
    }),
  );
  docs.set('/v1-issuer', json({ name: 'One Issuer', url: base }));
  docs.set(
    '/v10',
    json({
      uid: 'u1',
      recipient: { type: 'email', hashed: false, identity: ADDRESS },
      badge: `${base}/v1-badge`,
      verify: { type: 'hosted', url: `${base}/v10` },
      issuedOn: 1380000000,
    }),
  );
  docs.set(
    '/v11',
    json({
      '@context': 'https://w3id.org/openbadges/v1',
      id: `${base}/v11`,
      type: 'Assertion',
      uid: 'u2',
      recipient: { type: 'email', hashed: false, identity: ADDRESS },
      badge: `${base}/v1-badge`,
      verify: { type: 'hosted', url: `${base}/v11` },
      issuedOn: '2015-05-05',
    }),
  );
});

afterAll(() => server.close());

async function signJws(payload: unknown, header: Record<string, unknown> = { alg: 'RS256' }) {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header as { alg: string })
    .sign(rsaPrivate);
}

describe('OB 2.0 hosted', () => {
  it('verifies by URL and normalizes the badge', async () => {
    const v = await verifyBadge({ kind: 'url', url: `${base}/assertions/1` }, ctx);
    expect(failed(v)).toEqual([]);
    expect(v).toMatchObject({
      ok: true,
      status: 'valid',
      version: '2.0',
      assertionId: `${base}/assertions/1`,
      recipient: { address: ADDRESS },
    });
    expect(v.badge).toMatchObject({
      name: 'Local Badge',
      criteriaNarrative: 'Do the thing',
      tags: ['t1'],
      issuer: { id: `${base}/issuer`, name: 'Local Issuer' },
    });
    expect(v.badge?.alignments[0]?.targetName).toBe('Skill');
    expect(v.image?.contentType).toBe('image/png');
    expect(v.original?.format).toBe('json');
    for (const code of [
      'hosted_fetched',
      'hosted_origin_allowed',
      'structure_valid',
      'recipient_matched',
      'dates_valid',
      'image_valid',
    ]) {
      expect(statusOf(v, code), code).toBe('passed');
    }
  });

  it('fetches the issuer copy when given JSON, and fails when the id is not served', async () => {
    expect((await verifyBadge({ kind: 'json', json: assertion() }, ctx)).status).toBe('valid');
    const v = await verifyBadge({ kind: 'json', json: assertion({ id: `${base}/assertions/missing` }) }, ctx);
    expect(failed(v)).toContain('hosted_fetched');
  });

  it('reports 410 and revoked: true as revoked', async () => {
    expect((await verifyBadge({ kind: 'url', url: `${base}/assertions/gone` }, ctx)).status).toBe('revoked');
    expect((await verifyBadge({ kind: 'url', url: `${base}/assertions/flagged` }, ctx)).status).toBe(
      'revoked',
    );
  });

  it('refuses an assertion hosted off the issuer origin', async () => {
    const v = await verifyBadge({ kind: 'url', url: `${base}/assertions/elsewhere` }, ctx);
    expect(failed(v)).toContain('hosted_origin_allowed');
  });

  it('dates: expired, future issue, expiry before issue', async () => {
    const expired = await verifyBadge({ kind: 'url', url: `${base}/assertions/expired` }, ctx);
    expect(expired.status).toBe('expired');
    expect(failed(expired)).toEqual(['expired']);
    docs.set(
      '/assertions/future',
      json(assertion({ id: `${base}/assertions/future`, issuedOn: '2030-01-01T00:00:00Z' })),
    );
    expect(failed(await verifyBadge({ kind: 'url', url: `${base}/assertions/future` }, ctx))).toContain(
      'issued_in_future',
    );
    docs.set(
      '/assertions/backwards',
      json(
        assertion({
          id: `${base}/assertions/backwards`,
          issuedOn: '2024-01-01T00:00:00Z',
          expires: '2023-01-01T00:00:00Z',
        }),
      ),
    );
    expect(failed(await verifyBadge({ kind: 'url', url: `${base}/assertions/backwards` }, ctx))).toContain(
      'expiry_before_issue',
    );
  });

  it('recipient: unverified address refused, unknown address mismatched', async () => {
    const unverified = assertion({
      id: `${base}/assertions/u`,
      recipient: { type: 'email', hashed: false, identity: 'unverified@example.org' },
    });
    docs.set('/assertions/u', json(unverified));
    const v = await verifyBadge({ kind: 'url', url: `${base}/assertions/u` }, ctx);
    expect(failed(v)).toEqual(['recipient_unverified']);
    expect(v.recipient).toBeNull();
    const other = await verifyBadge(
      { kind: 'url', url: `${base}/assertions/1` },
      { ...ctx, recipients: [{ address: 'x@y.z', verified: true }] },
    );
    expect(failed(other)).toEqual(['recipient_mismatch']);
  });

  it('reads a baked PNG and a baked SVG carrying the hosted URL', async () => {
    const png = await verifyBadge(
      { kind: 'image', bytes: bakePng(makePng(), `${base}/assertions/1`, '2.0') },
      ctx,
    );
    expect(png.status).toBe('valid');
    expect(png.image?.contentType).toBe('image/png');
    const svg = bakeSvg(
      SIMPLE_SVG.replace('<rect', '<script>x()</script><rect'),
      `${base}/assertions/1`,
      '2.0',
    );
    const v = await verifyBadge({ kind: 'image', bytes: new TextEncoder().encode(svg) }, ctx);
    expect(v.status).toBe('valid');
    expect(Buffer.from(v.image?.bytes ?? []).toString()).not.toContain('script');
  });
});

describe('OB 2.0 signed', () => {
  const signedAssertion = (extra: Record<string, unknown> = {}) =>
    assertion({
      id: `urn:uuid:${Math.random()}`,
      verification: { type: 'signed', creator: `${base}/key` },
      ...extra,
    });

  it('verifies RS256 with the issuer key, and uses the key cache on the next call', async () => {
    const hitsBefore = server.hits.filter((h) => h === '/key').length;
    const keyCache = createKeyCache({ ttlMs: 60_000, max: 10 });
    const payload = signedAssertion();
    const jws = await signJws(payload);
    const v = await verifyBadge({ kind: 'jws', jws }, { ...ctx, keyCache });
    expect(failed(v)).toEqual([]);
    expect(v.original).toEqual({ format: 'jws', text: jws });
    expect(v.assertionId).toBe(payload.id);
    expect(statusOf(v, 'key_owned_by_issuer')).toBe('passed');
    await verifyBadge({ kind: 'jws', jws }, { ...ctx, keyCache });
    expect(server.hits.filter((h) => h === '/key').length).toBe(hitsBefore + 1);
  });

  it('fails a tampered payload', async () => {
    const jws = await signJws(signedAssertion());
    const [h, , s] = jws.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(signedAssertion({ badge: `${base}/badge` }))).toString('base64url')}.${s}`;
    expect(failed(await verifyBadge({ kind: 'jws', jws: forged }, ctx))).toContain('signature_valid');
  });

  it('refuses none, HMAC and key-carrying headers', async () => {
    const body = Buffer.from(JSON.stringify(signedAssertion())).toString('base64url');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.x`;
    expect(failed(await verifyBadge({ kind: 'jws', jws: none }, ctx))).toContain(
      'signature_algorithm_refused',
    );
    const hs = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${body}.eA`;
    expect(failed(await verifyBadge({ kind: 'jws', jws: hs }, ctx))).toContain('signature_algorithm_refused');
    const withJku = await signJws(signedAssertion(), { alg: 'RS256', jku: `${base}/jwks` });
    expect(failed(await verifyBadge({ kind: 'jws', jws: withJku }, ctx))).toContain(
      'signature_algorithm_refused',
    );
  });

  it('refuses a key owned by someone else', async () => {
    const jws = await signJws(
      signedAssertion({ verification: { type: 'signed', creator: `${base}/stranger-key` } }),
    );
    expect(failed(await verifyBadge({ kind: 'jws', jws }, ctx))).toContain('key_owned_by_issuer');
  });

  it('reports an assertion on the revocation list', async () => {
    const jws = await signJws(signedAssertion({ id: `${base}/assertions/revoked` }));
    const v = await verifyBadge({ kind: 'jws', jws }, ctx);
    expect(v.status).toBe('revoked');
  });
});

describe('older versions', () => {
  it('0.5 by URL', async () => {
    const v = await verifyBadge({ kind: 'url', url: `${base}/v05` }, ctx);
    expect(failed(v)).toEqual([]);
    expect(v.version).toBe('0.5');
    expect(v.badge).toMatchObject({
      name: 'Old',
      imageUrl: `${base}/badge.png`,
      issuer: { id: base, name: 'Old Issuer' },
    });
    expect(v.badge?.issuedOn).toBe('2013-01-01T00:00:00.000Z');
  });

  it('1.0 and 1.1 hosted', async () => {
    const v10 = await verifyBadge({ kind: 'url', url: `${base}/v10` }, ctx);
    expect(failed(v10)).toEqual([]);
    expect(v10.version).toBe('1.0');
    expect(v10.badge?.issuer.name).toBe('One Issuer');
    const v11 = await verifyBadge({ kind: 'url', url: `${base}/v11` }, ctx);
    expect(failed(v11)).toEqual([]);
    expect(v11.version).toBe('1.1');
  });

  it('refuses a 0.5 document given without its URL', async () => {
    const body = JSON.parse(String(docs.get('/v05')?.body));
    expect(failed(await verifyBadge({ kind: 'json', json: body }, ctx))).toContain('hosted_fetched');
  });
});

describe('OB 3.0', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  const b58 = (bytes: Uint8Array) => {
    let n = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
    let out = '';
    while (n > 0n) {
      out = ALPHABET[Number(n % 58n)] + out;
      n /= 58n;
    }
    return out;
  };
  const did = `did:key:z${b58(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;
  const canon = (d: unknown) =>
    jsonld.canonize(d, { algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true });
  const sha = (s: string) => createHash('sha256').update(s).digest();

  function credential(extra: Record<string, unknown> = {}) {
    return {
      '@context': [
        'https://www.w3.org/ns/credentials/v2',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      ],
      id: 'urn:uuid:2f1c5c9e-3b8e-4a53-9e8e-7b6a1a1b0c01',
      type: ['VerifiableCredential', 'OpenBadgeCredential'],
      issuer: { id: did, type: ['Profile'], name: 'Key Issuer' },
      validFrom: '2024-01-01T00:00:00Z',
      name: 'Ed Badge',
      credentialSubject: {
        type: ['AchievementSubject'],
        identifier: [
          {
            type: 'IdentityObject',
            identityHash: hashRecipient(ADDRESS, 'sha256', 'pep'),
            identityType: 'emailAddress',
            hashed: true,
            salt: 'pep',
          },
        ],
        achievement: {
          id: 'urn:uuid:ach-1',
          type: ['Achievement'],
          name: 'Ed Achievement',
          description: 'd',
          criteria: { narrative: 'n' },
        },
      },
      ...extra,
    };
  }

  async function signed(
    doc: Record<string, unknown>,
  ): Promise<Record<string, unknown> & { proof: Record<string, unknown> }> {
    const proof = {
      '@context': doc['@context'],
      type: 'DataIntegrityProof',
      cryptosuite: 'eddsa-rdfc-2022',
      created: '2024-01-01T00:00:00Z',
      verificationMethod: `${did}#${did.slice(8)}`,
      proofPurpose: 'assertionMethod',
    };
    const data = Buffer.concat([sha(await canon(proof)), sha(await canon(doc))]);
    const { '@context': _c, ...stored } = proof;
    return { ...doc, proof: { ...stored, proofValue: `z${b58(cryptoSign(null, data, privateKey))}` } };
  }

  it('verifies an eddsa-rdfc-2022 proof with a did:key and normalizes', async () => {
    const doc = await signed(credential());
    const v = await verifyBadge({ kind: 'json', json: doc }, ctx);
    expect(failed(v)).toEqual([]);
    expect(v).toMatchObject({
      version: '3.0',
      status: 'valid',
      recipient: { address: ADDRESS },
      assertionId: doc.id,
    });
    expect(v.badge).toMatchObject({
      name: 'Ed Achievement',
      criteriaNarrative: 'n',
      issuer: { id: did, name: 'Key Issuer' },
    });
  });

  it('fails a tampered credential and an unsupported proof', async () => {
    const doc = await signed(credential());
    expect(failed(await verifyBadge({ kind: 'json', json: { ...doc, name: 'Forged' } }, ctx))).toContain(
      'proof_valid',
    );
    const other = { ...doc, proof: { ...doc.proof, cryptosuite: 'bbs-2023' } };
    expect(failed(await verifyBadge({ kind: 'json', json: other }, ctx))).toContain('proof_unsupported');
  });

  it('dates from validFrom/validUntil and issuanceDate/expirationDate', async () => {
    const expired = await signed(credential({ validUntil: '2024-06-01T00:00:00Z' }));
    expect((await verifyBadge({ kind: 'json', json: expired }, ctx)).status).toBe('expired');
    const v1 = await signed(
      credential({
        '@context': [
          'https://www.w3.org/2018/credentials/v1',
          'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json',
          'https://w3id.org/security/data-integrity/v2',
        ],
        validFrom: undefined,
        issuanceDate: '2030-01-01T00:00:00Z',
      }),
    );
    expect(failed(await verifyBadge({ kind: 'json', json: v1 }, ctx))).toContain('issued_in_future');
  });

  it('round-trips through a baked PNG and SVG', async () => {
    const text = JSON.stringify(await signed(credential()));
    expect((await verifyBadge({ kind: 'image', bytes: bakePng(makePng(), text, '3.0') }, ctx)).status).toBe(
      'valid',
    );
    const svg = new TextEncoder().encode(bakeSvg(SIMPLE_SVG, text, '3.0'));
    expect((await verifyBadge({ kind: 'image', bytes: svg }, ctx)).status).toBe('valid');
  });

  it('verifies a VC-JWT signed with EdDSA and a did:key kid; refuses none and HMAC', async () => {
    const vc = credential();
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(vc)))
      .setProtectedHeader({ alg: 'EdDSA', kid: `${did}#${did.slice(8)}` })
      .sign(privateKey);
    const v = await verifyBadge({ kind: 'jws', jws: jwt }, ctx);
    expect(failed(v)).toEqual([]);
    expect(v.original?.format).toBe('vc-jwt');
    const body = jwt.split('.')[1];
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.x`;
    expect(failed(await verifyBadge({ kind: 'jws', jws: none }, ctx))).toContain(
      'signature_algorithm_refused',
    );
    const hs = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${body}.eA`;
    expect(failed(await verifyBadge({ kind: 'jws', jws: hs }, ctx))).toContain('signature_algorithm_refused');
  });

  it('checks a 1EdTechRevocationList status served by the local issuer', async () => {
    docs.set(
      '/ob3-revocations',
      json({ revokedCredential: [{ id: 'urn:uuid:2f1c5c9e-3b8e-4a53-9e8e-7b6a1a1b0c01' }] }),
    );
    const doc = await signed(
      credential({
        '@context': [
          'https://www.w3.org/ns/credentials/v2',
          'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
          'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json',
        ],
        credentialStatus: { id: `${base}/ob3-revocations`, type: '1EdTechRevocationList' },
      }),
    );
    expect((await verifyBadge({ kind: 'json', json: doc }, ctx)).status).toBe('revoked');
  });
});

describe('unreadable input', () => {
  it('throws OpenBadgesInputError for non-images, unbaked images, bad JWS and JSON', async () => {
    const kinds = async (p: Promise<unknown>) =>
      p.then(
        () => 'none',
        (e: OpenBadgesInputError) => `${e.kind}:${e.code}`,
      );
    expect(await kinds(verifyBadge({ kind: 'image', bytes: new TextEncoder().encode('GIF89a') }, ctx))).toBe(
      'unsupported:image_unsupported',
    );
    expect(await kinds(verifyBadge({ kind: 'image', bytes: makePng() }, ctx))).toBe(
      'unsupported:image_not_baked',
    );
    expect(await kinds(verifyBadge({ kind: 'image', bytes: new Uint8Array(11 * 1024 * 1024) }, ctx))).toBe(
      'too_large:image_too_large',
    );
    expect(await kinds(verifyBadge({ kind: 'jws', jws: 'a.b' }, ctx))).toBe('malformed:jws_malformed');
    expect(await kinds(verifyBadge({ kind: 'json', json: '{nope' }, ctx))).toBe('malformed:json_malformed');
  });
});
