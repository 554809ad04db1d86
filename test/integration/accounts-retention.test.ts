import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Scheduler } from '../../src/jobs/scheduler.ts';
import { accountsApp, fakeClock, ORIGIN, signInByEmail, uniqueAddress } from '../support/accounts.ts';
import { describeEachDatabase } from '../support/databases.ts';

const HOUR = 3_600_000;

describeEachDatabase('jobs: scheduler leases', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await accountsApp(current().db);
  });
  afterAll(() => app.close());

  it('lets only one instance run a job per period, then the next period runs again', async () => {
    const name = `test.lease.${Date.now()}`;
    const runs: string[] = [];
    const instances = ['a', 'b', 'c'].map((holder) => {
      const s = new Scheduler(current().db.prisma, () => new Date(), app.log, holder);
      s.register({ name, everyMs: 60_000, run: async () => void runs.push(holder) });
      return s;
    });
    const t0 = new Date();
    const first = await Promise.all(instances.map((s) => s.runOnce(name, t0)));
    expect(first.filter(Boolean)).toHaveLength(1);
    expect(runs).toHaveLength(1);
    // Later in the same period: nobody.
    const again = await Promise.all(instances.map((s) => s.runOnce(name, new Date(t0.getTime() + 30_000))));
    expect(again.filter(Boolean)).toHaveLength(0);
    // Next period: exactly one again.
    const next = await Promise.all(instances.map((s) => s.runOnce(name, new Date(t0.getTime() + 60_000))));
    expect(next.filter(Boolean)).toHaveLength(1);
    expect(runs).toHaveLength(2);
    const lease = await current().db.prisma.jobLease.findUnique({ where: { name } });
    expect(lease?.leasedUntil.getTime()).toBe(t0.getTime() + 120_000);
  });

  it('runs registered jobs on a timer once started, and stops', async () => {
    const scheduler = new Scheduler(current().db.prisma, () => new Date(), app.log);
    let runs = 0;
    scheduler.register({
      name: `test.timer.${Date.now()}`,
      everyMs: 1000,
      run: async () => {
        runs += 1;
      },
    });
    scheduler.start();
    const deadline = Date.now() + 5000;
    while (runs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await scheduler.stop();
    expect(runs).toBe(1);
    const after = runs;
    await new Promise((r) => setTimeout(r, 1300));
    expect(runs).toBe(after);
  });

  it('refuses duplicate names and unknown jobs', async () => {
    const scheduler = new Scheduler(current().db.prisma, () => new Date(), app.log);
    scheduler.register({ name: 'dup', everyMs: 1000, run: async () => undefined });
    expect(() => scheduler.register({ name: 'dup', everyMs: 1000, run: async () => undefined })).toThrow();
    await expect(scheduler.runOnce('nope')).rejects.toThrow();
    expect(app.services.scheduler.names()).toContain('accounts.retention');
  });
});

describeEachDatabase('accounts: retention', (current) => {
  const clock = fakeClock();
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await accountsApp(current().db, { SIGN_IN_RATE_LIMIT_MAX: '1000' }, { now: clock.now });
  });
  afterAll(() => app.close());

  it('purges expired and idle sessions, spent codes and expired tokens, and keeps the rest', async () => {
    const prisma = current().db.prisma;
    const idle = await signInByEmail(app);
    const idleId = idle.sessionId;
    const shortToken = (
      await app.inject({
        method: 'POST',
        url: '/v1/access-tokens',
        headers: idle.headers,
        payload: {
          name: 'short',
          scopes: ['badges:read'],
          expiresAt: new Date(clock.now().getTime() + HOUR).toISOString(),
        },
      })
    ).json().id;
    const lasting = (
      await app.inject({
        method: 'POST',
        url: '/v1/access-tokens',
        headers: idle.headers,
        payload: { name: 'lasting', scopes: ['badges:read'] },
      })
    ).json().id;
    const unusedAddress = uniqueAddress();
    await app.inject({
      method: 'POST',
      url: '/v1/auth/email-links',
      headers: { origin: ORIGIN },
      payload: { email: unusedAddress },
    });

    // 169 hours later the first session is idle past its limit; a new one is live.
    clock.advance(169 * HOUR);
    const active = await signInByEmail(app);
    const freshAddress = uniqueAddress();
    await app.inject({
      method: 'POST',
      url: '/v1/auth/email-links',
      headers: { origin: ORIGIN },
      payload: { email: freshAddress },
    });

    expect(await app.services.scheduler.runOnce('accounts.retention')).toBe(true);
    expect(await prisma.session.findUnique({ where: { id: idleId } })).toBeNull();
    expect(await prisma.session.findUnique({ where: { id: active.sessionId } })).not.toBeNull();
    expect(await prisma.accessToken.findUnique({ where: { id: shortToken } })).toBeNull();
    expect(await prisma.accessToken.findUnique({ where: { id: lasting } })).not.toBeNull();
    // Codes long expired or used go; the code sent a moment ago stays (it still counts for the limit).
    expect(await prisma.signInCode.count({ where: { address: unusedAddress } })).toBe(0);
    expect(await prisma.signInCode.count({ where: { address: idle.address } })).toBe(0);
    expect(await prisma.signInCode.count({ where: { address: freshAddress } })).toBe(1);
    // The lease holds for the hour: a second run in the same period does nothing.
    expect(await app.services.scheduler.runOnce('accounts.retention')).toBe(false);
  });
});
