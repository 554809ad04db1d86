// Two service instances on one PostgreSQL (and, for completeness, one SQLite file): a session
// made on one is honoured by the other and ended for both at once; each scheduled job runs
// once per period across the instances, however their runs interleave.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { testConfig } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

describeEachDatabase('two instances on one database', (current) => {
  let other: Database;
  let a: FastifyInstance;
  let b: FastifyInstance;
  beforeAll(async () => {
    // The second instance has its own connection (pool), as a second process would.
    other = await openDatabase(current().url, { poolSize: 4 });
    a = await buildApp({ config: testConfig(), db: current().db });
    b = await buildApp({ config: testConfig(), db: other });
    await Promise.all([a.ready(), b.ready()]);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await other.close();
  });

  it('honours a session made on the other instance, and ends it everywhere', async () => {
    const earner = await createEarner(a);
    const headers = { cookie: earner.session.cookie, origin: earner.session.origin };
    expect((await b.inject({ url: '/v1/profile', headers })).statusCode).toBe(200);
    expect((await b.inject({ method: 'DELETE', url: '/v1/sessions/current', headers })).statusCode).toBe(204);
    const after = await a.inject({ url: '/v1/profile', headers });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ code: 'invalid_credentials' });
  });

  it('runs each job once per period across both instances', async () => {
    const runs: { instance: string; at: number }[] = [];
    for (const [name, app] of [
      ['a', a],
      ['b', b],
    ] as const) {
      app.services.scheduler.register({
        name: `count-${current().name}`,
        everyMs: 60_000,
        run: async (now) => {
          runs.push({ instance: name, at: now.getTime() });
        },
      });
    }
    const start = Date.UTC(2030, 0, 1);
    // Ten periods; in each, both instances try several times, concurrently.
    for (let period = 0; period < 10; period++) {
      const attempts = [0, 1_000, 30_000, 59_000].flatMap((offset) => {
        const now = new Date(start + period * 60_000 + offset);
        return [a, b].map((app) => app.services.scheduler.runOnce(`count-${current().name}`, now));
      });
      const ran = await Promise.all(attempts);
      expect(ran.filter(Boolean)).toHaveLength(1);
    }
    expect(runs).toHaveLength(10);
    expect(new Set(runs.map((r) => r.instance)).size).toBeGreaterThanOrEqual(1);

    // The service's own jobs take the same leases.
    for (const job of a.services.scheduler.names().filter((n) => !n.startsWith('count-'))) {
      const now = new Date(start + 1e9);
      const ran = await Promise.all([
        a.services.scheduler.runOnce(job, now),
        b.services.scheduler.runOnce(job, now),
      ]);
      expect(ran.filter(Boolean), job).toHaveLength(1);
    }
  });
});
