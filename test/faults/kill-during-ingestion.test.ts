// The process killed with SIGKILL while badges are being added: after a restart no badge is
// half stored (every item has its image when it says it has one), the database is sound, and
// adding the same badges again completes them exactly once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { openDatabase } from '../../src/db/client.ts';
import { testConfig } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';
import { startServer } from '../support/server.ts';

describeEachDatabase('SIGKILL during ingestion', (current) => {
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await LocalIssuer.start();
  });
  afterAll(() => issuer.close());

  it('leaves no half-stored badge behind', async () => {
    // The earner and session are made with the app in this process, on the same database.
    const setup = await buildApp({ config: testConfig(), db: current().db });
    const earner = await createEarner(setup);
    await setup.close();
    const address = earner.addresses[0] ?? '';
    const urls = Array.from({ length: 25 }, () => issuer.hosted(address).url);
    const env = {
      DATABASE_URL: current().url,
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      RATE_LIMIT_MAX: '100000',
      LOG_LEVEL: 'warn',
    };
    const headers = {
      cookie: earner.session.cookie,
      origin: earner.session.origin,
      'content-type': 'application/json',
    };

    const first = await startServer(env);
    const posts = urls.map((url) =>
      fetch(`${first.url}/v1/badges`, { method: 'POST', headers, body: JSON.stringify({ url }) }).then(
        (r) => r.status,
        () => 0,
      ),
    );
    await new Promise((r) => setTimeout(r, 150));
    await first.stop('SIGKILL');
    const statuses = await Promise.all(posts);
    // Some requests were cut off by the kill (0), the others finished before it.
    expect(statuses.every((s) => s === 0 || s === 201)).toBe(true);
    expect(statuses.some((s) => s === 0)).toBe(true);

    const db = await openDatabase(current().url);
    try {
      const items = await db.prisma.backpackItem.findMany({
        where: { earnerId: earner.id },
        select: { id: true, imageType: true, image: { select: { itemId: true } } },
      });
      for (const item of items) if (item.imageType !== null) expect(item.image, item.id).not.toBeNull();
      if (current().name === 'sqlite') {
        const [check] =
          await db.prisma.$queryRawUnsafe<{ integrity_check: string }[]>('PRAGMA integrity_check');
        expect(check?.integrity_check).toBe('ok');
      }
    } finally {
      await db.close();
    }

    const second = await startServer(env);
    try {
      for (const url of urls) {
        const res = await fetch(`${second.url}/v1/badges`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ url }),
        });
        expect([200, 201]).toContain(res.status);
      }
      const list = await fetch(`${second.url}/v1/badges?limit=100`, { headers });
      const body = (await list.json()) as { total: number; items: { id: string }[] };
      expect(body.total).toBe(urls.length);
      for (const item of body.items.slice(0, 10)) {
        expect((await fetch(`${second.url}/v1/badges/${item.id}/image`, { headers })).status).toBe(200);
      }
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }
  }, 120_000);
});
