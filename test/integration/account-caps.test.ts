// What one account may hold: groups and share links are capped (409 `limit_reached`, nothing
// stored), and the group list comes a page at a time like the badge list.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectProblem } from '../support/accounts.ts';
import { testApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';
import { rowCounts } from '../support/table-walk.ts';

describeEachDatabase('what one account may hold', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(current().db, { MAX_GROUPS_PER_ACCOUNT: '3', MAX_SHARE_LINKS_PER_ACCOUNT: '2' });
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
});
