// Front ends on other sites as OAuth 2.0 public clients, through a real OAuth client library:
// registration without a secret (unknown metadata ignored), code + PKCE, tokens that act as
// the earner on /v1/* with the scopes of personal access tokens and nowhere else, rotation,
// binding to the client they were issued to, revocation, account deletion, and CORS for the
// front end's origin without cookies.
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../../src/modules/connect/index.ts';
import {
  authorizationUrl,
  type ConnectServer,
  connectFrontEnd,
  connectPlatform,
  consent,
  FRONT_END_ORIGIN,
  insecure,
  registerFrontEnd,
  registerPlatform,
  startConnectServer,
} from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

const ALL =
  'badges:read badges:write groups:read groups:write shares:read shares:write profile:read profile:write';

describeEachDatabase('front ends as OAuth public clients', (current) => {
  let server: ConnectServer;
  beforeAll(async () => {
    server = await startConnectServer(current().db, { CORS_ORIGINS: 'https://same-site.example' });
  });
  afterAll(async () => {
    await server?.close();
  });

  const api = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${server.base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });

  const form = (path: string, body: Record<string, string>) =>
    fetch(`${server.base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });

  it('registers a public client with no secret, ignoring metadata it does not understand', async () => {
    expect(server.as.token_endpoint_auth_methods_supported).toContain('none');
    expect(server.as.scopes_supported).toEqual(expect.arrayContaining(ALL.split(' ')));
    const res = await fetch(`${server.base}/v1/oauth/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Badge Viewer',
        client_uri: FRONT_END_ORIGIN,
        redirect_uris: [`${FRONT_END_ORIGIN}/callback`, `${FRONT_END_ORIGIN}/other`],
        scope: 'badges:read',
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        jwks_uri: 'https://viewer.example/jwks.json',
        'https://viewer.example/extension': { any: 'thing' },
      }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.token_endpoint_auth_method).toBe('none');
    expect(body).not.toHaveProperty('client_secret');
    expect(body).not.toHaveProperty('client_secret_expires_at');
    expect(body).not.toHaveProperty('software_id');
    expect(body).not.toHaveProperty('application_type');
    expect(body).not.toHaveProperty('jwks_uri');
    const row = await server.app.db.prisma.connectClient.findUniqueOrThrow({
      where: { id: body.client_id as string },
      include: { origins: true },
    });
    expect(row).toMatchObject({ kind: 'front_end', secretHash: null, softwareId: null });
    expect(row.origins.map((o) => o.origin)).toEqual([FRONT_END_ORIGIN]);
  });

  it('refuses a client that mixes issuer and earner scopes, and a public issuer platform', async () => {
    const register = (meta: Record<string, unknown>) =>
      fetch(`${server.base}/v1/oauth/clients`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'X',
          client_uri: 'https://x.example',
          redirect_uris: ['https://x.example/cb'],
          ...meta,
        }),
      });
    const mixed = await register({ scope: `badges:read ${SCOPES.assertionCreate}` });
    expect(mixed.status).toBe(400);
    expect(await mixed.json()).toMatchObject({ error: 'invalid_client_metadata' });
    const publicIssuer = await register({
      scope: SCOPES.assertionCreate,
      token_endpoint_auth_method: 'none',
    });
    expect(publicIssuer.status).toBe(400);
    expect(await publicIssuer.json()).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it('signs the earner in with code + PKCE, acts with the granted scopes, rotates and revokes', async () => {
    const earner = await createEarner(server.app);
    const { frontEnd, tokens } = await connectFrontEnd(server, earner, 'badges:read profile:read');
    expect(tokens.expires_in).toBe(600);
    const access = tokens.access_token;
    const list = await api('/v1/badges', access);
    expect(list.status).toBe(200);
    expect((await api('/v1/profile', access)).status).toBe(200);
    const write = await api('/v1/groups', access, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Nope' }),
    });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { code: string }).code).toBe('insufficient_scope');

    const refreshed = await oauth.processRefreshTokenResponse(
      server.as,
      frontEnd.client,
      await oauth.refreshTokenGrantRequest(
        server.as,
        frontEnd.client,
        frontEnd.auth,
        tokens.refresh_token as string,
        insecure,
      ),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await api('/v1/badges', access)).status).toBe(401);
    expect((await api('/v1/badges', refreshed.access_token)).status).toBe(200);

    // The rotated refresh token presented again: someone else holds it, so the family goes.
    const replay = await form('/v1/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
      client_id: frontEnd.client.client_id,
    });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await api('/v1/badges', refreshed.access_token)).status).toBe(401);

    // Signing out: revoking the refresh token ends its access token too.
    const again = await connectFrontEnd(server, earner, 'badges:read');
    const revoked = await oauth.revocationRequest(
      server.as,
      again.frontEnd.client,
      again.frontEnd.auth,
      again.tokens.refresh_token as string,
      insecure,
    );
    await oauth.processRevocationResponse(revoked);
    expect((await api('/v1/badges', again.tokens.access_token)).status).toBe(401);
  });

  it('binds codes, refresh tokens and revocation to the client they were issued to', async () => {
    const earner = await createEarner(server.app);
    const a = await registerFrontEnd(server, 'badges:read');
    const b = await registerFrontEnd(server, 'badges:read');
    const auth = await authorizationUrl(server, a, 'badges:read');
    const code = (await consent(server, earner, auth)).searchParams.get('code') as string;
    const stolen = await form('/v1/oauth/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: a.redirectUri,
      code_verifier: auth.verifier,
      client_id: b.client.client_id,
    });
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' });

    const { frontEnd, tokens } = await connectFrontEnd(server, earner, 'badges:read');
    const otherRefresh = await form('/v1/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
      client_id: b.client.client_id,
    });
    expect(otherRefresh.status).toBe(400);
    expect(await otherRefresh.json()).toMatchObject({ error: 'invalid_grant' });
    const otherRevoke = await form('/v1/oauth/revoke', {
      token: tokens.refresh_token as string,
      client_id: b.client.client_id,
    });
    expect(otherRevoke.status).toBe(200);
    expect((await api('/v1/badges', tokens.access_token)).status).toBe(200);

    // A public client has no secret to present, and a confidential one cannot go without it.
    const withSecret = await form('/v1/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
      client_id: frontEnd.client.client_id,
      client_secret: 'made-up',
    });
    expect(withSecret.status).toBe(401);
    expect(await withSecret.json()).toMatchObject({ error: 'invalid_client' });
    const platform = await registerPlatform(server, SCOPES.assertionCreate);
    const noSecret = await form('/v1/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
      client_id: platform.client.client_id,
    });
    expect(noSecret.status).toBe(401);
    expect(await noSecret.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('keeps front-end tokens off the issuer, operator and session-only routes, and platform tokens off /v1/*', async () => {
    const earner = await createEarner(server.app);
    const { tokens } = await connectFrontEnd(server, earner, ALL);
    const token = tokens.access_token;
    for (const path of [
      '/ims/ob/v2p1/assertions',
      '/ims/ob/v3p0/credentials',
      '/ims/ob/v3p0/profile',
      '/api/identity',
    ]) {
      const res = await api(path, token);
      expect(res.status, path).toBe(403);
    }
    const operator = await api('/v1/operator/account-deletions', token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: earner.addresses[0], reason: 'legal_request' }),
    });
    expect(operator.status).toBe(401);
    for (const path of ['/v1/access-tokens', '/v1/connected-issuers', '/v1/account/export', '/v1/sessions']) {
      const res = await api(path, token);
      expect(res.status, path).toBe(403);
    }
    expect((await api('/v1/groups', token)).status).toBe(200);

    const platform = await connectPlatform(server, earner, SCOPES.assertionReadonly);
    const platformToken = platform.tokens.access_token;
    for (const path of ['/v1/badges', '/v1/profile', '/v1/groups']) {
      const res = await api(path, platformToken);
      expect(res.status, path).toBe(403);
    }
    expect((await api('/ims/ob/v2p1/assertions', platformToken)).status).toBe(200);
  });

  it('stops working when the earner disconnects the front end or deletes the account', async () => {
    const earner = await createEarner(server.app);
    const first = await connectFrontEnd(server, earner, 'badges:read');
    const listed = await fetch(`${server.base}/v1/connected-issuers`, {
      headers: { cookie: earner.session.cookie },
    });
    const items = ((await listed.json()) as { items: { clientId: string; kind: string }[] }).items;
    expect(items).toContainEqual(
      expect.objectContaining({ clientId: first.frontEnd.client.client_id, kind: 'front_end' }),
    );
    const disconnected = await fetch(
      `${server.base}/v1/connected-issuers/${first.frontEnd.client.client_id}`,
      { method: 'DELETE', headers: { cookie: earner.session.cookie } },
    );
    expect(disconnected.status).toBe(204);
    expect((await api('/v1/badges', first.tokens.access_token)).status).toBe(401);

    const second = await connectFrontEnd(server, earner, 'badges:read');
    expect((await api('/v1/badges', second.tokens.access_token)).status).toBe(200);
    const deleted = await fetch(`${server.base}/v1/account`, {
      method: 'DELETE',
      headers: { cookie: earner.session.cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(deleted.status).toBe(204);
    expect((await api('/v1/badges', second.tokens.access_token)).status).toBe(401);
    const refresh = await form('/v1/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: second.tokens.refresh_token as string,
      client_id: second.frontEnd.client.client_id,
    });
    expect(refresh.status).toBe(400);
  });

  it('answers CORS for a front end’s registered origin without cookies, and for no one else', async () => {
    await registerFrontEnd(server, 'badges:read');
    const preflight = (origin: string, path = '/v1/badges') =>
      fetch(`${server.base}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const ours = await preflight(FRONT_END_ORIGIN);
    expect(ours.status).toBe(204);
    expect(ours.headers.get('access-control-allow-origin')).toBe(FRONT_END_ORIGIN);
    expect(ours.headers.get('access-control-allow-credentials')).toBeNull();
    expect(ours.headers.get('access-control-allow-headers')).toContain('authorization');
    const token = await preflight(FRONT_END_ORIGIN, '/v1/oauth/token');
    expect(token.headers.get('access-control-allow-origin')).toBe(FRONT_END_ORIGIN);

    const stranger = await preflight('https://stranger.example');
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    const listed = await preflight('https://same-site.example');
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://same-site.example');
    expect(listed.headers.get('access-control-allow-credentials')).toBe('true');

    const simple = await fetch(`${server.base}/v1/badges`, { headers: { origin: FRONT_END_ORIGIN } });
    expect(simple.status).toBe(401);
    expect(simple.headers.get('access-control-allow-origin')).toBe(FRONT_END_ORIGIN);
    expect(simple.headers.get('vary')).toContain('Origin');
  });
});
