// Holder DIDs through HTTP: made on demand, listed and exported by public key only, sealed at
// rest so that the database alone holds no usable private key, and gone with the account.
import { createPublicKey, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { base58btcDecode } from '../../src/modules/openbadges/index.ts';
import { openSecret } from '../../src/modules/wallet/envelope.ts';
import { accountsApp, expectProblem, signInByEmail } from '../support/accounts.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { findTraces } from '../support/table-walk.ts';

const KEK = randomBytes(32);

describeEachDatabase('wallet: holder DIDs', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await accountsApp(current().db, {
      SIGN_IN_RATE_LIMIT_MAX: '1000',
      HOLDER_KEY_ENCRYPTION_KEY: KEK.toString('base64'),
    });
  });
  afterAll(() => app.close());

  const create = (headers: Record<string, string>, payload: object = {}) =>
    app.inject({ method: 'POST', url: '/v1/account/holder-dids', headers, payload });

  it('makes did:key and did:jwk DIDs naming the same kind of Ed25519 public key', async () => {
    const me = await signInByEmail(app);
    expect((await app.inject({ url: '/v1/account/holder-dids', headers: me.headers })).json()).toEqual({
      items: [],
    });
    const key = await create(me.headers);
    expect(key.statusCode, key.body).toBe(201);
    const k = key.json();
    expect(k.method).toBe('did:key');
    expect(k.did).toBe(`did:key:${k.publicKeyMultibase}`);
    expect(k.verificationMethod).toBe(`${k.did}#${k.publicKeyMultibase}`);
    const multikey = base58btcDecode(k.publicKeyMultibase.slice(1)) as Uint8Array;
    expect([...multikey.subarray(0, 2)]).toEqual([0xed, 0x01]);
    expect(Buffer.from(multikey.subarray(2)).toString('base64url')).toBe(k.publicKeyJwk.x);
    expect(createPublicKey({ key: k.publicKeyJwk, format: 'jwk' }).asymmetricKeyType).toBe('ed25519');

    const jwk = await create(me.headers, { method: 'did:jwk' });
    expect(jwk.statusCode, jwk.body).toBe(201);
    const j = jwk.json();
    expect(JSON.parse(Buffer.from(j.did.slice('did:jwk:'.length), 'base64url').toString())).toEqual(
      j.publicKeyJwk,
    );
    expect(j.verificationMethod).toBe(`${j.did}#0`);
    const list = (await app.inject({ url: '/v1/account/holder-dids', headers: me.headers })).json();
    expect(list.items.map((i: { did: string }) => i.did)).toEqual([k.did, j.did]);
    expectProblem(await create(me.headers, { method: 'did:web' }), 400, 'validation_failed');
  });

  it('keeps no usable private key in the database, and the export shows public keys only', async () => {
    const me = await signInByEmail(app);
    const did = (await create(me.headers)).json();
    const rows = await current().db.prisma.holderKey.findMany({ where: { did: did.did } });
    expect(rows).toHaveLength(1);
    const row = rows[0] as (typeof rows)[number];
    // With the key-encryption key (which the database does not hold) the private key opens...
    const pkcs8 = openSecret(
      KEK,
      { kekId: row.kekId, wrappedDataKey: row.wrappedDataKey, sealedSecret: row.sealedPrivateKey },
      row.did,
    );
    const seed = pkcs8.subarray(pkcs8.length - 32);
    // ...and it is the key of the DID.
    const { createPrivateKey } = await import('node:crypto');
    const publicJwk = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
      format: 'jwk',
    });
    expect(publicJwk.x).toBe(did.publicKeyJwk.x);
    // Nowhere in any table, in any usual encoding, is that key.
    const needles = [seed, pkcs8].flatMap((b) => [
      b.toString('hex'),
      b.toString('base64'),
      b.toString('base64url'),
      b.toString('latin1'),
    ]);
    expect(await findTraces(current().db, needles)).toEqual([]);
    // Without it, nothing opens.
    expect(() =>
      openSecret(
        randomBytes(32),
        { kekId: row.kekId, wrappedDataKey: row.wrappedDataKey, sealedSecret: row.sealedPrivateKey },
        row.did,
      ),
    ).toThrow();

    const exported = await app.inject({ url: '/v1/account/export', headers: me.headers });
    expect(exported.statusCode).toBe(200);
    expect(exported.json().sections.holderDids).toEqual([
      {
        did: did.did,
        method: 'did:key',
        verificationMethod: did.verificationMethod,
        publicKeyMultibase: did.publicKeyMultibase,
        createdAt: did.createdAt,
      },
    ]);
    for (const needle of [...needles, row.wrappedDataKey, row.sealedPrivateKey]) {
      expect(exported.body).not.toContain(needle);
    }
  });

  it('holds at most ten DIDs per account', async () => {
    const me = await signInByEmail(app);
    for (let i = 0; i < 10; i += 1) expect((await create(me.headers)).statusCode).toBe(201);
    expectProblem(await create(me.headers), 409, 'limit_reached');
  });

  it('destroys the keys with the account', async () => {
    const me = await signInByEmail(app);
    const a = (await create(me.headers)).json();
    const b = (await create(me.headers, { method: 'did:jwk' })).json();
    const rows = await current().db.prisma.holderKey.findMany({ where: { did: { in: [a.did, b.did] } } });
    expect(rows).toHaveLength(2);
    const res = await app.inject({ method: 'DELETE', url: '/v1/account', headers: me.headers });
    expect(res.statusCode).toBe(204);
    const needles = rows.flatMap((r) => [r.did, r.publicKeyMultibase, r.wrappedDataKey, r.sealedPrivateKey]);
    expect(await findTraces(current().db, needles)).toEqual([]);
  });
});
