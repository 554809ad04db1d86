// Sign-in with OIDC ID tokens, verified against a real JWKS served on 127.0.0.1 by the test:
// the keys are made with jose, and the service fetches and checks them as it would a provider's.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  accountsApp,
  cookieFrom,
  expectProblem,
  ORIGIN,
  signInByEmail,
  uniqueAddress,
} from '../support/accounts.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { findTraces, rowCounts } from '../support/table-walk.ts';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'backpack-front-end';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface Keys {
  rs: Key;
  es: Key;
  ed: Key;
  stranger: Key;
}

async function serveJwks(): Promise<{ server: Server; url: string; keys: Keys }> {
  const rs = await generateKeyPair('RS256', { extractable: true });
  const es = await generateKeyPair('ES256', { extractable: true });
  const ed = await generateKeyPair('EdDSA', { extractable: true });
  const stranger = await generateKeyPair('RS256', { extractable: true });
  const jwk = async (key: Key, kid: string, alg: string): Promise<JWK> => ({
    ...(await exportJWK(key)),
    kid,
    alg,
    use: 'sig',
  });
  const jwks = {
    keys: [
      await jwk(rs.publicKey, 'rs-1', 'RS256'),
      await jwk(es.publicKey, 'es-1', 'ES256'),
      await jwk(ed.publicKey, 'ed-1', 'EdDSA'),
    ],
  };
  const server = createServer((req, res) => {
    if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}/jwks`,
    keys: { rs: rs.privateKey, es: es.privateKey, ed: ed.privateKey, stranger: stranger.privateKey },
  };
}

interface TokenOptions {
  key?: Key;
  alg?: string;
  kid?: string;
  claims?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
  expiresIn?: string | number;
}

describeEachDatabase('accounts: sign-in with an OIDC ID token', (current) => {
  let app: FastifyInstance;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;

  beforeAll(async () => {
    jwks = await serveJwks();
    app = await accountsApp(current().db, {
      SIGN_IN_RATE_LIMIT_MAX: '1000',
      OIDC_PROVIDERS: JSON.stringify([
        { name: 'test-idp', issuer: ISSUER, jwksUri: jwks.url, audiences: [AUDIENCE, 'other-client'] },
        {
          name: 'down-idp',
          issuer: 'https://down.test',
          jwksUri: 'http://127.0.0.1:9/jwks',
          audiences: [AUDIENCE],
        },
        {
          name: 'broken-idp',
          issuer: 'https://broken.test',
          jwksUri: `${jwks.url}-gone`,
          audiences: [AUDIENCE],
        },
      ]),
    });
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => jwks?.server.close(resolve));
  });

  async function idToken(email: string, o: TokenOptions = {}): Promise<string> {
    const alg = o.alg ?? 'RS256';
    const kid = o.kid ?? { RS256: 'rs-1', ES256: 'es-1', EdDSA: 'ed-1' }[alg] ?? 'rs-1';
    const key = o.key ?? (alg === 'ES256' ? jwks.keys.es : alg === 'EdDSA' ? jwks.keys.ed : jwks.keys.rs);
    return new SignJWT({ email, email_verified: true, ...o.claims })
      .setProtectedHeader({ alg, kid })
      .setIssuer(o.issuer ?? ISSUER)
      .setAudience(o.audience ?? AUDIENCE)
      .setSubject(`sub-${email}`)
      .setIssuedAt()
      .setExpirationTime(o.expiresIn ?? '5m')
      .sign(key);
  }

  const signIn = (payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/v1/auth/oidc-sign-ins', headers: { origin: ORIGIN }, payload });

  it('lists the configured providers', async () => {
    const res = await app.inject({ url: '/v1/auth/oidc-providers' });
    expect(res.json()).toEqual({
      items: [
        { name: 'test-idp', issuer: ISSUER },
        { name: 'down-idp', issuer: 'https://down.test' },
        { name: 'broken-idp', issuer: 'https://broken.test' },
      ],
    });
  });

  it('creates an account from a verified e-mail and starts a session', async () => {
    const email = uniqueAddress('oidc');
    const res = await signIn({ provider: 'test-idp', idToken: await idToken(email.toUpperCase()), age: 21 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      accountCreated: true,
      session: { method: 'oidc:test-idp', current: true },
    });
    const cookie = res.cookies.find((c) => c.name === app.services.accounts.cookieName);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    const profile = await app.inject({
      url: '/v1/profile',
      headers: { cookie: cookieFrom(res, app.services.accounts.cookieName) },
    });
    expect(profile.json().addresses).toEqual([
      expect.objectContaining({ email, verified: true, primary: true }),
    ]);
  });

  it('signs in to the account that verified the address by e-mail link, with each allowed algorithm', async () => {
    const earner = await signInByEmail(app);
    for (const alg of ['RS256', 'ES256', 'EdDSA']) {
      const res = await signIn({ provider: 'test-idp', idToken: await idToken(earner.address, { alg }) });
      expect(res.statusCode, `${alg}: ${res.body}`).toBe(200);
      expect(res.json().accountCreated).toBe(false);
    }
    const sessions = await app.inject({ url: '/v1/sessions', headers: earner.headers });
    expect(
      sessions
        .json()
        .items.map((s: { method: string }) => s.method)
        .sort(),
    ).toEqual(['email', 'oidc:test-idp', 'oidc:test-idp', 'oidc:test-idp']);
  });

  it('accepts any of the configured audiences', async () => {
    const earner = await signInByEmail(app);
    const res = await signIn({
      provider: 'test-idp',
      idToken: await idToken(earner.address, { audience: 'other-client' }),
    });
    expect(res.statusCode).toBe(200);
  });

  it('refuses forged, expired and foreign tokens with a precise code, changing nothing', async () => {
    const earner = await signInByEmail(app);
    const email = earner.address;
    const good = await idToken(email);
    const [header, payload, signature] = good.split('.');
    const otherPayload = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()),
        email: 'someone@else.example',
      }),
    ).toString('base64url');
    const hmac = await new SignJWT({ email, email_verified: true })
      .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('x')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256'));
    const none = new UnsecuredJWT({ email, email_verified: true })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('x')
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    const cases: [string, string, number, string][] = [
      ['wrong issuer', await idToken(email, { issuer: 'https://evil.example' }), 401, 'id_token_invalid'],
      ['wrong audience', await idToken(email, { audience: 'someone-else' }), 401, 'id_token_invalid'],
      [
        'expired',
        await idToken(email, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }),
        401,
        'id_token_expired',
      ],
      ['tampered payload', `${header}.${otherPayload}.${signature}`, 401, 'id_token_invalid'],
      [
        'unknown key',
        await idToken(email, { key: jwks.keys.stranger, kid: 'rs-2' }),
        401,
        'id_token_invalid',
      ],
      [
        'wrong key under a known kid',
        await idToken(email, { key: jwks.keys.stranger }),
        401,
        'id_token_invalid',
      ],
      ['alg none', none, 401, 'id_token_invalid'],
      ['HMAC', hmac, 401, 'id_token_invalid'],
      ['not a JWT', 'not.a.jwt', 401, 'id_token_invalid'],
      [
        'unverified e-mail',
        await idToken(email, { claims: { email_verified: false } }),
        403,
        'email_not_verified',
      ],
      [
        'e-mail verified as a string',
        await idToken(email, { claims: { email_verified: 'true' } }),
        403,
        'email_not_verified',
      ],
      ['no e-mail', await idToken(email, { claims: { email: undefined } }), 401, 'id_token_invalid'],
    ];
    const before = await rowCounts(current().db);
    for (const [what, token, status, code] of cases) {
      const res = await signIn({ provider: 'test-idp', idToken: token, age: 30 });
      expect(res.statusCode, `${what}: ${res.body}`).toBe(status);
      expect(res.json().code, what).toBe(code);
      expect(res.cookies, what).toEqual([]);
    }
    expectProblem(await signIn({ provider: 'nobody', idToken: good, age: 30 }), 400, 'oidc_provider_unknown');
    expectProblem(await signIn({ provider: 'test-idp', idToken: good, extra: 1 }), 400, 'validation_failed');
    expect(await rowCounts(current().db)).toEqual(before);
  });

  it('asks for the age of a new earner, and keeps nothing about a child', async () => {
    const email = uniqueAddress('kid');
    const token = await idToken(email);
    const before = await rowCounts(current().db);
    expectProblem(await signIn({ provider: 'test-idp', idToken: token }), 400, 'age_required');
    expectProblem(await signIn({ provider: 'test-idp', idToken: token, age: 12 }), 403, 'under_minimum_age');
    expect(await rowCounts(current().db)).toEqual(before);
    expect(await findTraces(current().db, [email])).toEqual([]);
  });

  it('lets an ID token sign in once: a replay, with or without a jti, is refused until it expires', async () => {
    const earner = await signInByEmail(app);
    for (const claims of [{ jti: `jti-${Date.now()}` }, {}]) {
      const token = await idToken(earner.address, { claims });
      expect((await signIn({ provider: 'test-idp', idToken: token })).statusCode).toBe(200);
      const before = await rowCounts(current().db);
      const replay = await signIn({ provider: 'test-idp', idToken: token });
      expectProblem(replay, 401, 'id_token_replayed');
      expect(replay.cookies).toEqual([]);
      expect(await rowCounts(current().db)).toEqual(before);
    }
    // Another token with the same jti is the same token to the provider.
    const jti = `shared-${Date.now()}`;
    expect(
      (await signIn({ provider: 'test-idp', idToken: await idToken(earner.address, { claims: { jti } }) }))
        .statusCode,
    ).toBe(200);
    expectProblem(
      await signIn({
        provider: 'test-idp',
        idToken: await idToken(earner.address, { claims: { jti }, alg: 'ES256' }),
      }),
      401,
      'id_token_replayed',
    );
  });

  it('spends an ID token only when it signs in: the age question leaves it usable', async () => {
    const token = await idToken(uniqueAddress('oidc-age'), { claims: { jti: `age-${Date.now()}` } });
    expectProblem(await signIn({ provider: 'test-idp', idToken: token }), 400, 'age_required');
    expect((await signIn({ provider: 'test-idp', idToken: token, age: 30 })).statusCode).toBe(200);
    expectProblem(await signIn({ provider: 'test-idp', idToken: token, age: 30 }), 401, 'id_token_replayed');
  });

  it('answers 503 when the provider’s keys cannot be fetched', async () => {
    const token = await idToken(uniqueAddress(), { issuer: 'https://down.test' });
    expectProblem(
      await signIn({ provider: 'down-idp', idToken: token, age: 30 }),
      503,
      'identity_provider_unavailable',
    );
    const broken = await idToken(uniqueAddress(), { issuer: 'https://broken.test' });
    expectProblem(
      await signIn({ provider: 'broken-idp', idToken: broken, age: 30 }),
      503,
      'identity_provider_unavailable',
    );
  });

  it('refuses a cross-site post of an ID token', async () => {
    const earner = await signInByEmail(app);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/auth/oidc-sign-ins',
      headers: { origin: 'https://evil.example' },
      payload: { provider: 'test-idp', idToken: await idToken(earner.address) },
    });
    expectProblem(res, 403, 'cross_site_request');
    expect(res.cookies).toEqual([]);
  });
});
