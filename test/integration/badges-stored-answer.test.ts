// A badge just added is answered as it was stored, without reading it back: the answer to the
// add is the badge as every later read shows it, and the dates it was stored with sort and
// filter like any other (issued order, expiry, the added-since filter of the issuer APIs).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

describeEachDatabase('badges: the answer to an add is the badge stored', (current) => {
  let app: FastifyInstance;
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      FETCH_TIMEOUT_MS: '3000',
      RATE_LIMIT_MAX: '100000',
    });
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  it('answers an added badge exactly as reading it later does', async () => {
    const earner = await createEarner(app);
    const recipient = earner.addresses[0] as string;
    const { jws } = await issuer.signed(recipient, {
      name: 'Stored as answered',
      issuedOn: '2024-03-05T06:07:08.123Z',
      expires: '2099-01-02T03:04:05.678Z',
    });
    const added = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: earner.session,
      payload: { jws },
    });
    expect(added.statusCode).toBe(201);
    const answer = added.json();
    expect(answer.issuedOn).toBe('2024-03-05T06:07:08.123Z');
    expect(answer.expiresAt).toBe('2099-01-02T03:04:05.678Z');
    expect(answer.imageUrl).toBe(`/v1/badges/${answer.id}/image`);

    const read = await app.inject({ method: 'GET', url: `/v1/badges/${answer.id}`, headers: earner.session });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(answer);

    const image = await app.inject({ method: 'GET', url: answer.imageUrl, headers: earner.session });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toContain('image/png');

    // Adding it again answers the badge held, the same.
    const again = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: earner.session,
      payload: { jws },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(answer);
  });

  it('sorts and filters added badges by the dates they were stored with', async () => {
    const earner = await createEarner(app);
    const recipient = earner.addresses[0] as string;
    const add = async (name: string, issuedOn: string, expires?: string) => {
      const { jws } = await issuer.signed(recipient, { name, issuedOn, ...(expires ? { expires } : {}) });
      const res = await app.inject({
        method: 'POST',
        url: '/v1/badges',
        headers: earner.session,
        payload: { jws },
      });
      expect(res.statusCode).toBe(201);
      return res.json().id as string;
    };
    const middle = await add('Middle', '2023-06-01T00:00:00.500Z');
    const oldest = await add('Oldest', '2021-01-01T00:00:00Z', '2022-01-01T00:00:00Z');
    const newest = await add('Newest', '2025-12-31T23:59:59.999Z', '2099-01-01T00:00:00Z');

    const list = async (query: string) => {
      const res = await app.inject({ method: 'GET', url: `/v1/badges?${query}`, headers: earner.session });
      expect(res.statusCode).toBe(200);
      return (res.json().items as { id: string }[]).map((i) => i.id);
    };
    expect(await list('sort=issued')).toEqual([oldest, middle, newest]);
    expect(await list('sort=-issued')).toEqual([newest, middle, oldest]);
    expect(await list('status=expired')).toEqual([oldest]);
    expect((await list('status=valid')).sort()).toEqual([middle, newest].sort());
  });
});
