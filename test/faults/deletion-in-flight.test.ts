// Deleting an account while the same earner's reads and badge additions are in flight: every
// request ends with a documented answer (never a 5xx), and afterwards no row anywhere refers
// to the earner or holds one of their addresses.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';
import { findTraces } from '../support/table-walk.ts';

describeEachDatabase('account deletion with requests in flight', (current) => {
  let issuer: LocalIssuer;
  let app: FastifyInstance;
  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      RATE_LIMIT_MAX: '100000',
    });
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  it('leaves no trace of the earner, whatever was in flight', async () => {
    for (let round = 0; round < 3; round++) {
      const earner = await createEarner(app);
      const address = earner.addresses[0] ?? '';
      const headers = { cookie: earner.session.cookie, origin: earner.session.origin };
      for (let i = 0; i < 3; i++) {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/badges',
          headers,
          payload: { url: issuer.hosted(address).url },
        });
        expect(res.statusCode).toBe(201);
      }
      const traffic = [
        ...Array.from({ length: 20 }, () => app.inject({ url: '/v1/badges', headers })),
        ...Array.from({ length: 10 }, () =>
          app.inject({
            method: 'POST',
            url: '/v1/badges',
            headers,
            payload: { url: issuer.hosted(address).url },
          }),
        ),
        ...Array.from({ length: 5 }, () =>
          app.inject({ method: 'POST', url: '/v1/groups', headers, payload: { name: 'g' } }),
        ),
      ];
      const deletion = app.inject({ method: 'DELETE', url: '/v1/account', headers });
      const answers = await Promise.all([...traffic, deletion]);
      expect((await deletion).statusCode).toBe(204);
      for (const res of answers) {
        expect(res.statusCode, res.body).toBeLessThan(500);
      }
      expect(await findTraces(current().db, [earner.id, address])).toEqual([]);
    }
  });
});
