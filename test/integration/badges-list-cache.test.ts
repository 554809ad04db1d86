// The backpack list answers repeated requests from a cache of rendered pages. These tests hold
// it to the uncached truth: any change to the earner's badges, made through this instance,
// another instance or the database itself, shows at once; statuses change when a badge expires
// though nothing was written; conditional requests get 304 only for the current page.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { testConfig } from '../support/app.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

describeEachDatabase('cached badge lists', (current) => {
  let clock = new Date('2030-01-01T00:00:00Z');
  let other: Database;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let earner: TestEarner;
  let headers: Record<string, string>;

  beforeAll(async () => {
    other = await openDatabase(current().url, { poolSize: 2 });
    a = await buildApp({ config: testConfig(), db: current().db, now: () => clock });
    b = await buildApp({ config: testConfig(), db: other, now: () => clock });
    await Promise.all([a.ready(), b.ready()]);
    earner = await createEarner(a);
    headers = { cookie: earner.session.cookie, origin: earner.session.origin };
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await other.close();
  });

  const list = async (app: FastifyInstance, extra: Record<string, string> = {}) =>
    app.inject({ url: '/v1/badges?limit=100', headers: { ...headers, ...extra } });
  const names = (res: { json: () => unknown }) =>
    (res.json() as { items: { name: string }[] }).items.map((i) => i.name);

  it('shows every change at once, wherever it was made, and answers 304 only for the current page', async () => {
    const recipient = earner.addresses[0] ?? '';
    await insertBadge(a, earner.id, { recipient, name: 'First', issuedOn: new Date('2029-01-01T00:00:00Z') });
    const first = await list(a);
    expect(first.statusCode).toBe(200);
    expect(names(first)).toEqual(['First']);
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^W\/"/);
    // The same page again: from the cache, identical, and 304 when asked conditionally.
    const again = await list(a);
    expect(again.body).toBe(first.body);
    expect((await list(a, { 'if-none-match': etag })).statusCode).toBe(304);

    // A badge written straight into the database (no service call) shows at once.
    await insertBadge(a, earner.id, {
      recipient,
      name: 'Second',
      issuedOn: new Date('2029-06-01T00:00:00Z'),
    });
    const afterInsert = await list(a, { 'if-none-match': etag });
    expect(afterInsert.statusCode).toBe(200);
    expect(names(afterInsert).sort()).toEqual(['First', 'Second']);
    expect(afterInsert.headers['x-total-count']).toBe('2');

    // A deletion through the other instance shows on this one at once.
    const id = (afterInsert.json() as { items: { id: string; name: string }[] }).items.find(
      (i) => i.name === 'First',
    )?.id;
    expect((await b.inject({ method: 'DELETE', url: `/v1/badges/${id}`, headers })).statusCode).toBe(204);
    expect(names(await list(a))).toEqual(['Second']);

    // Renaming in place (an update, as re-verification does) shows too.
    await current().db.prisma.backpackItem.updateMany({
      where: { earnerId: earner.id },
      data: { name: 'Renamed' },
    });
    expect(names(await list(a))).toEqual(['Renamed']);
  });

  it('shows a badge as expired once its expiry passes, with nothing written', async () => {
    const other = await createEarner(a);
    const h = { cookie: other.session.cookie, origin: other.session.origin };
    await insertBadge(a, other.id, {
      recipient: other.addresses[0] ?? '',
      name: 'Soon expired',
      expiresAt: new Date(clock.getTime() + 60_000),
    });
    const status = async () =>
      ((await a.inject({ url: '/v1/badges', headers: h })).json() as { items: { status: string }[] }).items[0]
        ?.status;
    expect(await status()).toBe('valid');
    expect(await status()).toBe('valid');
    clock = new Date(clock.getTime() + 61_000);
    expect(await status()).toBe('expired');
    const filtered = await a.inject({ url: '/v1/badges?status=valid', headers: h });
    expect((filtered.json() as { total: number }).total).toBe(0);
  });

  it('keeps each earner’s pages to that earner', async () => {
    const one = await createEarner(a);
    const two = await createEarner(a);
    await insertBadge(a, one.id, { recipient: one.addresses[0] ?? '', name: 'Only for one' });
    const h1 = { cookie: one.session.cookie, origin: one.session.origin };
    const h2 = { cookie: two.session.cookie, origin: two.session.origin };
    expect(names(await a.inject({ url: '/v1/badges', headers: h1 }))).toEqual(['Only for one']);
    expect(names(await a.inject({ url: '/v1/badges', headers: h2 }))).toEqual([]);
  });
});
