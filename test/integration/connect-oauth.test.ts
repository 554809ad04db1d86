// The authorization server through a real OAuth client library (oauth4webapi) on a loopback
// port: registration, consent, code + PKCE, refresh rotation, revocation, and the errors the
// RFCs name for each misuse.
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../../src/modules/connect/index.ts';
import {
  authorizationUrl,
  type ConnectServer,
  connectPlatform,
  consent,
  formFields,
  insecure,
  registerPlatform,
  startConnectServer,
} from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

const CREATE = SCOPES.assertionCreate;
const READ = SCOPES.assertionReadonly;

async function tokenRequest(server: ConnectServer, body: Record<string, string>, basic?: string) {
  const res = await fetch(`${server.base}/v1/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(basic ? { authorization: `Basic ${basic}` } : {}),
    },
    body: new URLSearchParams(body).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

function basicOf(id: string, secret: string): string {
  return Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

async function count(server: ConnectServer) {
  const p = server.app.db.prisma;
  return {
    grants: await p.connectGrant.count(),
    tokens: await p.connectToken.count(),
    codes: await p.connectAuthCode.count(),
    clients: await p.connectClient.count(),
  };
}

describeEachDatabase('connect: OAuth authorization server', (current) => {
  let server: ConnectServer;
  beforeAll(async () => {
    server = await startConnectServer(current().db);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('publishes RFC 8414 metadata naming its own endpoints, PKCE S256 only', async () => {
    expect(server.as.issuer).toBe(server.base);
    expect(server.as.code_challenge_methods_supported).toEqual(['S256']);
    expect(server.as.registration_endpoint).toBe(`${server.base}/v1/oauth/clients`);
    expect(server.as.scopes_supported).toContain(CREATE);
  });

  it('registers, shows the consent page, exchanges a code, refreshes with rotation and revokes', async () => {
    const earner = await createEarner(server.app);
    const platform = await registerPlatform(server, `${CREATE} ${READ}`);
    const auth = await authorizationUrl(server, platform, CREATE);

    const page = await fetch(auth.url, { headers: { cookie: earner.session.cookie }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('script-src');
    const html = await page.text();
    expect(html).toContain('Test Issuer Platform');
    expect(html).toContain('https://issuer.example');
    expect(html).toContain('Add badges to your backpack');
    expect(html).not.toContain('<script');

    const fields = formFields(html, 'approve');
    const posted = await fetch(`${server.base}/v1/oauth/authorize`, {
      method: 'POST',
      headers: {
        cookie: earner.session.cookie,
        origin: server.base,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    expect(posted.status).toBe(303);
    const callback = new URL(posted.headers.get('location') as string);
    expect(callback.searchParams.get('state')).toBe(auth.state);
    const params = oauth.validateAuthResponse(server.as, platform.client, callback, auth.state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      server.as,
      platform.client,
      await oauth.authorizationCodeGrantRequest(
        server.as,
        platform.client,
        platform.auth,
        params,
        platform.redirectUri,
        auth.verifier,
        insecure,
      ),
    );
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe(CREATE);
    expect(tokens.expires_in).toBe(3600);
    // Hashed at rest: the table never holds the secret.
    const rows = await server.app.db.prisma.connectToken.findMany({ select: { tokenHash: true } });
    expect(rows.some((r) => r.tokenHash === tokens.access_token)).toBe(false);

    const listed = await server.app.inject({
      method: 'GET',
      url: '/v1/connected-issuers',
      headers: { cookie: earner.session.cookie },
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items).toEqual([
      expect.objectContaining({
        clientId: platform.client.client_id,
        name: 'Test Issuer Platform',
        scopes: [{ scope: CREATE, description: 'Add badges to your backpack' }],
      }),
    ]);

    // Refresh rotates; the old refresh token is then spent.
    const refreshed = await oauth.processRefreshTokenResponse(
      server.as,
      platform.client,
      await oauth.refreshTokenGrantRequest(
        server.as,
        platform.client,
        platform.auth,
        tokens.refresh_token as string,
        insecure,
      ),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.access_token).not.toBe(tokens.access_token);

    // Revoking the refresh token takes its family with it.
    const revoked = await oauth.revocationRequest(
      server.as,
      platform.client,
      platform.auth,
      refreshed.refresh_token as string,
      insecure,
    );
    await oauth.processRevocationResponse(revoked);
    const after = await tokenRequest(
      server,
      { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token as string },
      basicOf(platform.client.client_id, platform.secret),
    );
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_grant');
    const left = await server.app.db.prisma.connectToken.count({
      where: { grant: { earnerId: earner.id }, rotatedAt: null },
    });
    expect(left).toBe(0);
  });

  it('refuses a replayed refresh token and revokes its whole family', async () => {
    const earner = await createEarner(server.app);
    const { platform, tokens } = await connectPlatform(server, earner, CREATE);
    const basic = basicOf(platform.client.client_id, platform.secret);
    const first = await tokenRequest(
      server,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
      basic,
    );
    expect(first.status).toBe(200);
    const replay = await tokenRequest(
      server,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
      basic,
    );
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // The legitimate holder's new refresh token died with the family.
    const next = await tokenRequest(
      server,
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string },
      basic,
    );
    expect(next.body.error).toBe('invalid_grant');
    expect(await server.app.db.prisma.connectToken.count({ where: { grant: { earnerId: earner.id } } })).toBe(
      0,
    );
  });

  it('lets one of several concurrent uses of a refresh token through at most, and then none', async () => {
    const earner = await createEarner(server.app);
    const { platform, tokens } = await connectPlatform(server, earner, CREATE);
    const basic = basicOf(platform.client.client_id, platform.secret);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        tokenRequest(
          server,
          { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
          basic,
        ),
      ),
    );
    expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(1);
    expect(await server.app.db.prisma.connectToken.count({ where: { grant: { earnerId: earner.id } } })).toBe(
      0,
    );
  });

  it('refuses a wrong or missing PKCE verifier, and the code is spent', async () => {
    const earner = await createEarner(server.app);
    const platform = await registerPlatform(server, CREATE);
    const basic = basicOf(platform.client.client_id, platform.secret);
    const auth = await authorizationUrl(server, platform, CREATE);
    const code = (await consent(server, earner, auth)).searchParams.get('code') as string;
    const before = await count(server);

    const missing = await tokenRequest(
      server,
      { grant_type: 'authorization_code', code, redirect_uri: platform.redirectUri },
      basic,
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');

    const wrong = await tokenRequest(
      server,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: platform.redirectUri,
        code_verifier: oauth.generateRandomCodeVerifier(),
      },
      basic,
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const right = await tokenRequest(
      server,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: platform.redirectUri,
        code_verifier: auth.verifier,
      },
      basic,
    );
    expect(right.body.error).toBe('invalid_grant');
    expect((await count(server)).tokens).toBe(before.tokens);
  });

  it('refuses a reused code and revokes the tokens issued from it', async () => {
    const earner = await createEarner(server.app);
    const platform = await registerPlatform(server, CREATE);
    const basic = basicOf(platform.client.client_id, platform.secret);
    const auth = await authorizationUrl(server, platform, CREATE);
    const code = (await consent(server, earner, auth)).searchParams.get('code') as string;
    const body = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: platform.redirectUri,
      code_verifier: auth.verifier,
    };
    const first = await tokenRequest(server, body, basic);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const again = await tokenRequest(server, body, basic);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    const refresh = await tokenRequest(
      server,
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string },
      basic,
    );
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('redeems a code once even when it is presented concurrently', async () => {
    const earner = await createEarner(server.app);
    const platform = await registerPlatform(server, CREATE);
    const auth = await authorizationUrl(server, platform, CREATE);
    const code = (await consent(server, earner, auth)).searchParams.get('code') as string;
    const body = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: platform.redirectUri,
      code_verifier: auth.verifier,
    };
    const basic = basicOf(platform.client.client_id, platform.secret);
    const answers = await Promise.all(Array.from({ length: 6 }, () => tokenRequest(server, body, basic)));
    expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(1);
    expect(answers.filter((a) => a.body.error === 'invalid_grant').length).toBeGreaterThanOrEqual(5);
    // The replays revoked whatever the one redemption received.
    expect(await server.app.db.prisma.connectToken.count({ where: { grant: { earnerId: earner.id } } })).toBe(
      0,
    );
  });

  it('refuses a redirect URI that differs from the authorization request, and an expired code', async () => {
    const earner = await createEarner(server.app);
    const platform = await registerPlatform(server, CREATE, {
      redirect_uris: ['http://127.0.0.1:9/callback', 'http://127.0.0.1:9/other'],
    });
    const basic = basicOf(platform.client.client_id, platform.secret);
    const auth = await authorizationUrl(server, platform, CREATE);
    const code = (await consent(server, earner, auth)).searchParams.get('code') as string;
    const mismatch = await tokenRequest(
      server,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'http://127.0.0.1:9/other',
        code_verifier: auth.verifier,
      },
      basic,
    );
    expect(mismatch.body.error).toBe('invalid_grant');

    const auth2 = await authorizationUrl(server, platform, CREATE);
    const code2 = (await consent(server, earner, auth2)).searchParams.get('code') as string;
    server.clock.advance(61_000);
    const expired = await tokenRequest(
      server,
      {
        grant_type: 'authorization_code',
        code: code2,
        redirect_uri: platform.redirectUri,
        code_verifier: auth2.verifier,
      },
      basic,
    );
    expect(expired.body.error).toBe('invalid_grant');
  });

  it('answers invalid_client for a bad secret or another client, and unsupported_grant_type', async () => {
    const earner = await createEarner(server.app);
    const platform = await registerPlatform(server, CREATE);
    const other = await registerPlatform(server, CREATE);
    const auth = await authorizationUrl(server, platform, CREATE);
    const code = (await consent(server, earner, auth)).searchParams.get('code') as string;
    const body = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: platform.redirectUri,
      code_verifier: auth.verifier,
    };

    const bad = await tokenRequest(server, body, basicOf(platform.client.client_id, 'not-the-secret'));
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('invalid_client');
    expect(bad.headers.get('www-authenticate')).toMatch(/^Basic/);
    const none = await tokenRequest(server, body);
    expect(none.status).toBe(401);

    const stolen = await tokenRequest(server, body, basicOf(other.client.client_id, other.secret));
    expect(stolen.body.error).toBe('invalid_grant');

    const grant = await tokenRequest(
      server,
      { grant_type: 'password' },
      basicOf(platform.client.client_id, platform.secret),
    );
    expect(grant.body.error).toBe('unsupported_grant_type');

    // client_secret_post works too.
    const auth2 = await authorizationUrl(server, platform, CREATE);
    const code2 = (await consent(server, earner, auth2)).searchParams.get('code') as string;
    const posted = await tokenRequest(server, {
      grant_type: 'authorization_code',
      code: code2,
      redirect_uri: platform.redirectUri,
      code_verifier: auth2.verifier,
      client_id: platform.client.client_id,
      client_secret: platform.secret,
    });
    expect(posted.status).toBe(200);
  });

  it('sends errors back to the redirect URI with state, and never to an unregistered one', async () => {
    const earner = await createEarner(server.app);
    const platform = await registerPlatform(server, CREATE);
    const get = (url: URL) => fetch(url, { headers: { cookie: earner.session.cookie }, redirect: 'manual' });

    const extra = await authorizationUrl(server, platform, CREATE, { prompt: 'consent', nonce: 'n' });
    expect((await get(extra.url)).status).toBe(200);

    const plain = await authorizationUrl(server, platform, CREATE, { code_challenge_method: 'plain' });
    const r1 = await get(plain.url);
    expect(r1.status).toBe(302);
    const l1 = new URL(r1.headers.get('location') as string);
    expect(l1.searchParams.get('error')).toBe('invalid_request');
    expect(l1.searchParams.get('state')).toBe(plain.state);

    const noPkce = await authorizationUrl(server, platform, CREATE);
    noPkce.url.searchParams.delete('code_challenge');
    expect(new URL((await get(noPkce.url)).headers.get('location') as string).searchParams.get('error')).toBe(
      'invalid_request',
    );

    const scope = await authorizationUrl(server, platform, READ);
    expect(new URL((await get(scope.url)).headers.get('location') as string).searchParams.get('error')).toBe(
      'invalid_scope',
    );

    const elsewhere = await authorizationUrl(server, platform, CREATE, {
      redirect_uri: 'https://evil.example/cb',
    });
    const r2 = await get(elsewhere.url);
    expect(r2.status).toBe(400);
    expect(r2.headers.get('location')).toBeNull();
    expect(r2.headers.get('content-type')).toMatch(/^text\/html/);

    const denied = await authorizationUrl(server, platform, CREATE);
    const back = await consent(server, earner, denied, 'deny');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe(denied.state);
    expect(back.searchParams.get('code')).toBeNull();
    expect(await server.app.db.prisma.connectGrant.count({ where: { earnerId: earner.id } })).toBe(0);
  });

  it('asks a visitor without a session to sign in, and refuses forged or cross-site decisions', async () => {
    const earner = await createEarner(server.app);
    const intruder = await createEarner(server.app);
    const platform = await registerPlatform(server, CREATE);
    const auth = await authorizationUrl(server, platform, CREATE);

    const anonymous = await fetch(auth.url, { redirect: 'manual' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain('href="http://127.0.0.1:');

    const page = await fetch(auth.url, { headers: { cookie: earner.session.cookie } });
    const fields = formFields(await page.text(), 'approve');
    const post = (headers: Record<string, string>, body: Record<string, string>) =>
      fetch(`${server.base}/v1/oauth/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(body).toString(),
        redirect: 'manual',
      });
    const crossSite = await post({ cookie: earner.session.cookie, origin: 'https://evil.example' }, fields);
    expect(crossSite.status).toBe(403);
    const otherSession = await post({ cookie: intruder.session.cookie, origin: server.base }, fields);
    expect(otherSession.status).toBe(400);
    const forged = await post(
      { cookie: earner.session.cookie, origin: server.base },
      { ...fields, csrf_token: 'A'.repeat(43) },
    );
    expect(forged.status).toBe(400);
    expect(await server.app.db.prisma.connectGrant.count({ where: { earnerId: earner.id } })).toBe(0);
    expect(
      await server.app.db.prisma.connectAuthCode.count({ where: { grant: { earnerId: earner.id } } }),
    ).toBe(0);
  });

  it('registers only https or loopback redirect URIs and complete metadata, ignoring unknown fields (RFC 7591)', async () => {
    const before = await count(server);
    const register = (body: Record<string, unknown>) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/oauth/clients',
        payload: {
          client_name: 'X',
          client_uri: 'https://x.example',
          software_id: 'x',
          software_version: '1',
          scope: CREATE,
          redirect_uris: ['https://x.example/cb'],
          ...body,
        },
      });
    const http = await register({ redirect_uris: ['http://x.example/cb'] });
    expect(http.statusCode).toBe(400);
    expect(http.json().error).toBe('invalid_redirect_uri');
    const fragment = await register({ redirect_uris: ['https://x.example/cb#frag'] });
    expect(fragment.json().error).toBe('invalid_redirect_uri');
    const missing = await register({ client_name: undefined });
    expect(missing.json().error).toBe('invalid_client_metadata');
    const scope = await register({ scope: 'everything' });
    expect(scope.json().error).toBe('invalid_client_metadata');
    const script = await register({ client_uri: 'javascript:alert(1)' });
    expect(script.json().error).toBe('invalid_client_metadata');
    expect((await count(server)).clients).toBe(before.clients);
    // RFC 7591 section 2: metadata the server does not understand is ignored, not refused.
    const ok = await register({
      redirect_uris: ['http://localhost:8080/cb', 'https://x.example/cb'],
      colour: 'red',
      software_id: undefined,
      software_version: undefined,
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().client_secret).toEqual(expect.any(String));
    expect(ok.json()).not.toHaveProperty('colour');
    expect(ok.json()).not.toHaveProperty('software_id');
  });

  it('takes forms only on its own endpoints, and JSON nowhere there', async () => {
    const json = await server.app.inject({
      method: 'POST',
      url: '/v1/oauth/token',
      payload: { grant_type: 'refresh_token', refresh_token: 'x' },
    });
    expect(json.statusCode).toBe(415);
    const form = await server.app.inject({
      method: 'POST',
      url: '/v1/oauth/clients',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'client_name=x',
    });
    expect(form.statusCode).toBe(415);
  });

  it('lets the earner disconnect a platform, whose tokens then stop working', async () => {
    const earner = await createEarner(server.app);
    const other = await createEarner(server.app);
    const { platform, tokens } = await connectPlatform(server, earner, CREATE);
    const clientId = platform.client.client_id;

    // A platform token is no key to the earner's own API.
    const own = await server.app.inject({
      method: 'GET',
      url: '/v1/connected-issuers',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(own.statusCode).toBe(403);

    const foreign = await server.app.inject({
      method: 'DELETE',
      url: `/v1/connected-issuers/${clientId}`,
      headers: { cookie: other.session.cookie, origin: server.base },
    });
    expect(foreign.statusCode).toBe(404);
    expect(await server.app.db.prisma.connectGrant.count({ where: { earnerId: earner.id } })).toBe(1);

    const res = await server.app.inject({
      method: 'DELETE',
      url: `/v1/connected-issuers/${clientId}`,
      headers: { cookie: earner.session.cookie, origin: server.base },
    });
    expect(res.statusCode).toBe(204);
    const refresh = await tokenRequest(
      server,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
      basicOf(clientId, platform.secret),
    );
    expect(refresh.body.error).toBe('invalid_grant');
    expect(await server.app.services.connect.resolveBearer(tokens.access_token)).toBeNull();
  });
});
