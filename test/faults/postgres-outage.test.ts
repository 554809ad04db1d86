// PostgreSQL going away under load and coming back. The service reaches PostgreSQL through a
// loopback proxy that the test switches off and on, so the real server keeps running for the
// other suites. While it is away: the process stays up, requests get 503 problems and /readyz
// says so; when it is back, service resumes by itself; a multi-row change cut in the middle is
// either whole or absent.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { applyMigrations } from '../../src/db/migrations.ts';
import { testApp } from '../support/app.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { createEmptyDatabase, postgresServerUrl } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!postgresServerUrl())('PostgreSQL outage', () => {
  let proxy: TcpProxy;
  let db: Database;
  let app: FastifyInstance;
  let drop: () => Promise<void>;
  let earner: TestEarner;
  let headers: Record<string, string>;
  let badgeIds: string[];

  beforeAll(async () => {
    const created = await createEmptyDatabase('postgres');
    drop = created.drop;
    await applyMigrations(created.url);
    const direct = new URL(created.url);
    proxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
    await proxy.start();
    const viaProxy = new URL(created.url);
    viaProxy.port = String(proxy.port);
    db = await openDatabase(viaProxy.toString(), { connectTimeoutMs: 1000, poolSize: 4 });
    app = await testApp(db);
    earner = await createEarner(app);
    headers = { cookie: earner.session.cookie, origin: earner.session.origin };
    badgeIds = [];
    for (let i = 0; i < 40; i++) {
      badgeIds.push(
        await insertBadge(app, earner.id, { recipient: earner.addresses[0] ?? '', name: `Badge ${i}` }),
      );
    }
  });
  afterAll(async () => {
    await proxy.start().catch(() => undefined);
    await app?.close();
    await db?.close();
    await drop?.();
  });

  function expectUnavailable(res: LightMyRequestResponse): void {
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 503, code: 'database_unavailable' });
    expect(res.body).not.toMatch(/ECONNREFUSED|ECONNRESET|127\.0\.0\.1|stack/);
  }

  it('answers 503 while the database is away and recovers by itself', async () => {
    expect((await app.inject({ url: '/v1/badges', headers })).statusCode).toBe(200);

    // Requests in flight when the database goes away, and requests after.
    const inFlight = Array.from({ length: 30 }, () => app.inject({ url: '/v1/badges?limit=100', headers }));
    await proxy.stop();
    for (const res of await Promise.all(inFlight)) expect([200, 503]).toContain(res.statusCode);
    for (let i = 0; i < 10; i++) expectUnavailable(await app.inject({ url: '/v1/badges', headers }));
    expectUnavailable(
      await app.inject({ method: 'POST', url: '/v1/groups', headers, payload: { name: 'x' } }),
    );
    const ready = await app.inject({ url: '/readyz' });
    expectUnavailable(ready);
    expect((ready.json() as { database: { reachable: boolean } }).database.reachable).toBe(false);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);

    await proxy.start();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await app.inject({ url: '/v1/badges', headers })).statusCode;
      if (status !== 200) await sleep(100);
    }
    expect(status).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('never leaves a multi-row change half applied when the connection is cut', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers,
      payload: { name: 'Atomic' },
    });
    expect(created.statusCode).toBe(201);
    const groupId = (created.json() as { id: string }).id;
    const sets = [badgeIds.slice(0, 20), badgeIds.slice(20, 40)];
    let current: string[] = [];
    const outcomes = new Set<number>();
    for (let round = 0; round < 12; round++) {
      const next = sets[round % 2] ?? [];
      const put = app.inject({
        method: 'PUT',
        url: `/v1/groups/${groupId}/badges`,
        headers,
        payload: { badgeIds: next },
      });
      await sleep(round % 4);
      await proxy.stop();
      const res = await put;
      outcomes.add(res.statusCode);
      await proxy.start();
      let members: string[] | null = null;
      for (let i = 0; i < 100 && members === null; i++) {
        const got = await app.inject({ url: `/v1/groups/${groupId}`, headers });
        if (got.statusCode === 200)
          members = (got.json() as { badges: { id: string }[] }).badges.map((b) => b.id);
        else await sleep(100);
      }
      expect(members).not.toBeNull();
      if (res.statusCode === 200) expect(members).toEqual(next);
      else {
        expect(res.statusCode).toBe(503);
        // Whole or absent: the set before the request or the one it asked for.
        expect([JSON.stringify(current), JSON.stringify(next)]).toContain(JSON.stringify(members));
      }
      current = members ?? [];
    }
    // The cut must have hit at least one change in flight, or this proved nothing.
    expect(outcomes.has(503)).toBe(true);
  });
});
