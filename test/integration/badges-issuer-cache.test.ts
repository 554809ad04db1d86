import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { fakeClock } from '../support/accounts.ts';
import { testConfig } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

// Issuer documents are fetched once and reused by ingestion and re-verification alike, as long as
// the issuer's caching headers allow; what the issuer changes shows after that lifetime.
describeEachDatabase('badges: issuer documents under HTTP caching rules', (current) => {
  const clock = fakeClock(new Date('2026-03-01T00:00:00Z'));
  const issuers: LocalIssuer[] = [];
  let app: FastifyInstance;

  const newIssuer = async (cacheControl: string) => {
    const issuer = await LocalIssuer.start();
    issuer.cacheControl = cacheControl;
    issuers.push(issuer);
    return issuer;
  };

  beforeAll(async () => {
    // The safe fetcher needs each issuer's port up front: reserve the issuers before the app.
    for (const cc of ['max-age=600', 'max-age=600', 'no-store', 'max-age=600']) await newIssuer(cc);
    app = await buildApp({
      config: testConfig({
        FETCH_ALLOW_PRIVATE_HOSTS: issuers.map((i) => i.hostPort).join(','),
        RATE_LIMIT_MAX: '100000',
      }),
      db: current().db,
      now: clock.now,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    for (const issuer of issuers) await issuer.close();
  });

  const headers = (e: TestEarner) => ({ cookie: e.session.cookie, origin: e.session.origin });
  const add = async (issuer: LocalIssuer, e: TestEarner, name: string) => {
    const { id: assertionId, jws } = await issuer.signed(e.addresses[0] as string, { name });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: headers(e),
      payload: { jws },
    });
    expect(res.statusCode, res.body).toBe(201);
    return { id: res.json().id as string, assertionId };
  };
  const recheck = (e: TestEarner, id: string) =>
    app.inject({ method: 'POST', url: `/v1/badges/${id}/verification`, headers: headers(e) });
  const fetchesOf = (issuer: LocalIssuer, path: string) =>
    issuer.requests.filter((r) => r.path === path && !r.notModified).length;

  it('fetches an issuer’s profile, key and revocation list once for many badges, and revalidates them after their lifetime', async () => {
    const issuer = issuers[0] as LocalIssuer;
    const earner = await createEarner(app);
    for (const name of ['One', 'Two', 'Three']) await add(issuer, earner, name);
    for (const path of ['/issuer', '/key', '/revocations']) expect(fetchesOf(issuer, path), path).toBe(1);

    clock.advance(601_000);
    await add(issuer, earner, 'Four');
    // Past max-age each document is asked for again, conditionally, and answered 304.
    for (const path of ['/issuer', '/key', '/revocations']) {
      expect(fetchesOf(issuer, path), path).toBe(1);
      expect(
        issuer.requests.filter((r) => r.path === path && r.notModified),
        path,
      ).toHaveLength(1);
    }
  });

  it('sees a revocation at the first re-verification after the list’s lifetime, not before', async () => {
    const issuer = issuers[1] as LocalIssuer;
    const earner = await createEarner(app);
    const badge = await add(issuer, earner, 'Revoked Later');
    issuer.revoke(badge.assertionId);
    clock.advance(599_000);
    expect((await recheck(earner, badge.id)).json().status).toBe('valid');
    clock.advance(2_000);
    const res = await recheck(earner, badge.id);
    expect(res.json().status).toBe('revoked');
  });

  it('fetches a no-store issuer’s documents anew for every verification', async () => {
    const issuer = issuers[2] as LocalIssuer;
    const earner = await createEarner(app);
    const badge = await add(issuer, earner, 'Never Kept');
    await recheck(earner, badge.id);
    await add(issuer, earner, 'Never Kept Either');
    for (const path of ['/issuer', '/key', '/revocations']) expect(fetchesOf(issuer, path), path).toBe(3);
    expect(issuer.requests.some((r) => r.notModified)).toBe(false);
  });

  it('sees a changed key at the first re-verification after the key’s lifetime', async () => {
    const issuer = issuers[3] as LocalIssuer;
    const earner = await createEarner(app);
    const badge = await add(issuer, earner, 'Signed Before Rotation');
    await issuer.rotateKey();
    expect((await recheck(earner, badge.id)).json().status).toBe('valid');
    clock.advance(601_000);
    const res = await recheck(earner, badge.id);
    expect(res.json().status).toBe('invalid');
    expect(res.json().checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'signature_valid', status: 'failed' })]),
    );
  });
});
