import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../support/app.ts';
import { ed25519Signer, ob3Credential, signDataIntegrity, signJwt } from '../support/credentials.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

// A did:web issuer and an issuer whose id is a URL, on a local host (reachable over http only
// because DID_WEB_HTTP_HOSTS lists it), and a forger who names them while signing with keys of its own.
describeEachDatabase('badges: only keys the issuer vouches for', (current) => {
  let app: FastifyInstance;
  let host: Server;
  let did = '';
  let profile = '';
  const issuer = ed25519Signer();
  const forger = ed25519Signer();

  beforeAll(async () => {
    host = createServer((req, res) => {
      // The same host also serves an issuer whose id is a URL: its profile lists its key.
      const id = req.url === '/issuer' ? profile : did;
      if (req.url !== '/.well-known/did.json' && req.url !== '/issuer') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/did+json' });
      res.end(
        JSON.stringify({
          '@context': 'https://www.w3.org/ns/did/v1',
          id,
          verificationMethod: [
            { id: `${id}#key-1`, type: 'Multikey', controller: id, publicKeyMultibase: issuer.multibase },
          ],
          assertionMethod: [`${id}#key-1`],
        }),
      );
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const hostPort = `127.0.0.1:${(host.address() as AddressInfo).port}`;
    did = `did:web:${hostPort.replace(':', '%3A')}`;
    profile = `http://${hostPort}/issuer`;
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: hostPort,
      DID_WEB_HTTP_HOSTS: hostPort,
      FETCH_TIMEOUT_MS: '3000',
      RATE_LIMIT_MAX: '100000',
    });
  });
  afterAll(async () => {
    await app.close();
    host.closeAllConnections();
    await new Promise<void>((resolve) => host.close(() => resolve()));
  });

  const add = (e: TestEarner, payload: object) =>
    app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: { cookie: e.session.cookie, origin: e.session.origin },
      payload,
    });
  const count = (e: TestEarner) => app.db.prisma.backpackItem.count({ where: { earnerId: e.id } });
  const check = (body: { checks: { code: string; status: string }[] }, code: string) =>
    body.checks.find((c) => c.code === code)?.status;

  it("stores credentials signed with the key the issuer's DID document or profile lists, as valid", async () => {
    const earner = await createEarner(app);
    const recipient = earner.addresses[0] as string;
    const json = await signDataIntegrity(ob3Credential(did, recipient), issuer.privateKey, `${did}#key-1`);
    const res = await add(earner, { json });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ status: 'valid', specVersion: '3.0', issuer: { id: did } });
    expect(check(res.json(), 'key_owned_by_issuer')).toBe('passed');
    const jwt = await signJwt(ob3Credential(did, recipient), issuer.privateKey, { kid: `${did}#key-1` });
    const viaJwt = await add(earner, { jws: jwt });
    expect(viaJwt.statusCode, viaJwt.body).toBe(201);
    expect(viaJwt.json()).toMatchObject({ status: 'valid', original: { format: 'vc-jwt' } });
    const fromProfile = await signDataIntegrity(
      ob3Credential(profile, recipient),
      issuer.privateKey,
      `${profile}#key-1`,
    );
    const viaProfile = await add(earner, { json: fromProfile });
    expect(viaProfile.statusCode, viaProfile.body).toBe(201);
    expect(viaProfile.json()).toMatchObject({ status: 'valid', issuer: { id: profile } });
    expect(await count(earner)).toBe(3);
  });

  it("refuses credentials naming the URL issuer but signed with the forger's did:key, by proof and by token", async () => {
    const earner = await createEarner(app);
    const vc = ob3Credential(profile, earner.addresses[0] as string);
    const proof = await signDataIntegrity(vc, forger.privateKey, `${forger.didKey}#${forger.multibase}`);
    const token = await signJwt(vc, forger.privateKey, { kid: forger.didKey });
    for (const payload of [{ json: proof }, { jws: token }]) {
      const res = await add(earner, payload);
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'badge_invalid' });
      expect(check(res.json(), 'key_owned_by_issuer')).toBe('failed');
    }
    expect(await count(earner)).toBe(0);
  });

  it("refuses a Data Integrity credential naming the did:web issuer but signed with the forger's did:key", async () => {
    const earner = await createEarner(app);
    const vm = `${forger.didKey}#${forger.multibase}`;
    const json = await signDataIntegrity(
      ob3Credential(did, earner.addresses[0] as string),
      forger.privateKey,
      vm,
    );
    const res = await add(earner, { json });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'badge_invalid' });
    expect(check(res.json(), 'key_owned_by_issuer')).toBe('failed');
    const fragment = await signDataIntegrity(
      ob3Credential(did, earner.addresses[0] as string),
      forger.privateKey,
      `${did}#${forger.multibase}`,
    );
    expect((await add(earner, { json: fragment })).statusCode).toBe(422);
    expect(await count(earner)).toBe(0);
  });

  it("refuses VC-JWTs naming the did:web issuer with the forger's did:key as kid or key in the header", async () => {
    const earner = await createEarner(app);
    const vc = ob3Credential(did, earner.addresses[0] as string);
    for (const header of [{ kid: forger.didKey }, { jwk: forger.jwk }]) {
      const res = await add(earner, { jws: await signJwt(vc, forger.privateKey, header) });
      expect(res.statusCode, JSON.stringify(header)).toBe(422);
      expect(res.json()).toMatchObject({ code: 'badge_invalid' });
      expect(check(res.json(), 'key_owned_by_issuer')).toBe('failed');
    }
    const unsecured = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(vc)).toString('base64url')}.`;
    const none = await add(earner, { jws: unsecured });
    expect(none.statusCode).toBe(422);
    expect(check(none.json(), 'signature_algorithm_refused')).toBe('failed');
    expect(await count(earner)).toBe(0);
  });
});
