// Issuer platforms pushing badges with a consented token, end to end: a real OAuth client
// (oauth4webapi) against the server on a loopback port, a local issuer on 127.0.0.1 hosting
// and signing the badges, and the three ways in (Badge Connect 2.1, the OB 3.0 API, the
// original Backpack Connect). Every refusal stores nothing.
import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../../src/modules/connect/index.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import {
  authorizationUrl,
  type ConnectServer,
  connectPlatform,
  insecure,
  startConnectServer,
} from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';
import { findTraces } from '../support/table-walk.ts';

const V2 = `${SCOPES.assertionCreate} ${SCOPES.assertionReadonly} ${SCOPES.v2ProfileReadonly} ${SCOPES.v2ProfileUpdate}`;
const V3 = `${SCOPES.credentialUpsert} ${SCOPES.credentialReadonly} ${SCOPES.v3ProfileReadonly} ${SCOPES.v3ProfileUpdate}`;

describeEachDatabase('connect: issuer platforms push badges', (current) => {
  let server: ConnectServer;
  let issuer: LocalIssuer;

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    server = await startConnectServer(current().db, { FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  const items = (earnerId: string) =>
    server.app.db.prisma.backpackItem.findMany({
      where: { earnerId },
      select: { id: true, source: true, acceptance: true, name: true, issuedOn: true, assertionId: true },
    });

  async function call(
    token: string,
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }> {
    let res: Response;
    try {
      res = await oauth.protectedResourceRequest(
        token,
        method,
        new URL(path, server.base),
        new Headers(body === undefined ? {} : { 'content-type': contentType }),
        body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
        insecure,
      );
    } catch (err) {
      // The client library raises on a Bearer challenge; the test reads the answer itself.
      if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err;
      res = err.response;
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // text/plain answers
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  async function holdAll(earner: TestEarner) {
    return server.app.inject({
      method: 'GET',
      url: '/v1/pushed-badges',
      headers: { cookie: earner.session.cookie },
    });
  }

  it('Badge Connect: push held for review, accept, list with paging, refresh, then disconnect stops pushes', async () => {
    const earner = await createEarner(server.app);
    const address = earner.addresses[0] as string;
    const { platform, tokens } = await connectPlatform(server, earner, V2);

    const hosted = issuer.hosted(address, { name: 'Pushed Hosted' });
    const pushed = await call(tokens.access_token, 'POST', '/ims/ob/v2p1/assertions', { id: hosted.url });
    expect(pushed.status).toBe(201);
    expect(pushed.json.status).toEqual({ error: null, statusCode: 201, statusText: 'Created' });
    expect((pushed.json.results as { id: string }[])[0]?.id).toBe(hosted.url);
    const stored = await items(earner.id);
    expect(stored).toEqual([
      expect.objectContaining({
        source: platform.client.client_id,
        acceptance: 'pending',
        name: 'Pushed Hosted',
      }),
    ]);

    // Held for review: not in the platform's view of the backpack until accepted.
    const before = await call(tokens.access_token, 'GET', '/ims/ob/v2p1/assertions');
    expect(before.json.results).toEqual([]);
    const review = await holdAll(earner);
    expect(review.json().items).toEqual([
      expect.objectContaining({
        name: 'Pushed Hosted',
        acceptance: 'pending',
        pushedBy: { clientId: platform.client.client_id, name: 'Test Issuer Platform' },
      }),
    ]);
    const accepted = await server.app.inject({
      method: 'POST',
      url: `/v1/pushed-badges/${stored[0]?.id}/acceptance`,
      headers: { cookie: earner.session.cookie, origin: server.base },
    });
    expect(accepted.statusCode).toBe(204);

    const again = await call(tokens.access_token, 'POST', '/ims/ob/v2p1/assertions', { id: hosted.url });
    expect(again.status).toBe(200);

    const signed = await issuer.signed(address, { name: 'Pushed Signed' });
    const second = await call(tokens.access_token, 'POST', '/ims/ob/v2p1/assertions', {
      assertion: signed.jws,
    });
    expect(second.status).toBe(201);
    await server.app.services.accounts.service.updateProfile(earner.id, { pushPolicy: 'accept' });
    const third = await call(tokens.access_token, 'POST', '/ims/ob/v2p1/assertions', {
      id: issuer.hosted(address, { name: 'Auto Accepted' }).url,
    });
    expect(third.status).toBe(201);
    expect((await items(earner.id)).find((i) => i.name === 'Auto Accepted')?.acceptance).toBe('accepted');

    const page = await call(tokens.access_token, 'GET', '/ims/ob/v2p1/assertions?limit=1');
    expect(page.status).toBe(200);
    expect(page.headers.get('x-total-count')).toBe('2');
    expect(page.headers.get('link')).toContain('rel="next"');
    expect((page.json.results as unknown[]).length).toBe(1);
    const since = await call(
      tokens.access_token,
      'GET',
      `/ims/ob/v2p1/assertions?since=${encodeURIComponent(new Date(server.clock.now.getTime() + 1000).toISOString())}`,
    );
    expect(since.json.results).toEqual([]);

    // A refreshed token pushes too.
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
    expect((await call(refreshed.access_token, 'GET', '/ims/ob/v2p1/profile')).status).toBe(200);
    // The rotated-out access token no longer works.
    expect((await call(tokens.access_token, 'GET', '/ims/ob/v2p1/profile')).status).toBe(401);

    const revoked = await server.app.inject({
      method: 'DELETE',
      url: `/v1/connected-issuers/${platform.client.client_id}`,
      headers: { cookie: earner.session.cookie, origin: server.base },
    });
    expect(revoked.statusCode).toBe(204);
    const count = (await items(earner.id)).length;
    const refused = await call(refreshed.access_token, 'POST', '/ims/ob/v2p1/assertions', {
      id: issuer.hosted(address, { name: 'After Revocation' }).url,
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    expect((refused.json.status as { statusCode: number }).statusCode).toBe(401);
    expect((await items(earner.id)).length).toBe(count);
  });

  it('refuses expired tokens, tokens whose scope does not cover the call, and badges for another earner', async () => {
    const earner = await createEarner(server.app);
    const other = await createEarner(server.app);
    const { tokens } = await connectPlatform(server, earner, SCOPES.assertionReadonly);
    const hosted = issuer.hosted(earner.addresses[0] as string);

    const scope = await call(tokens.access_token, 'POST', '/ims/ob/v2p1/assertions', { id: hosted.url });
    expect(scope.status).toBe(403);
    expect(scope.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect((scope.json.status as { error: string }).error).toMatch(/^insufficient_scope/);
    expect(await items(earner.id)).toEqual([]);

    const { tokens: pusher } = await connectPlatform(server, earner, SCOPES.assertionCreate);
    const foreign = await call(pusher.access_token, 'POST', '/ims/ob/v2p1/assertions', {
      id: issuer.hosted(other.addresses[0] as string).url,
    });
    expect(foreign.status).toBe(422);
    expect((foreign.json.status as { error: string }).error).toMatch(/^recipient_mismatch/);
    expect(await items(earner.id)).toEqual([]);
    expect(await items(other.id)).toEqual([]);

    // The other earner's own badge is not in what this earner's token can read.
    await server.app.services.badges.service.add(other.id, {
      kind: 'url',
      url: issuer.hosted(other.addresses[0] as string).url,
    });
    const mine = await call(tokens.access_token, 'GET', '/ims/ob/v2p1/assertions');
    expect(mine.status).toBe(200);
    expect(mine.json.results).toEqual([]);
    expect(mine.headers.get('x-total-count')).toBe('0');

    // A token the platform revoked itself (RFC 7009) pushes nothing.
    const { platform: revoker, tokens: revokedTokens } = await connectPlatform(
      server,
      earner,
      SCOPES.assertionCreate,
    );
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(
        server.as,
        revoker.client,
        revoker.auth,
        revokedTokens.access_token,
        insecure,
      ),
    );
    const afterRevoke = await call(revokedTokens.access_token, 'POST', '/ims/ob/v2p1/assertions', {
      id: hosted.url,
    });
    expect(afterRevoke.status).toBe(401);
    expect(await items(earner.id)).toEqual([]);

    const bad = await call(pusher.access_token, 'POST', '/ims/ob/v2p1/assertions', {
      assertion: 'not a jws',
    });
    expect(bad.status).toBe(400);

    server.clock.advance(3601_000);
    const expired = await call(pusher.access_token, 'POST', '/ims/ob/v2p1/assertions', { id: hosted.url });
    expect(expired.status).toBe(401);
    expect(await items(earner.id)).toEqual([]);
  });

  it('OB 3.0 API: upserts credentials (newer validFrom wins), lists them, and answers Imsx_StatusInfo errors', async () => {
    const earner = await createEarner(server.app);
    const address = earner.addresses[0] as string;
    await server.app.services.accounts.service.updateProfile(earner.id, { pushPolicy: 'accept' });
    const { tokens } = await connectPlatform(server, earner, V3);

    const id = `urn:uuid:${crypto.randomUUID()}`;
    const first = await issuer.credential(address, 'Upserted', { id, validFrom: '2024-01-01T00:00:00Z' });
    const created = await call(tokens.access_token, 'POST', '/ims/ob/v3p0/credentials', first);
    expect(created.status).toBe(201);
    expect(created.json.id).toBe(id);
    const same = await call(tokens.access_token, 'POST', '/ims/ob/v3p0/credentials', first);
    expect(same.status).toBe(200);
    // The earner puts the badge in a group; a newer issue must replace it in place.
    const [held] = await items(earner.id);
    const headers = { cookie: earner.session.cookie, origin: server.base };
    const group = await server.app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers,
      payload: { name: 'Kept', badgeIds: [held?.id] },
    });
    expect(group.statusCode).toBe(201);

    const newer = await issuer.credential(address, 'Upserted v2', { id, validFrom: '2025-01-01T00:00:00Z' });
    const replaced = await call(tokens.access_token, 'POST', '/ims/ob/v3p0/credentials', newer);
    expect(replaced.status).toBe(200);
    expect(replaced.json.name).toBe('Upserted v2');
    const [after] = await items(earner.id);
    expect(after?.id).toBe(held?.id);
    const groupNow = await server.app.inject({
      url: `/v1/groups/${(group.json() as { id: string }).id}`,
      headers,
    });
    expect((groupNow.json() as { badges: { id: string; name: string }[] }).badges).toEqual([
      expect.objectContaining({ id: held?.id, name: 'Upserted v2' }),
    ]);
    const older = await issuer.credential(address, 'Upserted old', { id, validFrom: '2023-01-01T00:00:00Z' });
    const kept = await call(tokens.access_token, 'POST', '/ims/ob/v3p0/credentials', older);
    expect(kept.status).toBe(200);
    expect(kept.json.name).toBe('Upserted v2');
    expect((await items(earner.id)).map((i) => i.name)).toEqual(['Upserted v2']);

    const jwt = await issuer.vcJwt(address);
    const posted = await call(tokens.access_token, 'POST', '/ims/ob/v3p0/credentials', jwt.jwt, 'text/plain');
    expect(posted.status).toBe(201);
    expect(posted.text).toBe(jwt.jwt);

    const listed = await call(tokens.access_token, 'GET', '/ims/ob/v3p0/credentials');
    expect(listed.status).toBe(200);
    expect(listed.headers.get('x-total-count')).toBe('2');
    expect(listed.json.compactJwsStrings).toEqual([jwt.jwt]);
    expect((listed.json.credential as { id: string }[]).map((c) => c.id)).toEqual([id]);

    const profile = await call(tokens.access_token, 'PUT', '/ims/ob/v3p0/profile', { name: 'Ada Pushed' });
    expect(profile.status).toBe(200);
    expect(profile.json).toEqual(
      expect.objectContaining({ name: 'Ada Pushed', email: address, type: ['Profile'] }),
    );

    const bad = await call(tokens.access_token, 'GET', '/ims/ob/v3p0/credentials?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual(
      expect.objectContaining({
        imsx_codeMajor: 'failure',
        imsx_codeMinor: {
          imsx_codeMinorField: [
            {
              imsx_codeMinorFieldName: 'TargetEndSystem',
              imsx_codeMinorFieldValue: 'invalid_query_parameter',
            },
          ],
        },
      }),
    );
    const { tokens: v2 } = await connectPlatform(server, earner, SCOPES.assertionCreate);
    const wrong = await call(v2.access_token, 'GET', '/ims/ob/v3p0/credentials');
    expect(wrong.status).toBe(403);
    expect(wrong.json.imsx_codeMajor).toBe('failure');
    const none = await call('bpc_at_unknown', 'GET', '/ims/ob/v3p0/profile');
    expect(none.status).toBe(401);
    expect(
      (none.json.imsx_codeMinor as { imsx_codeMinorField: { imsx_codeMinorFieldValue: string }[] })
        .imsx_codeMinorField[0]?.imsx_codeMinorFieldValue,
    ).toBe('unauthorizedrequest');
  });

  it('answers a platform one code for a badge not for this earner, whether or not the earner added its address', async () => {
    const earner = await createEarner(server.app);
    const stranger = `stranger.${Date.now()}@example.org`;
    const pending = `pending.${Date.now()}@example.org`;
    await server.app.services.accounts.service.addAddress(earner.id, pending);
    const { tokens } = await connectPlatform(server, earner, SCOPES.assertionCreate);
    const answers = [];
    for (const recipient of [pending, stranger]) {
      const hosted = issuer.hosted(recipient, { name: 'Not Yours' });
      const connect = await call(tokens.access_token, 'POST', '/ims/ob/v2p1/assertions', { id: hosted.url });
      const compat = await fetch(`${server.base}/api/issue`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ badge: issuer.hosted(recipient, { name: 'Not Yours Either' }).url }),
      });
      answers.push({ connect: [connect.status, connect.json], compat: [compat.status, await compat.json()] });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]?.connect[0]).toBe(422);
    expect(JSON.stringify(answers[0])).toMatch(/recipient_mismatch/);
    expect(JSON.stringify(answers[0])).not.toMatch(/unverified|verify/i);
    expect(await items(earner.id)).toEqual([]);

    // The earner, adding the same badge, hears the precise reason.
    const own = await server.app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: { cookie: earner.session.cookie, origin: server.base },
      payload: { url: issuer.hosted(pending).url },
    });
    expect(own.statusCode).toBe(422);
    expect(own.json().code).toBe('recipient_unverified');
  });

  it('Backpack Connect compatibility: /api/issue with a base64 token and /api/identity', async () => {
    const earner = await createEarner(server.app);
    const address = earner.addresses[0] as string;
    const { platform, tokens } = await connectPlatform(server, earner, SCOPES.assertionCreate);
    const b64 = Buffer.from(tokens.access_token).toString('base64');
    const issue = (badge: string, token = b64) =>
      fetch(`${server.base}/api/issue`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ badge }),
      });
    const hosted = issuer.hosted(address, { name: 'Compat Badge' });
    const first = await issue(hosted.url);
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual(
      expect.objectContaining({ exists: false, badge: expect.objectContaining({ name: 'Compat Badge' }) }),
    );
    const second = await issue(hosted.url, tokens.access_token);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { exists: boolean }).exists).toBe(true);
    expect((await items(earner.id))[0]?.source).toBe(platform.client.client_id);

    const identity = await fetch(`${server.base}/api/identity`, {
      headers: { authorization: `Bearer ${b64}` },
    });
    const body = (await identity.json()) as { recipient: string; salt: string; type: string };
    expect(body.type).toBe('email');
    expect(body.recipient).toBe(
      `sha256$${createHash('sha256')
        .update(address + body.salt)
        .digest('hex')}`,
    );

    const junk = await issue('hello');
    expect(junk.status).toBe(400);
    expect(await junk.json()).toEqual({ message: expect.any(String) });

    await server.app.services.connect.oauth.revokeGrant(earner.id, platform.client.client_id);
    const refused = await issue(issuer.hosted(address).url);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ message: expect.any(String) });
    expect((await items(earner.id)).length).toBe(1);
  });

  it('lets the earner reject and report a pushed badge, and exports the connected platforms', async () => {
    const earner = await createEarner(server.app);
    const { platform, tokens } = await connectPlatform(server, earner, V2);
    const res = await call(tokens.access_token, 'POST', '/ims/ob/v2p1/assertions', {
      id: issuer.hosted(earner.addresses[0] as string, { name: 'Unwanted' }).url,
    });
    expect(res.status).toBe(201);
    const [item] = await items(earner.id);
    const other = await createEarner(server.app);
    const foreign = await server.app.inject({
      method: 'POST',
      url: `/v1/pushed-badges/${item?.id}/rejection`,
      headers: { cookie: other.session.cookie, origin: server.base },
      payload: { report: true },
    });
    expect(foreign.statusCode).toBe(404);
    expect(await items(earner.id)).toHaveLength(1);

    const rejected = await server.app.inject({
      method: 'POST',
      url: `/v1/pushed-badges/${item?.id}/rejection`,
      headers: { cookie: earner.session.cookie, origin: server.base },
      payload: { report: true, comment: 'never asked for it' },
    });
    expect(rejected.statusCode).toBe(204);
    expect(await items(earner.id)).toEqual([]);
    const reports = await server.app.db.prisma.connectReport.findMany({ where: { earnerId: earner.id } });
    expect(reports).toEqual([
      expect.objectContaining({
        clientId: platform.client.client_id,
        badgeName: 'Unwanted',
        comment: 'never asked for it',
      }),
    ]);

    const exported = await server.app.inject({
      method: 'GET',
      url: '/v1/account/export',
      headers: { cookie: earner.session.cookie },
    });
    expect(exported.statusCode).toBe(200);
    expect(exported.json().sections.connectedIssuers).toEqual([
      expect.objectContaining({ clientId: platform.client.client_id, name: 'Test Issuer Platform' }),
    ]);
  });

  it('deleting the account removes consents, tokens and pushed badges, leaving no trace', async () => {
    const earner = await createEarner(server.app);
    const { platform, tokens } = await connectPlatform(server, earner, V2);
    const first = await call(tokens.access_token, 'POST', '/ims/ob/v2p1/assertions', {
      id: issuer.hosted(earner.addresses[0] as string, { name: `Reported ${earner.id}` }).url,
    });
    expect(first.status).toBe(201);
    const [item] = await items(earner.id);
    const comment = `never asked, ${earner.id}`;
    await server.app.inject({
      method: 'POST',
      url: `/v1/pushed-badges/${item?.id}/rejection`,
      headers: { cookie: earner.session.cookie, origin: server.base },
      payload: { report: true, comment },
    });
    expect(await server.app.db.prisma.connectReport.count({ where: { comment } })).toBe(1);
    // A consent page left open, unanswered.
    const auth = await authorizationUrl(server, platform, SCOPES.assertionCreate);
    expect((await fetch(auth.url, { headers: { cookie: earner.session.cookie } })).status).toBe(200);

    const deleted = await server.app.inject({
      method: 'DELETE',
      url: '/v1/account',
      headers: { cookie: earner.session.cookie, origin: server.base },
    });
    expect(deleted.statusCode).toBe(204);
    expect(await findTraces(current().db, [earner.id, ...earner.addresses])).toEqual([]);
    // The report about the platform stays, tied to no one, without what the earner wrote or
    // the badge they named (the earner id was in both, and findTraces found it nowhere).
    expect(
      await server.app.db.prisma.connectReport.findMany({
        where: { clientId: platform.client.client_id },
        select: { earnerId: true, badgeName: true, comment: true, issuerId: true },
      }),
    ).toEqual([{ earnerId: null, badgeName: '', comment: '', issuerId: expect.any(String) }]);
    expect((await call(tokens.access_token, 'GET', '/ims/ob/v2p1/profile')).status).toBe(401);
  });

  it('publishes the Badge Connect manifest and the OB 3.0 discovery document naming this server', async () => {
    const manifest = (await (await fetch(`${server.base}/.well-known/badgeconnect.json`)).json()) as {
      badgeConnectAPI: { apiBase: string; tokenUrl: string; scopesOffered: string[] }[];
    };
    expect(manifest.badgeConnectAPI[0]?.apiBase).toBe(`${server.base}/ims/ob/v2p1`);
    expect(manifest.badgeConnectAPI[0]?.tokenUrl).toBe(`${server.base}/v1/oauth/token`);
    const discovery = (await (await fetch(`${server.base}/ims/ob/v3p0/discovery`)).json()) as {
      servers: { url: string }[];
      components: { securitySchemes: { OAuth2ACG: { flows: { authorizationCode: { scopes: object } } } } };
    };
    expect(discovery.servers[0]?.url).toBe(`${server.base}/ims/ob/v3p0`);
    expect(
      Object.keys(discovery.components.securitySchemes.OAuth2ACG.flows.authorizationCode.scopes),
    ).toContain(SCOPES.credentialUpsert);
  });
});
