// Presentations signed by the holder key, checked by verifiers that are not this service: Digital
// Bazaar's vc library for the Data Integrity form, jose for the VC-JWT form. A tampered one, or
// one offered with another challenge or domain, does not verify; a service holding the database
// but not the key-encryption key cannot sign.
import { randomBytes } from 'node:crypto';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { documentLoader as contexts } from '../../src/modules/openbadges/jsonld-loader.ts';
import { testApp } from '../support/app.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { ed25519Signer, ob3Credential, signDataIntegrity, signJwt } from '../support/credentials.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

const DID_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

/** What a verifier does for did:key on its own: the key is in the identifier. */
async function documentLoader(url: string) {
  if (url.startsWith('did:key:')) {
    const [did, fragment] = url.split('#') as [string, string | undefined];
    const multibase = did.slice('did:key:'.length);
    const vm = {
      id: `${did}#${multibase}`,
      type: 'Multikey',
      controller: did,
      publicKeyMultibase: multibase,
    };
    const document = fragment
      ? { '@context': MULTIKEY_V1, ...vm }
      : {
          '@context': [DID_V1, MULTIKEY_V1],
          id: did,
          verificationMethod: [vm],
          authentication: [vm.id],
          assertionMethod: [vm.id],
        };
    return { contextUrl: null, documentUrl: url, document };
  }
  return contexts(url);
}

const verifyLdp = (presentation: unknown, challenge: string, domain?: string) =>
  vc.verify({
    presentation: structuredClone(presentation),
    suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
    documentLoader,
    challenge,
    ...(domain ? { domain } : {}),
  });

describeEachDatabase('wallet: presentations signed by the holder key', (current) => {
  let app: FastifyInstance;
  const KEK = randomBytes(32).toString('base64');
  const issuer = ed25519Signer();
  const vm = `${issuer.didKey}#${issuer.multibase}`;
  beforeAll(async () => {
    app = await testApp(current().db, { RATE_LIMIT_MAX: '100000', HOLDER_KEY_ENCRYPTION_KEY: KEK });
  });
  afterAll(() => app.close());

  const headers = (e: TestEarner) => ({ cookie: e.session.cookie, origin: e.session.origin });
  const post = (a: FastifyInstance, e: TestEarner, url: string, payload: object) =>
    a.inject({ method: 'POST', url, headers: headers(e), payload });

  /** An earner with a holder DID, a credential issued to it (JSON-LD), one as a VC-JWT, an OB 2.0 badge, and a link to all three. */
  async function holder() {
    const earner = await createEarner(app);
    const did = (await post(app, earner, '/v1/account/holder-dids', {})).json();
    const toDid = (): Record<string, unknown> => {
      const credential = ob3Credential(issuer.didKey, 'unused@example.org');
      const { identifier: _i, ...subject } = credential.credentialSubject as Record<string, unknown>;
      return { ...credential, credentialSubject: { id: did.did, ...subject } };
    };
    const json = await post(app, earner, '/v1/badges', {
      json: await signDataIntegrity(toDid(), issuer.privateKey, vm),
    });
    expect(json.statusCode, json.body).toBe(201);
    const unsigned = toDid();
    const jwt = await signJwt(
      { ...unsigned, iss: issuer.didKey, sub: did.did, jti: unsigned.id },
      issuer.privateKey,
      {
        kid: vm,
      },
    );
    const viaJwt = await post(app, earner, '/v1/badges', { jws: jwt });
    expect(viaJwt.statusCode, viaJwt.body).toBe(201);
    const ob2 = await insertBadge(app, earner.id, { recipient: earner.addresses[0] as string });
    const ids = [json.json().id as string, viaJwt.json().id as string, ob2];
    const group = await post(app, earner, '/v1/groups', { name: 'All', badgeIds: ids });
    const link = await post(app, earner, '/v1/share-links', { groupId: group.json().id });
    expect(link.statusCode, link.body).toBe(201);
    return { earner, did, ids, jwt, shareLinkId: link.json().id as string };
  }

  it('signs one badge as a Data Integrity presentation that an independent verifier accepts, and only as made', async () => {
    const { earner, did, ids } = await holder();
    const challenge = randomBytes(16).toString('hex');
    const res = await post(app, earner, '/v1/presentations', {
      badgeId: ids[0],
      challenge,
      domain: 'verifier.example',
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      format: 'ldp_vp',
      holder: did.did,
      badgeIds: [ids[0]],
      omittedBadgeIds: [],
    });
    const vp = body.presentation;
    expect(vp.proof).toMatchObject({
      type: 'DataIntegrityProof',
      cryptosuite: 'eddsa-rdfc-2022',
      proofPurpose: 'authentication',
      verificationMethod: did.verificationMethod,
      challenge,
      domain: 'verifier.example',
    });
    const verified = await verifyLdp(vp, challenge, 'verifier.example');
    expect(verified.verified, JSON.stringify(verified, null, 1).slice(0, 3000)).toBe(true);
    // The credential inside verifies for its issuer too, and names the holder.
    expect(verified.credentialResults?.[0]?.verified).toBe(true);
    expect(vp.verifiableCredential[0].credentialSubject.id).toBe(vp.holder);

    // Tampered: another holder, another credential name, a changed proof; or another verifier's request.
    const tampered = [
      { ...vp, holder: 'did:example:someone-else' },
      { ...vp, verifiableCredential: [{ ...vp.verifiableCredential[0], name: 'Forged' }] },
      { ...vp, proof: { ...vp.proof, created: '2020-01-01T00:00:00Z' } },
    ];
    for (const t of tampered)
      expect((await verifyLdp(t, challenge, 'verifier.example')).verified).toBe(false);
    expect((await verifyLdp(vp, 'another-challenge', 'verifier.example')).verified).toBe(false);
    expect((await verifyLdp(vp, challenge, 'elsewhere.example')).verified).toBe(false);
  });

  it('signs a share link as a VC-JWT presentation that jose verifies, holding both credential forms', async () => {
    const { earner, did, ids, jwt, shareLinkId } = await holder();
    const res = await post(app, earner, '/v1/presentations', {
      shareLinkId,
      format: 'jwt_vp',
      challenge: 'n-0S6_WzA2Mj',
      domain: 'https://verifier.example',
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      format: 'jwt_vp',
      holder: did.did,
      badgeIds: ids.slice(0, 2),
      omittedBadgeIds: [ids[2]],
    });
    const key = await importJWK(did.publicKeyJwk, 'EdDSA');
    const { payload, protectedHeader } = await jwtVerify(body.jwt, key, {
      issuer: did.did,
      audience: 'https://verifier.example',
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: did.verificationMethod });
    expect(payload.nonce).toBe('n-0S6_WzA2Mj');
    const presented = (payload.vp as { verifiableCredential: unknown[] }).verifiableCredential;
    expect(presented).toHaveLength(2);
    expect(presented[1]).toBe(jwt);
    expect((presented[0] as { credentialSubject: { id: string } }).credentialSubject.id).toBe(did.did);

    const [h, p, s] = body.jwt.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(body.jwt), nonce: 'replayed' })).toString(
      'base64url',
    );
    await expect(jwtVerify(`${h}.${forged}.${s}`, key)).rejects.toThrow();
    await expect(
      jwtVerify(`${h}.${p}.${s}`, key, { audience: 'https://elsewhere.example' }),
    ).rejects.toThrow();

    // The same link as a Data Integrity presentation: the VC-JWT travels enveloped (VCDM 2.0).
    const ldp = await post(app, earner, '/v1/presentations', { shareLinkId, challenge: 'c' });
    expect(ldp.statusCode, ldp.body).toBe(200);
    const vp = ldp.json().presentation;
    expect(vp.verifiableCredential[1]).toEqual({
      '@context': 'https://www.w3.org/ns/credentials/v2',
      id: `data:application/vc+jwt,${jwt}`,
      type: 'EnvelopedVerifiableCredential',
    });
    const { verifiableCredential: _all, ...rest } = vp;
    // The presentation's own proof holds for what it signed (the verifier checks enveloped credentials apart).
    const presentationOnly = await vc.verify({
      presentation: structuredClone(vp),
      suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
      documentLoader,
      challenge: 'c',
      unsignedPresentation: false,
    });
    expect(
      presentationOnly.presentationResult?.verified,
      JSON.stringify(presentationOnly).slice(0, 2000),
    ).toBe(true);
    expect(rest.holder).toBe(did.did);
  });

  it('refuses what it cannot present, and badges and DIDs that are not mine', async () => {
    const { earner, ids } = await holder();
    const other = await createEarner(app);
    const r422 = await post(app, earner, '/v1/presentations', { badgeId: ids[2] });
    expect(r422.statusCode, r422.body).toBe(422);
    expect(r422.json().code).toBe('presentation_unavailable');
    for (const payload of [{ badgeId: ids[0] }, { shareLinkId: 'no-such-link' }]) {
      const res = await post(app, other, '/v1/presentations', payload);
      expect(res.statusCode, res.body).toBe(404);
    }
    const otherDid = (await post(app, other, '/v1/account/holder-dids', {})).json().did;
    const res = await post(app, earner, '/v1/presentations', { badgeId: ids[0], holderDid: otherDid });
    expect(res.statusCode).toBe(404);
    const both = await post(app, earner, '/v1/presentations', { badgeId: ids[0], shareLinkId: 'x' });
    expect(both.statusCode).toBe(400);
  });

  it('cannot sign with the database alone: a service without the key-encryption key answers 503', async () => {
    const { earner, ids } = await holder();
    const thief = await testApp(current().db, {
      RATE_LIMIT_MAX: '100000',
      HOLDER_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    try {
      const res = await post(thief, earner, '/v1/presentations', { badgeId: ids[0], challenge: 'c' });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().code).toBe('holder_key_unavailable');
      expect(res.body).not.toContain('proofValue');
    } finally {
      await thief.close();
    }
    // The service that holds the key still signs.
    expect(
      (await post(app, earner, '/v1/presentations', { badgeId: ids[0], challenge: 'c' })).statusCode,
    ).toBe(200);
  });
});
