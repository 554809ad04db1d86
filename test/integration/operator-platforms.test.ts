// The operator's review of platforms, through HTTP: earners reject and report pushed badges,
// the operator lists and resolves the reports, suspends the platform they accuse (its tokens
// stop on every route at once, its consents stay) and reinstates it; every action is in the
// audit. Only the operator credential reaches these routes.
import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../../src/modules/connect/index.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import {
  authorizationUrl,
  authorize,
  type ConnectServer,
  connectFrontEnd,
  insecure,
  registerPlatform,
  startConnectServer,
} from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, createToken, type TestEarner } from '../support/earners.ts';

const OPERATOR_SECRET = 'operator-secret-for-platform-tests-0123456789';
const OPERATOR = { 'x-operator-token': OPERATOR_SECRET };
const V2 = `${SCOPES.assertionCreate} ${SCOPES.assertionReadonly} ${SCOPES.v2ProfileReadonly}`;

describeEachDatabase('operator: push reports and platform suspension', (current) => {
  let server: ConnectServer;
  let issuer: LocalIssuer;

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    server = await startConnectServer(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      OPERATOR_TOKEN_SHA256: createHash('sha256').update(OPERATOR_SECRET).digest('hex'),
    });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  const operator = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    server.app.inject({ method, url, headers: OPERATOR, ...(payload === undefined ? {} : { payload }) });

  async function bearer(token: string, method: string, path: string, body?: unknown) {
    const res = await fetch(new URL(path, server.base), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, text: await res.text() };
  }

  /** The platform pushes a badge to the earner, who rejects it and reports the platform. */
  async function pushAndReport(token: string, earner: TestEarner, name: string, comment?: string) {
    const pushed = await bearer(token, 'POST', '/ims/ob/v2p1/assertions', {
      id: issuer.hosted(earner.addresses[0] as string, { name }).url,
    });
    expect(pushed.status, pushed.text).toBe(201);
    const held = await server.app.inject({ url: '/v1/pushed-badges', headers: earner.session });
    const item = (held.json().items as { id: string; name: string }[]).find((i) => i.name === name);
    const rejected = await server.app.inject({
      method: 'POST',
      url: `/v1/pushed-badges/${item?.id}/rejection`,
      headers: { ...earner.session, origin: server.base },
      payload: { report: true, ...(comment ? { comment } : {}) },
    });
    expect(rejected.statusCode, rejected.body).toBe(204);
  }

  async function reportedPlatform() {
    const platform = await registerPlatform(server, V2);
    const earners = [await createEarner(server.app), await createEarner(server.app)];
    const tokens: oauth.TokenEndpointResponse[] = [];
    for (const earner of earners) tokens.push(await authorize(server, platform, earner, V2));
    await pushAndReport(tokens[0]?.access_token as string, earners[0] as TestEarner, 'Unasked One', 'spam');
    await pushAndReport(tokens[1]?.access_token as string, earners[1] as TestEarner, 'Unasked Two');
    await pushAndReport(tokens[1]?.access_token as string, earners[1] as TestEarner, 'Unasked Three');
    return { platform, earners, tokens };
  }

  it('lets only the operator credential in: no session, personal or platform token, no wrong secret', async () => {
    const earner = await createEarner(server.app);
    const personal = await createToken(server.app, earner.id, ['badges:read', 'profile:read']);
    const { tokens } = await reportedPlatform();
    for (const url of ['/v1/operator/reports', '/v1/operator/platforms', '/v1/operator/actions']) {
      for (const headers of [
        {},
        earner.session,
        { authorization: personal },
        { authorization: `Bearer ${tokens[0]?.access_token}` },
      ]) {
        const res = await server.app.inject({ url, headers });
        expect(res.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.json().code).toBe('unauthenticated');
      }
      const wrong = await server.app.inject({ url, headers: { 'x-operator-token': 'not-the-secret' } });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().code).toBe('invalid_credentials');
    }
  });

  it('lists reports a page at a time, filtered by status and platform, without the reporter', async () => {
    const { platform } = await reportedPlatform();
    const clientId = platform.client.client_id;
    const first = await operator('GET', `/v1/operator/reports?clientId=${clientId}&status=open&limit=2`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.headers.link).toContain(`clientId=${clientId}`);
    expect(first.headers.link).toContain('offset=2>; rel="next"');
    const page = first.json().items as Record<string, unknown>[];
    expect(page).toHaveLength(2);
    const second = await operator(
      'GET',
      `/v1/operator/reports?clientId=${clientId}&status=open&limit=2&offset=2`,
    );
    const all = [...page, ...(second.json().items as Record<string, unknown>[])];
    expect(all.map((r) => r.badgeName).sort()).toEqual(['Unasked One', 'Unasked Three', 'Unasked Two']);
    expect(all.find((r) => r.badgeName === 'Unasked One')).toEqual({
      id: expect.any(String),
      platform: { clientId, name: 'Test Issuer Platform', suspended: false },
      issuerId: expect.any(String),
      badgeName: 'Unasked One',
      comment: 'spam',
      createdAt: expect.any(String),
      status: 'open',
      resolvedAt: null,
      outcome: null,
      resolution: null,
    });
    const bad = await operator('GET', '/v1/operator/reports?status=maybe');
    expect(bad.statusCode).toBe(400);
  });

  it('resolves a report once, with an outcome and a reason, and records it', async () => {
    const { platform } = await reportedPlatform();
    const clientId = platform.client.client_id;
    const [report] = (await operator('GET', `/v1/operator/reports?clientId=${clientId}`)).json().items as {
      id: string;
    }[];
    const resolved = await operator('POST', `/v1/operator/reports/${report?.id}/resolution`, {
      outcome: 'upheld',
      reason: 'The platform admitted pushing without asking.',
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json()).toEqual(
      expect.objectContaining({
        id: report?.id,
        status: 'resolved',
        outcome: 'upheld',
        resolution: 'The platform admitted pushing without asking.',
        resolvedAt: expect.any(String),
      }),
    );
    const again = await operator('POST', `/v1/operator/reports/${report?.id}/resolution`, {
      outcome: 'dismissed',
      reason: 'second thoughts',
    });
    expect(again.statusCode).toBe(409);
    const unknown = await operator('POST', '/v1/operator/reports/no-such-report/resolution', {
      outcome: 'dismissed',
      reason: 'x',
    });
    expect(unknown.statusCode).toBe(404);
    const badOutcome = await operator('POST', `/v1/operator/reports/${report?.id}/resolution`, {
      outcome: 'maybe',
      reason: 'x',
    });
    expect(badOutcome.statusCode).toBe(400);

    const open = await operator('GET', `/v1/operator/reports?clientId=${clientId}&status=open`);
    expect(open.headers['x-total-count']).toBe('2');
    const done = await operator('GET', `/v1/operator/reports?clientId=${clientId}&status=resolved`);
    expect((done.json().items as { id: string }[]).map((r) => r.id)).toEqual([report?.id]);

    const audit = (await operator('GET', '/v1/operator/actions?limit=100')).json().items as Record<
      string,
      unknown
    >[];
    expect(audit).toContainEqual({
      id: expect.any(String),
      action: 'resolve_report',
      reason: 'upheld: The platform admitted pushing without asking.',
      subject: `connect_report:${report?.id}`,
      createdAt: expect.any(String),
    });
  });

  it('suspends a platform reported by several earners: its tokens stop everywhere, its consents stay, and it can be reinstated', async () => {
    const { platform, earners, tokens } = await reportedPlatform();
    const clientId = platform.client.client_id;
    const access = tokens[0]?.access_token as string;

    const standing = await operator('GET', `/v1/operator/platforms/${clientId}`);
    expect(standing.statusCode, standing.body).toBe(200);
    expect(standing.json()).toEqual(
      expect.objectContaining({
        clientId,
        kind: 'issuer_platform',
        suspended: false,
        consents: 2,
        reports: { total: 3, open: 3, reporters: 2 },
      }),
    );
    const listed = await operator('GET', '/v1/operator/platforms?limit=100');
    expect(listed.statusCode).toBe(200);
    expect(Number(listed.headers['x-total-count'])).toBeGreaterThanOrEqual(1);
    expect((listed.json().items as { clientId: string }[]).map((p) => p.clientId)).toContain(clientId);

    expect((await bearer(access, 'GET', '/ims/ob/v2p1/profile')).status).toBe(200);
    const suspended = await operator('POST', `/v1/operator/platforms/${clientId}/suspension`, {
      reason: 'Reported by two earners for pushes without consent.',
    });
    expect(suspended.statusCode, suspended.body).toBe(200);
    expect(suspended.json()).toEqual(
      expect.objectContaining({
        suspended: true,
        suspendedAt: expect.any(String),
        suspensionReason: 'Reported by two earners for pushes without consent.',
        consents: 2,
      }),
    );

    // Every issuer API refuses the token at once, each in its own shape, naming the suspension.
    const push = await bearer(access, 'POST', '/ims/ob/v2p1/assertions', {
      id: issuer.hosted(earners[0]?.addresses[0] as string, { name: 'After suspension' }).url,
    });
    expect(push.status).toBe(403);
    expect(push.text).toContain('client_suspended');
    for (const path of ['/ims/ob/v2p1/profile', '/ims/ob/v2p1/assertions', '/api/identity']) {
      const res = await bearer(access, 'GET', path);
      expect(res.status, path).toBe(403);
    }
    expect((await bearer(access, 'GET', '/ims/ob/v2p1/profile')).text).toContain('client_suspended');
    // No new tokens from a refresh, no new consent.
    const refresh = await oauth.refreshTokenGrantRequest(
      server.as,
      platform.client,
      platform.auth,
      tokens[1]?.refresh_token as string,
      insecure,
    );
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('unauthorized_client');
    const auth = await authorizationUrl(server, platform, V2);
    const page = await fetch(auth.url, { headers: { cookie: earners[0]?.session.cookie as string } });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('suspended');
    // The consents are kept for review: the earner still sees the platform.
    const connected = await server.app.inject({ url: '/v1/connected-issuers', headers: earners[0]?.session });
    expect((connected.json().items as { clientId: string }[]).map((c) => c.clientId)).toContain(clientId);
    expect(await server.app.db.prisma.connectGrant.count({ where: { clientId } })).toBe(2);
    const reports = await operator('GET', `/v1/operator/reports?clientId=${clientId}&limit=1`);
    expect(reports.json().items[0].platform.suspended).toBe(true);

    const twice = await operator('POST', `/v1/operator/platforms/${clientId}/suspension`, {
      reason: 'again',
    });
    expect(twice.statusCode).toBe(409);

    server.clock.advance(1000);
    const reinstated = await operator('POST', `/v1/operator/platforms/${clientId}/reinstatement`, {
      reason: 'The platform now asks before pushing.',
    });
    expect(reinstated.statusCode, reinstated.body).toBe(200);
    expect(reinstated.json()).toEqual(
      expect.objectContaining({ suspended: false, suspendedAt: null, suspensionReason: null }),
    );
    expect((await bearer(access, 'GET', '/ims/ob/v2p1/profile')).status).toBe(200);
    const notSuspended = await operator('POST', `/v1/operator/platforms/${clientId}/reinstatement`, {
      reason: 'again',
    });
    expect(notSuspended.statusCode).toBe(409);
    expect((await operator('GET', '/v1/operator/platforms/unknown-client')).statusCode).toBe(404);

    const audit = (await operator('GET', '/v1/operator/actions?limit=100')).json().items as {
      action: string;
      subject: string | null;
      reason: string;
    }[];
    const mine = audit.filter((a) => a.subject === `connect_client:${clientId}`);
    expect(mine.map((a) => a.action)).toEqual(['reinstate_client', 'suspend_client']);
    expect(mine[1]?.reason).toBe('Reported by two earners for pushes without consent.');
  });

  it('refuses a suspended front end on the earner API with client_suspended', async () => {
    const earner = await createEarner(server.app);
    const { frontEnd, tokens } = await connectFrontEnd(server, earner, 'badges:read');
    expect((await bearer(tokens.access_token, 'GET', '/v1/badges')).status).toBe(200);
    const res = await operator('POST', `/v1/operator/platforms/${frontEnd.client.client_id}/suspension`, {
      reason: 'Phishing front end.',
    });
    expect(res.statusCode, res.body).toBe(200);
    const refused = await bearer(tokens.access_token, 'GET', '/v1/badges');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).code).toBe('client_suspended');
  });
});
