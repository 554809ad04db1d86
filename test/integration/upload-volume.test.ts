// What one account may add per hour: past UPLOAD_BYTES_PER_ACCOUNT_PER_HOUR a badge answers 409
// `limit_reached` and nothing is stored; deleting badges gives none of the allowance back.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountsApp, expectProblem, fakeClock } from '../support/accounts.ts';
import { testApp } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';
import { rowCounts } from '../support/table-walk.ts';

describeEachDatabase('upload volume per account', (current) => {
  let app: FastifyInstance;
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      FETCH_TIMEOUT_MS: '3000',
      RATE_LIMIT_MAX: '100000',
      UPLOAD_BYTES_PER_ACCOUNT_PER_HOUR: '8000',
    });
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  const add = async (e: TestEarner, name: string) => {
    const { jws } = await issuer.signed(e.addresses[0] as string, { name });
    return app.inject({ method: 'POST', url: '/v1/badges', headers: e.session, payload: { jws } });
  };

  it('refuses a badge past the hourly volume, storing nothing, even after deletions', async () => {
    const earner = await createEarner(app);
    const added: string[] = [];
    let refused: Awaited<ReturnType<typeof add>> | undefined;
    let before = await rowCounts(current().db);
    for (let i = 0; i < 40 && !refused; i++) {
      before = await rowCounts(current().db);
      const res = await add(earner, `Badge ${i}`);
      if (res.statusCode === 201) added.push(res.json().id);
      else refused = res;
    }
    expect(added.length).toBeGreaterThan(0);
    expect(refused).toBeDefined();
    expect(expectProblem(refused as Awaited<ReturnType<typeof add>>, 409, 'limit_reached').detail).toContain(
      '8000 bytes',
    );
    expect(await rowCounts(current().db)).toEqual(before);

    // Deleting what was added does not make room for more within the hour.
    for (const id of added) {
      const del = await app.inject({ method: 'DELETE', url: `/v1/badges/${id}`, headers: earner.session });
      expect(del.statusCode).toBe(204);
    }
    expectProblem(await add(earner, 'Again'), 409, 'limit_reached');

    // Another account has its own allowance.
    expect((await add(await createEarner(app), 'Mine')).statusCode).toBe(201);
  });

  it('gives the allowance back once an hour has passed since the minute the badges were added', async () => {
    const clock = fakeClock();
    const clocked = await accountsApp(
      current().db,
      {
        FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
        FETCH_TIMEOUT_MS: '3000',
        RATE_LIMIT_MAX: '100000',
        UPLOAD_BYTES_PER_ACCOUNT_PER_HOUR: '8000',
      },
      { now: clock.now },
    );
    try {
      const earner = await createEarner(clocked);
      const addAt = async (name: string) => {
        const { jws } = await issuer.signed(earner.addresses[0] as string, { name });
        return clocked.inject({
          method: 'POST',
          url: '/v1/badges',
          headers: earner.session,
          payload: { jws },
        });
      };
      let added = 0;
      let refused = false;
      for (let i = 0; i < 40 && !refused; i++) {
        const res = await addAt(`Badge ${i}`);
        if (res.statusCode === 201) added += 1;
        else {
          expectProblem(res, 409, 'limit_reached');
          refused = true;
        }
      }
      expect(added).toBeGreaterThan(1);
      expect(refused).toBe(true);

      clock.advance(59 * 60_000);
      expectProblem(await addAt('Still within the hour'), 409, 'limit_reached');
      // An hour after the end of the minute they were added in, they no longer count.
      clock.advance(2 * 60_000 + 1_000);
      expect((await addAt('A new hour')).statusCode).toBe(201);
    } finally {
      await clocked.close();
    }
  });
});
