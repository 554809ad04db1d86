// OB 3.0 credentials issued to one of the earner's holder DIDs are the earner's, as if awarded
// to a verified address; a DID the earner does not hold is nobody's here.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashRecipient } from '../../src/modules/openbadges/index.ts';
import { testApp } from '../support/app.ts';
import { ed25519Signer, ob3Credential, signDataIntegrity, signJwt } from '../support/credentials.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

describeEachDatabase('wallet: credentials issued to a holder DID', (current) => {
  let app: FastifyInstance;
  const issuer = ed25519Signer();
  const vm = `${issuer.didKey}#${issuer.multibase}`;
  beforeAll(async () => {
    app = await testApp(current().db, { RATE_LIMIT_MAX: '100000' });
  });
  afterAll(() => app.close());

  const headers = (e: TestEarner) => ({ cookie: e.session.cookie, origin: e.session.origin });
  const holderDid = async (e: TestEarner, method = 'did:key'): Promise<string> => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/account/holder-dids',
      headers: headers(e),
      payload: { method },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().did;
  };
  /** A credential whose subject is the DID alone (no e-mail identifier). */
  const toDid = (did: string, extra: Record<string, unknown> = {}): Record<string, unknown> => {
    const vc = ob3Credential(issuer.didKey, 'unused@example.org');
    const subject = vc.credentialSubject as Record<string, unknown>;
    const { identifier: _identifier, ...rest } = subject;
    return { ...vc, credentialSubject: { id: did, ...rest, ...extra } };
  };
  const add = (e: TestEarner, payload: object) =>
    app.inject({ method: 'POST', url: '/v1/badges', headers: headers(e), payload });

  it('stores a credential whose subject id is one of my holder DIDs, by proof and as a VC-JWT', async () => {
    const earner = await createEarner(app);
    const did = await holderDid(earner);
    const res = await add(earner, { json: await signDataIntegrity(toDid(did), issuer.privateKey, vm) });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ status: 'valid', specVersion: '3.0' });
    expect(res.json().checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'recipient_matched',
          status: 'passed',
          message: expect.stringContaining(did),
        }),
      ]),
    );
    const jwk = await holderDid(earner, 'did:jwk');
    const vc = toDid(jwk);
    const jwt = await signJwt({ ...vc, sub: jwk, iss: issuer.didKey, jti: vc.id }, issuer.privateKey, {
      kid: vm,
    });
    const viaJwt = await add(earner, { jws: jwt });
    expect(viaJwt.statusCode, viaJwt.body).toBe(201);
    expect(viaJwt.json()).toMatchObject({ status: 'valid' });
  });

  it('matches a hashed DID identifier too', async () => {
    const earner = await createEarner(app);
    const did = await holderDid(earner);
    const vc = ob3Credential(issuer.didKey, 'unused@example.org');
    const subject = vc.credentialSubject as Record<string, unknown>;
    subject.identifier = [
      {
        type: 'IdentityObject',
        identityHash: hashRecipient(did, 'sha256', 'pepper'),
        identityType: 'did',
        hashed: true,
        salt: 'pepper',
      },
    ];
    const res = await add(earner, { json: await signDataIntegrity(vc, issuer.privateKey, vm) });
    expect(res.statusCode, res.body).toBe(201);
  });

  it("refuses a credential issued to another earner's DID, or to a DID nobody here holds", async () => {
    const me = await createEarner(app);
    await holderDid(me);
    const other = await createEarner(app);
    const theirs = await holderDid(other);
    for (const did of [theirs, ed25519Signer().didKey]) {
      const res = await add(me, { json: await signDataIntegrity(toDid(did), issuer.privateKey, vm) });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().code).toBe('recipient_mismatch');
    }
    // A DID that differs only in case is another DID.
    const mine = await holderDid(me);
    const res = await add(me, {
      json: await signDataIntegrity(
        toDid(mine.toUpperCase().replace('DID:KEY:', 'did:key:')),
        issuer.privateKey,
        vm,
      ),
    });
    expect(res.statusCode).toBe(422);
    expect(await app.db.prisma.backpackItem.count({ where: { earnerId: me.id } })).toBe(0);
  });
});
