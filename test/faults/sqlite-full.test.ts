// A full SQLite database (max_page_count reached): writes fail with a clear problem, reads go
// on, nothing is half written, and the file stays sound.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { applyMigrations } from '../../src/db/migrations.ts';
import { testApp } from '../support/app.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { createEmptyDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

describe('SQLite when the database is full', () => {
  let db: Database;
  let app: FastifyInstance;
  let drop: () => Promise<void>;
  let earner: TestEarner;
  let badgeIds: string[];

  beforeAll(async () => {
    const created = await createEmptyDatabase('sqlite');
    drop = created.drop;
    await applyMigrations(created.url);
    db = await openDatabase(created.url);
    app = await testApp(db);
    earner = await createEarner(app);
    badgeIds = [];
    for (let i = 0; i < 5; i++) {
      badgeIds.push(
        await insertBadge(app, earner.id, { recipient: earner.addresses[0] ?? '', name: `Badge ${i}` }),
      );
    }
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await drop();
  });

  async function pages(): Promise<number> {
    const [row] = await db.prisma.$queryRawUnsafe<{ page_count: bigint }[]>('PRAGMA page_count');
    return Number(row?.page_count ?? 0);
  }

  it('refuses writes with storage_full, keeps serving reads, and stays consistent', async () => {
    const headers = { cookie: earner.session.cookie, origin: earner.session.origin };
    // Stop the file from growing at its current size: the next pages needed are refused.
    await db.prisma.$queryRawUnsafe(`PRAGMA max_page_count = ${await pages()}`);
    const refusals: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/groups',
        headers,
        payload: { name: `Group ${i} ${'x'.repeat(90)}`, description: 'd'.repeat(1900), badgeIds },
      });
      if (res.statusCode === 507) {
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.json()).toMatchObject({ status: 507, code: 'storage_full' });
        refusals.push(i);
      } else {
        expect(res.statusCode).toBe(201);
      }
    }
    expect(refusals.length).toBeGreaterThan(0);

    // Reads keep working.
    const list = await app.inject({ url: '/v1/badges', headers });
    expect(list.statusCode).toBe(200);
    expect((list.json() as { total: number }).total).toBe(5);
    const groups = await app.inject({ url: '/v1/groups', headers });
    expect(groups.statusCode).toBe(200);

    // No group was stored without all of its members.
    for (const group of (groups.json() as { items: { id: string }[] }).items) {
      const members = await db.prisma.groupMember.count({ where: { groupId: group.id } });
      expect(members).toBe(badgeIds.length);
    }
    const [check] = await db.prisma.$queryRawUnsafe<{ integrity_check: string }[]>('PRAGMA integrity_check');
    expect(check?.integrity_check).toBe('ok');

    // With room again, writes succeed.
    await db.prisma.$queryRawUnsafe('PRAGMA max_page_count = 1073741823');
    const after = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers,
      payload: { name: 'After' },
    });
    expect(after.statusCode).toBe(201);
  });
});
