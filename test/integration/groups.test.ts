import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../support/app.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, createToken, type TestEarner } from '../support/earners.ts';

type Json = Record<string, unknown>;

describeEachDatabase('groups', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(current().db);
  });
  afterAll(async () => {
    await app.close();
  });

  function as(earner: TestEarner) {
    const headers = { cookie: earner.session.cookie, origin: earner.session.origin };
    return {
      get: (url: string) => app.inject({ method: 'GET', url, headers }),
      delete: (url: string) => app.inject({ method: 'DELETE', url, headers }),
      send: (method: 'POST' | 'PATCH' | 'PUT', url: string, payload?: unknown) =>
        app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as Json }) }),
    };
  }

  async function earnerWithBadges(n: number) {
    const earner = await createEarner(app);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(
        await insertBadge(app, earner.id, { name: `Badge ${i}`, recipient: earner.addresses[0] ?? '' }),
      );
    }
    return { earner, ids };
  }

  async function memberRows(groupId: string) {
    return app.db.prisma.groupMember.findMany({ where: { groupId }, orderBy: { position: 'asc' } });
  }

  it('creates, reads, renames, describes, lists and deletes a group', async () => {
    const { earner, ids } = await earnerWithBadges(2);
    const created = await as(earner).send('POST', '/v1/groups', {
      name: 'Web skills',
      description: 'Summer course',
      badgeIds: [ids[1], ids[0]],
    });
    expect(created.statusCode).toBe(201);
    const group = created.json();
    expect(created.headers.location).toBe(`/v1/groups/${group.id}`);
    expect(group).toMatchObject({
      name: 'Web skills',
      description: 'Summer course',
      badgeCount: 2,
      shared: false,
    });
    expect(group.badges.map((b: Json) => b.id)).toEqual([ids[1], ids[0]]);
    expect(group.badges.map((b: Json) => b.position)).toEqual([0, 1]);

    const renamed = await as(earner).send('PATCH', `/v1/groups/${group.id}`, { name: 'Web development' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Web development', description: 'Summer course' });
    const described = await as(earner).send('PATCH', `/v1/groups/${group.id}`, { description: 'New' });
    expect(described.json()).toMatchObject({ name: 'Web development', description: 'New' });

    const list = await as(earner).get('/v1/groups');
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([expect.objectContaining({ id: group.id, badgeCount: 2 })]);

    const deleted = await as(earner).delete(`/v1/groups/${group.id}`);
    expect(deleted.statusCode).toBe(204);
    expect((await as(earner).get(`/v1/groups/${group.id}`)).statusCode).toBe(404);
    expect(await memberRows(group.id)).toEqual([]);
    // The badges themselves stay.
    expect(await app.db.prisma.backpackItem.count({ where: { earnerId: earner.id } })).toBe(2);
  });

  it('works with a bearer token carrying the groups scopes, and refuses one without them', async () => {
    const { earner } = await earnerWithBadges(0);
    const write = await createToken(app, earner.id, ['groups:read', 'groups:write']);
    const read = await createToken(app, earner.id, ['groups:read']);
    const created = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: { authorization: write },
      payload: { name: 'Token group' },
    });
    expect(created.statusCode).toBe(201);
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: { authorization: read },
      payload: { name: 'Nope' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('insufficient_scope');
    expect(await app.db.prisma.group.count({ where: { earnerId: earner.id } })).toBe(1);
  });

  it('orders badges with PUT, adds at the end, removes, and keeps a badge in several groups', async () => {
    const { earner, ids } = await earnerWithBadges(3);
    const [a, b, c] = ids as [string, string, string];
    const g1 = (await as(earner).send('POST', '/v1/groups', { name: 'One' })).json();
    const g2 = (await as(earner).send('POST', '/v1/groups', { name: 'Two', badgeIds: [a] })).json();

    const put = await as(earner).send('PUT', `/v1/groups/${g1.id}/badges`, { badgeIds: [c, a, b] });
    expect(put.statusCode).toBe(200);
    expect(put.json().badges.map((x: Json) => x.id)).toEqual([c, a, b]);

    const reordered = await as(earner).send('PUT', `/v1/groups/${g1.id}/badges`, { badgeIds: [b, c] });
    expect(reordered.json().badges.map((x: Json) => x.id)).toEqual([b, c]);

    const added = await as(earner).send('PUT', `/v1/groups/${g1.id}/badges/${a}`);
    expect(added.statusCode).toBe(200);
    expect(added.json().badges.map((x: Json) => x.id)).toEqual([b, c, a]);
    const again = await as(earner).send('PUT', `/v1/groups/${g1.id}/badges/${a}`);
    expect(again.json().badges.map((x: Json) => x.id)).toEqual([b, c, a]);

    const removed = await as(earner).delete(`/v1/groups/${g1.id}/badges/${c}`);
    expect(removed.statusCode).toBe(204);
    expect((await as(earner).get(`/v1/groups/${g1.id}`)).json().badges.map((x: Json) => x.id)).toEqual([
      b,
      a,
    ]);
    const removedAgain = await as(earner).delete(`/v1/groups/${g1.id}/badges/${c}`);
    expect(removedAgain.statusCode).toBe(404);

    // `a` is in both groups.
    expect((await as(earner).get(`/v1/groups/${g2.id}`)).json().badges.map((x: Json) => x.id)).toEqual([a]);
  });

  it("refuses another earner's badge with unknown_badges and changes nothing", async () => {
    const { earner, ids } = await earnerWithBadges(1);
    const other = await earnerWithBadges(1);
    const theirs = other.ids[0] ?? '';
    const group = (await as(earner).send('POST', '/v1/groups', { name: 'Mine', badgeIds: ids })).json();
    const before = await memberRows(group.id);

    const put = await as(earner).send('PUT', `/v1/groups/${group.id}/badges`, { badgeIds: [theirs, ...ids] });
    expect(put.statusCode).toBe(422);
    expect(put.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(put.json()).toMatchObject({ code: 'unknown_badges', badgeIds: [theirs] });

    const add = await as(earner).send('PUT', `/v1/groups/${group.id}/badges/${theirs}`);
    expect(add.statusCode).toBe(404);
    expect(add.json().code).toBe('not_found');

    const create = await as(earner).send('POST', '/v1/groups', { name: 'Sneaky', badgeIds: [theirs] });
    expect(create.statusCode).toBe(422);
    expect(create.json().code).toBe('unknown_badges');

    expect(await memberRows(group.id)).toEqual(before);
    expect(await app.db.prisma.group.count({ where: { earnerId: earner.id } })).toBe(1);
  });

  it('rejects bad input with precise problems and changes nothing', async () => {
    const { earner, ids } = await earnerWithBadges(1);
    const group = (await as(earner).send('POST', '/v1/groups', { name: 'Stable', badgeIds: ids })).json();
    const cases: [string, 'POST' | 'PATCH' | 'PUT', string, unknown, string][] = [
      ['unknown field', 'POST', '/v1/groups', { name: 'x', colour: 'red' }, '/colour'],
      ['empty name', 'POST', '/v1/groups', { name: '' }, '/name'],
      ['long name', 'POST', '/v1/groups', { name: 'x'.repeat(101) }, '/name'],
      ['missing name', 'POST', '/v1/groups', { description: 'x' }, '/name'],
      ['wrong type', 'PATCH', `/v1/groups/${group.id}`, { name: 42 }, '/name'],
      ['empty patch', 'PATCH', `/v1/groups/${group.id}`, {}, ''],
      ['unknown patch field', 'PATCH', `/v1/groups/${group.id}`, { earnerId: 'x' }, '/earnerId'],
      ['duplicate ids', 'PUT', `/v1/groups/${group.id}/badges`, { badgeIds: [ids[0], ids[0]] }, '/badgeIds'],
      ['ids not a list', 'PUT', `/v1/groups/${group.id}/badges`, { badgeIds: 'x' }, '/badgeIds'],
    ];
    for (const [what, method, url, payload, pointer] of cases) {
      const res = await as(earner).send(method, url, payload);
      expect(res.statusCode, what).toBe(400);
      expect(res.json().code, what).toBe('validation_failed');
      expect(
        res.json().errors.some((e: Json) => e.pointer === pointer),
        `${what}: ${JSON.stringify(res.json().errors)}`,
      ).toBe(true);
    }
    const form = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: {
        cookie: earner.session.cookie,
        origin: earner.session.origin,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'name=x',
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().code).toBe('unsupported_media_type');
    const after = (await as(earner).get(`/v1/groups/${group.id}`)).json();
    expect(after).toMatchObject({ name: 'Stable', description: '', badgeCount: 1 });
    expect(await app.db.prisma.group.count({ where: { earnerId: earner.id } })).toBe(1);
  });

  it('keeps revoked and expired badges listed with their status', async () => {
    const earner = await createEarner(app);
    const recipient = earner.addresses[0] ?? '';
    const valid = await insertBadge(app, earner.id, { recipient });
    const revoked = await insertBadge(app, earner.id, { recipient, status: 'revoked' });
    const expired = await insertBadge(app, earner.id, { recipient, status: 'expired' });
    const lapsed = await insertBadge(app, earner.id, {
      recipient,
      expiresAt: new Date('2020-01-01T00:00:00Z'),
    });
    const group = (
      await as(earner).send('POST', '/v1/groups', {
        name: 'All',
        badgeIds: [valid, revoked, expired, lapsed],
      })
    ).json();
    expect(group.badges.map((b: Json) => b.status)).toEqual(['valid', 'revoked', 'expired', 'expired']);
    expect(group.badges[3].expiresAt).toBe('2020-01-01T00:00:00.000Z');
  });

  it('drops a deleted badge from every group that held it (foreign key cascade)', async () => {
    const { earner, ids } = await earnerWithBadges(2);
    const [a, b] = ids as [string, string];
    const g1 = (await as(earner).send('POST', '/v1/groups', { name: 'One', badgeIds: [a, b] })).json();
    const g2 = (await as(earner).send('POST', '/v1/groups', { name: 'Two', badgeIds: [a] })).json();
    const deleted = await as(earner).delete(`/v1/badges/${a}`);
    expect(deleted.statusCode).toBe(204);
    expect(await app.db.prisma.groupMember.count({ where: { itemId: a } })).toBe(0);
    expect((await as(earner).get(`/v1/groups/${g1.id}`)).json().badges.map((x: Json) => x.id)).toEqual([b]);
    expect((await as(earner).get(`/v1/groups/${g2.id}`)).json()).toMatchObject({ badgeCount: 0, badges: [] });
  });

  it('answers the badge list filter by group and shows the groups in a badge detail', async () => {
    const { earner, ids } = await earnerWithBadges(3);
    const [a, b, c] = ids as [string, string, string];
    const g1 = (await as(earner).send('POST', '/v1/groups', { name: 'One', badgeIds: [a, c] })).json();
    const g2 = (await as(earner).send('POST', '/v1/groups', { name: 'Two', badgeIds: [a] })).json();
    const list = await as(earner).get(`/v1/badges?groupId=${g1.id}`);
    expect(list.statusCode).toBe(200);
    const listed = JSON.stringify(list.json());
    expect(listed).toContain(a);
    expect(listed).toContain(c);
    expect(listed).not.toContain(b);
    const detail = await as(earner).get(`/v1/badges/${a}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json().sections.groups).toEqual([
      { id: g1.id, name: 'One' },
      { id: g2.id, name: 'Two' },
    ]);
  });
});
