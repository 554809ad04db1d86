// What one account may hold: groups, share links and personal access tokens are capped (409
// `limit_reached`, nothing stored), and every list an account can grow comes a page at a time
// like the badge list.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../../src/modules/connect/index.ts';
import { expectProblem, signInByEmail, uniqueAddress } from '../support/accounts.ts';
import { testApp } from '../support/app.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { type ConnectServer, connectPlatform, startConnectServer } from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';
import { rowCounts } from '../support/table-walk.ts';

describeEachDatabase('what one account may hold', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(current().db, {
      MAX_GROUPS_PER_ACCOUNT: '3',
      MAX_SHARE_LINKS_PER_ACCOUNT: '2',
      MAX_ACCESS_TOKENS_PER_ACCOUNT: '2',
    });
  });
  afterAll(() => app.close());

  it('refuses a group past the cap, storing nothing, and other accounts keep theirs', async () => {
    const earner = await createEarner(app);
    const create = (headers: Record<string, string>, name: string) =>
      app.inject({ method: 'POST', url: '/v1/groups', headers, payload: { name } });
    for (const name of ['a', 'b', 'c']) expect((await create(earner.session, name)).statusCode).toBe(201);
    const before = await rowCounts(current().db);
    expect(expectProblem(await create(earner.session, 'd'), 409, 'limit_reached').detail).toContain(
      '3 groups',
    );
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await create((await createEarner(app)).session, 'mine')).statusCode).toBe(201);
  });

  it('refuses a share link past the cap, storing nothing', async () => {
    const earner = await createEarner(app);
    const group = (
      await app.inject({ method: 'POST', url: '/v1/groups', headers: earner.session, payload: { name: 'g' } })
    ).json();
    const share = () =>
      app.inject({
        method: 'POST',
        url: '/v1/share-links',
        headers: earner.session,
        payload: { groupId: group.id },
      });
    expect((await share()).statusCode).toBe(201);
    expect((await share()).statusCode).toBe(201);
    const before = await rowCounts(current().db);
    expectProblem(await share(), 409, 'limit_reached');
    expect(await rowCounts(current().db)).toEqual(before);
  });

  it('lists groups a page at a time, with the total and links to the other pages', async () => {
    const earner = await createEarner(app);
    for (const name of ['one', 'two', 'three']) {
      await app.inject({ method: 'POST', url: '/v1/groups', headers: earner.session, payload: { name } });
    }
    const first = await app.inject({ url: '/v1/groups?limit=2', headers: earner.session });
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.json().items).toHaveLength(2);
    expect(String(first.headers.link)).toContain('</v1/groups?limit=2&offset=2>; rel="next"');
    const second = await app.inject({ url: '/v1/groups?limit=2&offset=2', headers: earner.session });
    const names = [...first.json().items, ...second.json().items].map((g: { name: string }) => g.name);
    expect(names.sort()).toEqual(['one', 'three', 'two']);
    expect(String(second.headers.link)).not.toContain('rel="next"');
    expectProblem(
      await app.inject({ url: '/v1/groups?limit=1000', headers: earner.session }),
      400,
      'validation_failed',
    );
  });

  it('lists share links a page at a time, with the total and links to the other pages', async () => {
    const earner = await createEarner(app);
    const ids: string[] = [];
    for (const name of ['one', 'two']) {
      const group = (
        await app.inject({ method: 'POST', url: '/v1/groups', headers: earner.session, payload: { name } })
      ).json();
      const link = await app.inject({
        method: 'POST',
        url: '/v1/share-links',
        headers: earner.session,
        payload: { groupId: group.id },
      });
      ids.push(link.json().id);
    }
    const first = await app.inject({ url: '/v1/share-links?limit=1', headers: earner.session });
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-total-count']).toBe('2');
    expect(first.json().items).toHaveLength(1);
    expect(String(first.headers.link)).toContain('</v1/share-links?limit=1&offset=1>; rel="next"');
    const second = await app.inject({ url: '/v1/share-links?limit=1&offset=1', headers: earner.session });
    expect(String(second.headers.link)).not.toContain('rel="next"');
    const seen = [...first.json().items, ...second.json().items].map((l: { id: string }) => l.id);
    expect(seen.sort()).toEqual([...ids].sort());
    expectProblem(
      await app.inject({ url: '/v1/share-links?offset=-1', headers: earner.session }),
      400,
      'validation_failed',
    );
  });

  it('refuses a personal access token past the cap, storing nothing, until one is revoked', async () => {
    const earner = await createEarner(app);
    const create = (name: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/access-tokens',
        headers: earner.session,
        payload: { name, scopes: ['badges:read'] },
      });
    const first = await create('one');
    expect(first.statusCode).toBe(201);
    expect((await create('two')).statusCode).toBe(201);
    const before = await rowCounts(current().db);
    expect(expectProblem(await create('three'), 409, 'limit_reached').detail).toContain('2 access tokens');
    expect(await rowCounts(current().db)).toEqual(before);
    // Another account is not held back by this one's tokens.
    const other = await createEarner(app);
    const theirs = await app.inject({
      method: 'POST',
      url: '/v1/access-tokens',
      headers: other.session,
      payload: { name: 'mine', scopes: ['badges:read'] },
    });
    expect(theirs.statusCode).toBe(201);
    const revoked = await app.inject({
      method: 'DELETE',
      url: `/v1/access-tokens/${first.json().id}`,
      headers: earner.session,
    });
    expect(revoked.statusCode).toBe(204);
    expect((await create('three')).statusCode).toBe(201);
  });

  it('does not count expired tokens against the cap', async () => {
    const earner = await createEarner(app);
    const { accessTokens } = app.services.accounts;
    await accessTokens.create(earner.id, 'old', ['badges:read'], new Date(Date.now() - 60_000));
    await accessTokens.create(earner.id, 'older', ['badges:read'], new Date(Date.now() - 120_000));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/access-tokens',
      headers: earner.session,
      payload: { name: 'new', scopes: ['badges:read'] },
    });
    expect(res.statusCode, res.body).toBe(201);
  });

  it('lists personal access tokens a page at a time, with the total and links to the other pages', async () => {
    const earner = await createEarner(app);
    const { accessTokens } = app.services.accounts;
    // Expired tokens are listed until the retention job removes them; they do not hold the cap.
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      ids.push((await accessTokens.create(earner.id, name, ['badges:read'], new Date(Date.now() - 1000))).id);
    }
    const first = await app.inject({ url: '/v1/access-tokens?limit=2', headers: earner.session });
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.json().items).toHaveLength(2);
    expect(String(first.headers.link)).toContain('</v1/access-tokens?limit=2&offset=2>; rel="next"');
    const second = await app.inject({ url: '/v1/access-tokens?limit=2&offset=2', headers: earner.session });
    expect(second.json().items).toHaveLength(1);
    expect(String(second.headers.link)).not.toContain('rel="next"');
    expect(String(second.headers.link)).toContain('</v1/access-tokens?limit=2&offset=0>; rel="prev"');
    const seen = [...first.json().items, ...second.json().items].map((t: { id: string }) => t.id);
    expect(seen.sort()).toEqual([...ids].sort());
    expectProblem(
      await app.inject({ url: '/v1/access-tokens?limit=0', headers: earner.session }),
      400,
      'validation_failed',
    );
  });

  it('lists sessions a page at a time, with the total and links to the other pages', async () => {
    const address = uniqueAddress();
    const sessions = [];
    for (let i = 0; i < 3; i += 1) sessions.push(await signInByEmail(app, address));
    const me = sessions[2] as (typeof sessions)[number];
    const first = await app.inject({ url: '/v1/sessions?limit=2', headers: me.headers });
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.json().items).toHaveLength(2);
    expect(String(first.headers.link)).toContain('</v1/sessions?limit=2&offset=2>; rel="next"');
    expect(String(first.headers.link)).toContain('</v1/sessions?limit=2&offset=2>; rel="last"');
    const second = await app.inject({ url: '/v1/sessions?limit=2&offset=2', headers: me.headers });
    expect(second.json().items).toHaveLength(1);
    const seen = [...first.json().items, ...second.json().items] as { id: string; current: boolean }[];
    expect(seen.map((s) => s.id).sort()).toEqual(sessions.map((s) => s.sessionId).sort());
    expect(seen.filter((s) => s.current).map((s) => s.id)).toEqual([me.sessionId]);
    expectProblem(
      await app.inject({ url: '/v1/sessions?limit=101', headers: me.headers }),
      400,
      'validation_failed',
    );
  });
});

describeEachDatabase('connected issuers a page at a time', (current) => {
  let server: ConnectServer;
  beforeAll(async () => {
    server = await startConnectServer(current().db);
  });
  afterAll(() => server.close());

  it('lists the connected platforms a page at a time, with the total and links to the other pages', async () => {
    const { app } = server;
    const earner = await createEarner(app);
    const clients: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { platform } = await connectPlatform(server, earner, SCOPES.assertionCreate);
      clients.push(platform.client.client_id);
    }
    const first = await app.inject({ url: '/v1/connected-issuers?limit=2', headers: earner.session });
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.json().items).toHaveLength(2);
    expect(String(first.headers.link)).toContain('</v1/connected-issuers?limit=2&offset=2>; rel="next"');
    const second = await app.inject({
      url: '/v1/connected-issuers?limit=2&offset=2',
      headers: earner.session,
    });
    expect(second.json().items).toHaveLength(1);
    expect(String(second.headers.link)).not.toContain('rel="next"');
    const seen = [...first.json().items, ...second.json().items].map((c: { clientId: string }) => c.clientId);
    expect(seen.sort()).toEqual([...clients].sort());
    // Another earner's consents are neither counted nor listed.
    const stranger = await createEarner(app);
    const theirs = await app.inject({ url: '/v1/connected-issuers', headers: stranger.session });
    expect(theirs.headers['x-total-count']).toBe('0');
    expect(theirs.json().items).toEqual([]);
    expectProblem(
      await app.inject({ url: '/v1/connected-issuers?offset=x', headers: earner.session }),
      400,
      'validation_failed',
    );
  });

  it('lists pushed badges a page at a time, pending first, with the total and links to the other pages', async () => {
    const { app } = server;
    const earner = await createEarner(app);
    const { platform } = await connectPlatform(server, earner, SCOPES.assertionCreate);
    const recipient = earner.addresses[0] as string;
    const ids: string[] = [];
    for (const acceptance of ['accepted', 'pending', 'pending'] as const) {
      ids.push(await insertBadge(app, earner.id, { recipient, acceptance }));
    }
    // As a push stores them: marked with the platform that sent them.
    await app.db.prisma.backpackItem.updateMany({
      where: { id: { in: ids } },
      data: { source: platform.client.client_id },
    });
    await insertBadge(app, earner.id, { recipient, name: 'Added by the earner' });
    const first = await app.inject({ url: '/v1/pushed-badges?limit=2', headers: earner.session });
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.json().items.map((b: { acceptance: string }) => b.acceptance)).toEqual([
      'pending',
      'pending',
    ]);
    expect(String(first.headers.link)).toContain('</v1/pushed-badges?limit=2&offset=2>; rel="next"');
    const second = await app.inject({ url: '/v1/pushed-badges?limit=2&offset=2', headers: earner.session });
    expect(second.json().items.map((b: { acceptance: string }) => b.acceptance)).toEqual(['accepted']);
    expect(String(second.headers.link)).not.toContain('rel="next"');
    const seen = [...first.json().items, ...second.json().items].map((b: { id: string }) => b.id);
    expect(seen.sort()).toEqual([...ids].sort());
    expectProblem(
      await app.inject({ url: '/v1/pushed-badges?limit=101', headers: earner.session }),
      400,
      'validation_failed',
    );
  });
});
