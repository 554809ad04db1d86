import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSafeFetcher,
  type Fetcher,
  type Verdict,
  type VerifyContext,
  verifyBadge,
} from '../../../src/modules/openbadges/index.ts';
import {
  didJwk,
  type Ed25519Signer,
  ed25519Signer,
  ob3Credential,
  signDataIntegrity,
  signJwt,
} from '../../support/credentials.ts';
import { type LocalServer, startServer } from './helpers.ts';

// Issuers publish their keys on a local host, reached as did:web and as "https" profiles only
// because the test lists it in didWebHttpHosts (and the fetcher's private-host allowance).
const docs = new Map<string, unknown>();
const redirects = new Map<string, string>();
let server: LocalServer;
let ctx: VerifyContext;
let origin: string;
let web: string;
let webPath: string;
let profile: string;
const ADDRESS = 'learner@example.org';
const now = () => new Date('2025-06-01T00:00:00Z');
const issuer = ed25519Signer();
const adopted = ed25519Signer();
const attacker = ed25519Signer();

const failed = (v: Verdict) => v.checks.filter((c) => c.status === 'failed').map((c) => c.code);
const statusOf = (v: Verdict, code: string) => v.checks.find((c) => c.code === code)?.status;
const verifyJson = (json: unknown, c: VerifyContext = ctx) => verifyBadge({ kind: 'json', json }, c);
const verifyJwt = (jws: string, c: VerifyContext = ctx) => verifyBadge({ kind: 'jws', jws }, c);
const multikey = (id: string, controller: string, signer: Ed25519Signer) => ({
  id,
  type: 'Multikey',
  controller,
  publicKeyMultibase: signer.multibase,
});

function expectValid(v: Verdict) {
  expect(failed(v), JSON.stringify(v.checks)).toEqual([]);
  expect(v.status).toBe('valid');
  expect(statusOf(v, 'key_owned_by_issuer')).toBe('passed');
}

/** Refused for the key alone: the signature itself verifies, only the issuer does not vouch for it. */
function expectForged(v: Verdict) {
  expect(v.ok).toBe(false);
  expect(v.status).toBe('invalid');
  expect(failed(v), JSON.stringify(v.checks)).toContain('key_owned_by_issuer');
}

beforeAll(async () => {
  server = await startServer((req, res) => {
    const location = redirects.get(req.url ?? '');
    if (location) {
      res.writeHead(302, { location }).end();
      return;
    }
    const doc = docs.get(req.url ?? '');
    if (doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  origin = server.origin;
  const encodedHost = server.hostPort.replace(':', '%3A');
  web = `did:web:${encodedHost}`;
  webPath = `did:web:${encodedHost}:issuers:web`;
  profile = `${origin}/issuers/profile`;
  ctx = {
    fetcher: createSafeFetcher({ allowPrivateHosts: [server.hostPort], timeoutMs: 3000 }),
    now,
    recipients: [{ address: ADDRESS, verified: true }],
    didWebHttpHosts: [server.hostPort],
  };
  const didContext = 'https://www.w3.org/ns/did/v1';
  docs.set('/.well-known/did.json', {
    '@context': didContext,
    id: web,
    verificationMethod: [multikey(`${web}#key-1`, web, issuer)],
    assertionMethod: [`${web}#key-1`],
  });
  docs.set('/issuers/web/did.json', {
    '@context': didContext,
    id: webPath,
    assertionMethod: [
      { id: `${webPath}#key-1`, type: 'JsonWebKey', controller: webPath, publicKeyJwk: issuer.jwk },
    ],
  });
  docs.set('/issuers/auth-only/did.json', {
    '@context': didContext,
    id: `did:web:${encodedHost}:issuers:auth-only`,
    verificationMethod: [multikey(`did:web:${encodedHost}:issuers:auth-only#key-1`, 'x', issuer)],
    authentication: [`did:web:${encodedHost}:issuers:auth-only#key-1`],
  });
  // The attacker's own, perfectly resolvable did:web.
  docs.set('/issuers/evil/did.json', {
    '@context': didContext,
    id: `did:web:${encodedHost}:issuers:evil`,
    verificationMethod: [multikey(`did:web:${encodedHost}:issuers:evil#key-1`, 'x', attacker)],
    assertionMethod: [`did:web:${encodedHost}:issuers:evil#key-1`],
  });
  // A host answering for one DID with the document of another.
  docs.set('/issuers/impostor/did.json', (docs.get('/.well-known/did.json') as object) ?? {});
  docs.set('/issuers/profile', {
    id: profile,
    type: 'Profile',
    name: 'Profile Issuer',
    verificationMethod: [multikey(`${profile}#key-1`, profile, issuer)],
    assertionMethod: ['#key-1'],
  });
  docs.set('/issuers/adopts-did-key', {
    id: `${origin}/issuers/adopts-did-key`,
    type: 'Profile',
    assertionMethod: [`${adopted.didKey}#${adopted.multibase}`],
  });
  docs.set('/keys/issuer.jwk', issuer.jwk);
  docs.set('/keys/attacker.jwk', attacker.jwk);
  docs.set('/keys/jwks.json', {
    keys: [
      { ...attacker.jwk, kid: 'other' },
      { ...issuer.jwk, kid: 'k1' },
    ],
  });
  // Harvard's real profile lists Harvard's own key; the forger's token names Harvard anyway.
  const harvard = ed25519Signer();
  docs.set('/harvard/', {
    id: 'https://www.harvard.edu/',
    type: 'Profile',
    name: 'Harvard University',
    verificationMethod: [multikey('https://www.harvard.edu/#key-1', 'https://www.harvard.edu/', harvard)],
    assertionMethod: ['https://www.harvard.edu/#key-1'],
  });
});

afterAll(() => server.close());

describe('Data Integrity proofs: keys the issuer vouches for', () => {
  it('did:web: a method listed in the DID document and referenced by assertionMethod', async () => {
    const doc = await signDataIntegrity(ob3Credential(web, ADDRESS), issuer.privateKey, `${web}#key-1`);
    expectValid(await verifyJson(doc));
  });

  it('did:web with a path: a JWK method embedded in assertionMethod', async () => {
    const doc = await signDataIntegrity(
      ob3Credential(webPath, ADDRESS),
      issuer.privateKey,
      `${webPath}#key-1`,
    );
    expectValid(await verifyJson(doc));
    expect(server.hits).toContain('/issuers/web/did.json');
  });

  it('did:key: the issuer id is the DID of the key', async () => {
    const vm = `${issuer.didKey}#${issuer.multibase}`;
    expectValid(
      await verifyJson(await signDataIntegrity(ob3Credential(issuer.didKey, ADDRESS), issuer.privateKey, vm)),
    );
  });

  it('did:jwk: the issuer id is the DID of the key', async () => {
    const did = didJwk(issuer.jwk);
    expectValid(
      await verifyJson(await signDataIntegrity(ob3Credential(did, ADDRESS), issuer.privateKey, `${did}#0`)),
    );
  });

  it('https profile: the key listed by the profile the issuer id serves (relative reference)', async () => {
    const doc = await signDataIntegrity(
      ob3Credential(profile, ADDRESS),
      issuer.privateKey,
      `${profile}#key-1`,
    );
    expectValid(await verifyJson(doc));
  });

  it('https profile adopting a did:key by listing it for assertionMethod', async () => {
    const id = `${origin}/issuers/adopts-did-key`;
    const vm = `${adopted.didKey}#${adopted.multibase}`;
    expectValid(
      await verifyJson(await signDataIntegrity(ob3Credential(id, ADDRESS), adopted.privateKey, vm)),
    );
  });

  it('refuses a method the DID document lists only for authentication', async () => {
    const did = web.replace(/$/, ':issuers:auth-only');
    const doc = await signDataIntegrity(ob3Credential(did, ADDRESS), issuer.privateKey, `${did}#key-1`);
    expectForged(await verifyJson(doc));
  });

  it('refuses a did:web whose host serves the document of another DID', async () => {
    const did = `${web}:issuers:impostor`;
    const doc = await signDataIntegrity(ob3Credential(did, ADDRESS), issuer.privateKey, `${web}#key-1`);
    const v = await verifyJson(doc);
    expectForged(v);
    expect(v.checks.find((c) => c.code === 'key_owned_by_issuer')?.message).toContain('document of');
  });

  it('refuses an issuer document reached through a redirect to another origin', async () => {
    const port = server.hostPort.split(':')[1];
    const elsewhere = `localhost:${port}`;
    const id = `${origin}/issuers/redirected`;
    docs.set('/issuers/moved', {
      id,
      type: 'Profile',
      verificationMethod: [multikey(`${id}#key-1`, id, issuer)],
      assertionMethod: ['#key-1'],
    });
    redirects.set('/issuers/redirected', `http://${elsewhere}/issuers/moved`);
    const both = {
      ...ctx,
      fetcher: createSafeFetcher({ allowPrivateHosts: [server.hostPort, elsewhere], timeoutMs: 3000 }),
      didWebHttpHosts: [server.hostPort, elsewhere],
    };
    const doc = await signDataIntegrity(ob3Credential(id, ADDRESS), issuer.privateKey, `${id}#key-1`);
    const v = await verifyJson(doc, both);
    expect(failed(v)).toContain('key_owned_by_issuer');
    expect(JSON.stringify(v.checks)).toContain('redirects to another origin');
    // The same document on the same origin is accepted.
    redirects.set('/issuers/redirected', '/issuers/moved');
    expectValid(await verifyJson(doc, both));
  });

  it('refuses a proof made for another purpose than assertionMethod', async () => {
    const doc = await signDataIntegrity(
      ob3Credential(web, ADDRESS),
      issuer.privateKey,
      `${web}#key-1`,
      'authentication',
    );
    const v = await verifyJson(doc);
    expect(failed(v)).toEqual(['proof_valid']);
    expect(v.checks.find((c) => c.code === 'proof_valid')?.message).toContain('purpose authentication');
  });

  it('reads did:web and http profiles over plain http only for hosts listed in the setting', async () => {
    const production = { ...ctx, didWebHttpHosts: [] };
    const viaWeb = await signDataIntegrity(ob3Credential(web, ADDRESS), issuer.privateKey, `${web}#key-1`);
    const hits = server.hits.length;
    const v = await verifyJson(viaWeb, production);
    expect(v.ok).toBe(false);
    expect(JSON.stringify(v.checks)).toContain(`https://${server.hostPort}/.well-known/did.json`);
    const viaProfile = await signDataIntegrity(
      ob3Credential(profile, ADDRESS),
      issuer.privateKey,
      `${profile}#key-1`,
    );
    const p = await verifyJson(viaProfile, production);
    expect(failed(p)).toContain('key_owned_by_issuer');
    expect(JSON.stringify(p.checks)).toContain('https only');
    // Nothing reached the plain-http server.
    expect(server.hits.length).toBe(hits);
  });

  it("still applies the fetcher's private-address rules to a host allowed over http", async () => {
    const publicOnly = { ...ctx, fetcher: createSafeFetcher({ timeoutMs: 3000 }) };
    const doc = await signDataIntegrity(ob3Credential(web, ADDRESS), issuer.privateKey, `${web}#key-1`);
    const hits = server.hits.length;
    const v = await verifyJson(doc, publicOnly);
    expect(failed(v)).toContain('key_owned_by_issuer');
    expect(JSON.stringify(v.checks)).toContain('blocked or unreachable');
    expect(server.hits.length).toBe(hits);
  });
});

describe('Data Integrity forgeries: a key that carries itself vouches for nothing', () => {
  it("an attacker's did:key naming a did:web issuer", async () => {
    const vm = `${attacker.didKey}#${attacker.multibase}`;
    const v = await verifyJson(await signDataIntegrity(ob3Credential(web, ADDRESS), attacker.privateKey, vm));
    expectForged(v);
    // The signature is sound; it is the key's owner that is not the issuer.
    expect(statusOf(v, 'proof_valid')).toBe('passed');
    expect(failed(v)).toEqual(['key_owned_by_issuer']);
  });

  it("an attacker's did:key naming an https issuer", async () => {
    const vm = `${attacker.didKey}#${attacker.multibase}`;
    expectForged(
      await verifyJson(await signDataIntegrity(ob3Credential(profile, ADDRESS), attacker.privateKey, vm)),
    );
  });

  it("the attacker's multikey as a fragment of the issuer id (https and did:web)", async () => {
    for (const id of [profile, web, 'https://www.harvard.edu/']) {
      const vm = `${id}#${attacker.multibase}`;
      const v = await verifyJson(
        await signDataIntegrity(ob3Credential(id, ADDRESS), attacker.privateKey, vm),
      );
      expectForged(v);
      expect(statusOf(v, 'proof_valid'), id).toBe('failed');
    }
  });

  it("an attacker's did:key naming a victim's did:key as issuer", async () => {
    const vm = `${attacker.didKey}#${attacker.multibase}`;
    expectForged(
      await verifyJson(
        await signDataIntegrity(ob3Credential(issuer.didKey, ADDRESS), attacker.privateKey, vm),
      ),
    );
  });

  it('a did:key signing for an issuer id no document stands for (urn:uuid)', async () => {
    const vm = `${attacker.didKey}#${attacker.multibase}`;
    const doc = ob3Credential('urn:uuid:5c6a5b7e-9a53-4f4b-8a3a-2f0d1c9b7e11', ADDRESS);
    expectForged(await verifyJson(await signDataIntegrity(doc, attacker.privateKey, vm)));
  });

  it("the attacker's own did:web, resolvable, naming someone else's did:web", async () => {
    const vm = `${web}:issuers:evil#key-1`;
    const v = await verifyJson(await signDataIntegrity(ob3Credential(web, ADDRESS), attacker.privateKey, vm));
    expectForged(v);
    expect(statusOf(v, 'proof_valid')).toBe('passed');
  });

  it('a forged credential does not take over the id of a genuine one', async () => {
    const vm = `${attacker.didKey}#${attacker.multibase}`;
    const doc = await signDataIntegrity(ob3Credential(web, ADDRESS), attacker.privateKey, vm);
    const v = await verifyJson(doc);
    expect(v.assertionId).not.toBe(doc.id);
    expect(v.assertionId).toMatch(/^sha256:/);
  });
});

describe('VC-JWT keys', () => {
  const token = (iss: string, key: Ed25519Signer, header: Record<string, unknown>, payload: object = {}) =>
    signJwt({ ...ob3Credential(iss, ADDRESS), ...payload }, key.privateKey, header);

  it('kid as a URL dereferencing to a bare JWK the issuer profile lists', async () => {
    expectValid(await verifyJwt(await token(profile, issuer, { kid: `${origin}/keys/issuer.jwk` })));
  });

  it('kid as a URL into a JWK Set, the fragment naming the key', async () => {
    expectValid(await verifyJwt(await token(profile, issuer, { kid: `${origin}/keys/jwks.json#k1` })));
  });

  it('kid as a DID URL, absolute and relative to the issuer', async () => {
    expectValid(await verifyJwt(await token(web, issuer, { kid: `${web}#key-1` })));
    expectValid(await verifyJwt(await token(web, issuer, { kid: '#key-1' })));
    expectValid(await verifyJwt(await token(profile, issuer, { kid: '#key-1' })));
    const did = didJwk(issuer.jwk);
    expectValid(await verifyJwt(await token(did, issuer, { kid: `${did}#0` })));
  });

  it('a header jwk passes only when it is a key the issuer lists', async () => {
    expectValid(await verifyJwt(await token(profile, issuer, { jwk: issuer.jwk })));
  });

  it("refuses the attacker's key carried in the header", async () => {
    const v = await verifyJwt(await token(profile, attacker, { jwk: attacker.jwk }));
    expectForged(v);
    expect(statusOf(v, 'signature_valid')).toBe('passed');
  });

  it("refuses a Harvard degree signed with the attacker's did:key as kid", async () => {
    // Stands in for Harvard's site: the answer comes from the local host, as if from harvard.edu.
    const fetcher: Fetcher = async (url, opts) => ({
      ...(await ctx.fetcher(url.replace(/^https:\/\/www\.harvard\.edu\//, `${origin}/harvard/`), opts)),
      url,
    });
    const jwt = await token(
      'https://www.harvard.edu/',
      attacker,
      { kid: attacker.didKey },
      {
        issuer: { id: 'https://www.harvard.edu/', type: ['Profile'], name: 'Harvard University' },
        name: 'Doctor of Medicine',
      },
    );
    const v = await verifyJwt(jwt, { ...ctx, fetcher });
    expectForged(v);
    expect(v.checks.find((c) => c.code === 'key_owned_by_issuer')?.message).toContain(
      'does not list this key',
    );
  });

  it("refuses the attacker's did:key as kid for a did:web issuer, and an attacker-hosted JWK", async () => {
    expectForged(
      await verifyJwt(await token(web, attacker, { kid: `${attacker.didKey}#${attacker.multibase}` })),
    );
    expectForged(await verifyJwt(await token(profile, attacker, { kid: `${origin}/keys/attacker.jwk` })));
    expectForged(await verifyJwt(await token(profile, attacker, { kid: `${origin}/keys/jwks.json#other` })));
  });

  it('refuses alg none (an empty signature) as signature_algorithm_refused, not as unreadable', async () => {
    const body = Buffer.from(JSON.stringify(ob3Credential(profile, ADDRESS))).toString('base64url');
    for (const header of [{ alg: 'none' }, { alg: 'none', kid: `${profile}#key-1` }]) {
      const unsecured = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${body}.`;
      const v = await verifyJwt(unsecured);
      expect(failed(v)).toContain('signature_algorithm_refused');
      expect(v.ok).toBe(false);
    }
  });
});

describe('VC-JWT registered claims', () => {
  const jwt = (payload: Record<string, unknown>) =>
    signJwt(payload, issuer.privateKey, { kid: `${web}#key-1` });
  const credential = (overrides: Record<string, unknown> = {}) => ob3Credential(web, ADDRESS, overrides);

  it('accepts claims that agree with the credential', async () => {
    const vc = credential({
      credentialSubject: { ...(credential().credentialSubject as object), id: 'did:example:learner' },
    });
    const v = await verifyJwt(
      await jwt({
        ...vc,
        iss: web,
        jti: vc.id,
        sub: 'did:example:learner',
        nbf: 1704067200,
        exp: 1893456000,
      }),
    );
    expectValid(v);
    expect(statusOf(v, 'jwt_claims_valid')).toBe('passed');
    expect(v.badge?.expires).toBe('2030-01-01T00:00:00.000Z');
  });

  it('refuses iss, jti or sub that disagree with the credential', async () => {
    const vc = credential({
      credentialSubject: { ...(credential().credentialSubject as object), id: 'did:example:learner' },
    });
    for (const claims of [
      { iss: 'https://www.harvard.edu/' },
      { jti: 'urn:uuid:another' },
      { sub: 'did:example:someone-else' },
    ]) {
      const v = await verifyJwt(await jwt({ ...vc, ...claims }));
      expect(failed(v), JSON.stringify(claims)).toEqual(['jwt_claims_valid']);
    }
  });

  it('exp in the past is expired, and the expiry is kept', async () => {
    const v = await verifyJwt(await jwt({ ...credential(), exp: 1735689600 }));
    expect(v.status).toBe('expired');
    expect(failed(v)).toEqual(['expired']);
    expect(v.badge?.expires).toBe('2025-01-01T00:00:00.000Z');
  });

  it('exp in the past is expired in the VCDM 1.1 form too, reported once', async () => {
    const v11 = credential({
      '@context': [
        'https://www.w3.org/2018/credentials/v1',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      ],
      validFrom: undefined,
      issuanceDate: '2024-01-01T00:00:00Z',
    });
    const v = await verifyJwt(await jwt({ vc: v11, iss: web, jti: v11.id, exp: 1735689600 }));
    expect(v.status).toBe('expired');
    expect(failed(v)).toEqual(['expired']);
  });

  it('nbf in the future is not valid yet', async () => {
    const v = await verifyJwt(await jwt({ ...credential(), nbf: 1893456000 }));
    expect(failed(v)).toEqual(['issued_in_future']);
    expect(v.ok).toBe(false);
  });

  it('an out-of-range nbf in the VCDM 1.1 form is refused, not a crash', async () => {
    const v11 = credential({
      '@context': [
        'https://www.w3.org/2018/credentials/v1',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      ],
      validFrom: undefined,
    });
    const v = await verifyJwt(await jwt({ vc: v11, iss: web, nbf: 1e20 }));
    expect(failed(v)).toContain('jwt_claims_valid');
    expect(v.ok).toBe(false);
  });

  it('exp or nbf that are not NumericDates are refused', async () => {
    for (const claims of [{ exp: '2030-01-01' }, { nbf: null }, { exp: 1e20 }]) {
      const v = await verifyJwt(await jwt({ ...credential(), ...claims }));
      expect(failed(v), JSON.stringify(claims)).toContain('jwt_claims_valid');
    }
  });
});
