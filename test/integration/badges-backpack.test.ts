import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSafeFetcher, verifyBadge } from '../../src/modules/openbadges/index.ts';
import { testApp } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, createToken, type TestEarner } from '../support/earners.ts';

describeEachDatabase('badges: the backpack', (current) => {
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

  const headers = (e: TestEarner) => ({ cookie: e.session.cookie, origin: e.session.origin });
  const addSigned = async (e: TestEarner, name: string, issuedOn = '2024-01-01T00:00:00Z') => {
    const { id, jws } = await issuer.signed(e.addresses[0] as string, { name, issuedOn });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: headers(e),
      payload: { jws },
    });
    expect(res.statusCode, res.body).toBe(201);
    return { id: res.json().id as string, assertionId: id, jws };
  };
  const list = (e: TestEarner, query = '') =>
    app.inject({ method: 'GET', url: `/v1/badges${query}`, headers: headers(e) });

  it('lists with filters, text search without regard to case, sort, pages, Link and total', async () => {
    const earner = await createEarner(app);
    await addSigned(earner, 'Zebra Tamer', '2024-03-01T00:00:00Z');
    await addSigned(earner, 'apple picker', '2024-01-01T00:00:00Z');
    await addSigned(earner, 'Éclair Baker 100%', '2024-02-01T00:00:00Z');
    const other = await createEarner(app);
    await addSigned(other, 'Not Mine');

    const all = await list(earner, '?sort=name');
    expect(all.statusCode).toBe(200);
    expect(all.headers['x-total-count']).toBe('3');
    // Only ASCII names are compared: where accented letters sort depends on the database's collation.
    const names = all.json().items.map((b: { name: string }) => b.name);
    expect(names.indexOf('apple picker')).toBeLessThan(names.indexOf('Zebra Tamer'));
    expect(names).toHaveLength(3);
    const reversed = (await list(earner, '?sort=-name')).json().items.map((b: { name: string }) => b.name);
    expect(reversed.indexOf('Zebra Tamer')).toBeLessThan(reversed.indexOf('apple picker'));
    expect(all.json().items[0]).not.toHaveProperty('original');
    expect(all.json().items[0]).not.toHaveProperty('checks');

    const byIssued = await list(earner, '?sort=-issued');
    expect(byIssued.json().items.map((b: { name: string }) => b.name)).toEqual([
      'Zebra Tamer',
      'Éclair Baker 100%',
      'apple picker',
    ]);

    const search = await list(earner, `?q=${encodeURIComponent('ÉCLAIR')}`);
    expect(search.json().items.map((b: { name: string }) => b.name)).toEqual(['Éclair Baker 100%']);
    const percent = await list(earner, `?q=${encodeURIComponent('0%')}`);
    expect(percent.json().total).toBe(1);
    const byIssuerName = await list(earner, '?q=local%20ISSUER');
    expect(byIssuerName.json().total).toBe(3);
    const byIssuer = await list(earner, `?issuerId=${encodeURIComponent(`${issuer.origin}/issuer`)}`);
    expect(byIssuer.json().total).toBe(3);
    const noIssuer = await list(earner, '?issuerId=https%3A%2F%2Fnobody.example');
    expect(noIssuer.json()).toMatchObject({ total: 0, items: [] });
    expect((await list(earner, '?status=valid')).json().total).toBe(3);
    expect((await list(earner, '?status=revoked')).json().total).toBe(0);

    const page2 = await list(earner, '?sort=name&limit=1&offset=1');
    expect(page2.json()).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page2.json().items.map((b: { name: string }) => b.name)).toEqual(['Zebra Tamer']);
    const link = String(page2.headers.link);
    expect(link).toContain('</v1/badges?sort=name&limit=1&offset=0>; rel="first"');
    expect(link).toContain('</v1/badges?sort=name&limit=1&offset=0>; rel="prev"');
    expect(link).toContain('</v1/badges?sort=name&limit=1&offset=2>; rel="next"');
    expect(link).toContain('</v1/badges?sort=name&limit=1&offset=2>; rel="last"');
    const lastPage = await list(earner, '?sort=name&limit=1&offset=2');
    expect(String(lastPage.headers.link)).not.toContain('rel="next"');

    for (const bad of ['?limit=0', '?limit=101', '?sort=size', '?status=lost', '?colour=red', '?offset=-1']) {
      const res = await list(earner, bad);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    const unknownGroup = await list(earner, `?groupId=${randomUUID()}`);
    expect(unknownGroup.statusCode).toBe(404);
  });

  it('reads one badge in full, with a token holding badges:read', async () => {
    const earner = await createEarner(app);
    const { id, jws } = await addSigned(earner, 'Readable');
    const token = await createToken(app, earner.id, ['badges:read']);
    const res = await app.inject({
      method: 'GET',
      url: `/v1/badges/${id}`,
      headers: { authorization: token },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id,
      name: 'Readable',
      original: { format: 'jws', text: jws },
      normalized: { name: 'Readable', issuer: { name: 'Local Issuer' } },
      status: 'valid',
    });
    expect(res.json().checks.length).toBeGreaterThan(3);
    expect(res.json()).toHaveProperty('sections');
  });

  it("answers 404 on every id route for another earner's badge and changes nothing", async () => {
    const owner = await createEarner(app);
    const intruder = await createEarner(app);
    const { id } = await addSigned(owner, 'Private');
    const before = await app.db.prisma.backpackItem.findUniqueOrThrow({ where: { id } });
    const routes: [string, string][] = [
      ['GET', `/v1/badges/${id}`],
      ['DELETE', `/v1/badges/${id}`],
      ['GET', `/v1/badges/${id}/image`],
      ['GET', `/v1/badges/${id}/baked`],
      ['POST', `/v1/badges/${id}/verification`],
    ];
    for (const [method, url] of routes) {
      const res = await app.inject({ method: method as 'GET', url, headers: headers(intruder) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    const deleteAll = await app.inject({ method: 'DELETE', url: '/v1/badges', headers: headers(intruder) });
    expect(deleteAll.json()).toEqual({ deleted: 0, endedShareLinks: 0 });
    const after = await app.db.prisma.backpackItem.findUniqueOrThrow({ where: { id } });
    expect(after).toEqual(before);
    expect(await app.db.prisma.badgeImage.count({ where: { itemId: id } })).toBe(1);
    const unauthenticated = await app.inject({ method: 'GET', url: `/v1/badges/${id}` });
    expect(unauthenticated.statusCode).toBe(401);
  });

  it('deletes one badge with its image, then all badges, keeping the account', async () => {
    const earner = await createEarner(app);
    const a = await addSigned(earner, 'First');
    await addSigned(earner, 'Second');
    await addSigned(earner, 'Third');
    const del = await app.inject({ method: 'DELETE', url: `/v1/badges/${a.id}`, headers: headers(earner) });
    expect(del.statusCode).toBe(204);
    expect(await app.db.prisma.badgeImage.count({ where: { itemId: a.id } })).toBe(0);
    const again = await app.inject({ method: 'DELETE', url: `/v1/badges/${a.id}`, headers: headers(earner) });
    expect(again.statusCode).toBe(404);
    expect((await list(earner)).json().total).toBe(2);
    const all = await app.inject({ method: 'DELETE', url: '/v1/badges', headers: headers(earner) });
    expect(all.json()).toEqual({ deleted: 2, endedShareLinks: 0 });
    expect(await app.db.prisma.backpackItem.count({ where: { earnerId: earner.id } })).toBe(0);
    expect(await app.db.prisma.badgeImage.count({ where: { item: { earnerId: earner.id } } })).toBe(0);
    expect(await app.db.prisma.earner.count({ where: { id: earner.id } })).toBe(1);
    // The same assertion may be added again after deletion.
    const back = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: headers(earner),
      payload: { jws: a.jws },
    });
    expect(back.statusCode).toBe(201);
  });

  it('re-verifies on demand: a hosted badge withdrawn by its issuer shows revoked', async () => {
    const earner = await createEarner(app);
    const hosted = issuer.hosted(earner.addresses[0] as string, { name: 'Soon Gone' });
    const added = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: headers(earner),
      payload: { url: hosted.url },
    });
    expect(added.statusCode).toBe(201);
    const id = added.json().id;
    issuer.withdraw(hosted.url);
    const res = await app.inject({
      method: 'POST',
      url: `/v1/badges/${id}/verification`,
      headers: headers(earner),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('revoked');
    expect(res.json().checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'revoked', status: 'failed' })]),
    );
    expect((await list(earner, '?status=revoked')).json().total).toBe(1);
  });

  it('re-verifies due badges in batches, oldest first: a signed badge put on the revocation list shows revoked', async () => {
    const earner = await createEarner(app);
    const a = await addSigned(earner, 'Listed Later');
    const b = await addSigned(earner, 'Stays Valid');
    issuer.revoke(a.assertionId);
    // Make these the oldest verifications in this database, a before b.
    await app.db.prisma.backpackItem.update({
      where: { id: a.id },
      data: { verifiedAt: new Date('2000-01-01') },
    });
    await app.db.prisma.backpackItem.update({
      where: { id: b.id },
      data: { verifiedAt: new Date('2000-01-02') },
    });
    const first = await app.services.badges.service.reverifyDue(new Date(), 1);
    expect(first).toEqual({ checked: 1, changed: 1 });
    const rowA = await app.db.prisma.backpackItem.findUniqueOrThrow({ where: { id: a.id } });
    expect(rowA.status).toBe('revoked');
    const rowB = await app.db.prisma.backpackItem.findUniqueOrThrow({ where: { id: b.id } });
    expect(rowB.verifiedAt.toISOString()).toBe('2000-01-02T00:00:00.000Z');
    const second = await app.services.badges.service.reverifyDue(new Date(), 1);
    expect(second).toEqual({ checked: 1, changed: 0 });
    const rowB2 = await app.db.prisma.backpackItem.findUniqueOrThrow({ where: { id: b.id } });
    expect(rowB2.status).toBe('valid');
    expect(rowB2.verifiedAt.getTime()).toBeGreaterThan(new Date('2001-01-01').getTime());
  });

  it('gives the account export every badge with its original assertion and normalized fields', async () => {
    const earner = await createEarner(app);
    const { id, jws } = await addSigned(earner, 'Exported');
    const exported = async (who: typeof earner) =>
      (await app.inject({ url: '/v1/account/export', headers: who.session })).json().sections.badges;
    const section = await exported(earner);
    expect(section).toHaveLength(1);
    expect(section[0]).toMatchObject({ id, name: 'Exported', original: { format: 'jws', text: jws } });
    expect(section[0]).toHaveProperty('normalized.issuer.name', 'Local Issuer');
    expect(await exported(await createEarner(app))).toEqual([]);
  });

  it('bakes a badge out as PNG and SVG that the engine reads back to the same assertion', async () => {
    const earner = await createEarner(app);
    const { id, assertionId } = await addSigned(earner, 'Bake Me');
    const ctx = {
      fetcher: createSafeFetcher({ allowPrivateHosts: [issuer.hostPort], timeoutMs: 3000 }),
      now: () => new Date(),
      recipients: [{ address: earner.addresses[0] as string, verified: true }],
    };
    const png = await app.inject({ method: 'GET', url: `/v1/badges/${id}/baked`, headers: headers(earner) });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.headers['content-disposition']).toContain('attachment');
    const fromPng = await verifyBadge({ kind: 'image', bytes: new Uint8Array(png.rawPayload) }, ctx);
    expect(fromPng.assertionId).toBe(assertionId);
    expect(fromPng.status).toBe('valid');

    const svg = await app.inject({
      method: 'GET',
      url: `/v1/badges/${id}/baked`,
      headers: { ...headers(earner), accept: 'image/svg+xml' },
    });
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; sandbox; form-action 'none'",
    );
    expect(svg.headers['x-content-type-options']).toBe('nosniff');
    const fromSvg = await verifyBadge({ kind: 'image', bytes: new Uint8Array(svg.rawPayload) }, ctx);
    expect(fromSvg.assertionId).toBe(assertionId);

    const hosted = issuer.hosted(earner.addresses[0] as string);
    const added = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: headers(earner),
      payload: { url: hosted.url },
    });
    const svgOfHosted = await app.inject({
      method: 'GET',
      url: `/v1/badges/${added.json().id}/baked?format=svg`,
      headers: headers(earner),
    });
    const fromHosted = await verifyBadge(
      { kind: 'image', bytes: new Uint8Array(svgOfHosted.rawPayload) },
      ctx,
    );
    expect(fromHosted.assertionId).toBe(hosted.url);

    const badFormat = await app.inject({
      method: 'GET',
      url: `/v1/badges/${id}/baked?format=gif`,
      headers: headers(earner),
    });
    expect(badFormat.statusCode).toBe(400);
  });
});
