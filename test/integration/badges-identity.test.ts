// OB 3.0 identity: two credentials are the same badge when their issuer id and credential id are
// equal, and of two issues of one badge the newer validFrom is kept, whoever adds it.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

describeEachDatabase('badges: OB 3.0 identity by issuer and credential id', (current) => {
  let app: FastifyInstance;
  let issuer: LocalIssuer;
  let other: LocalIssuer;

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    other = await LocalIssuer.start();
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: `${issuer.hostPort},${other.hostPort}`,
      RATE_LIMIT_MAX: '100000',
    });
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
    await other.close();
  });

  const add = (e: TestEarner, json: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: { cookie: e.session.cookie, origin: e.session.origin },
      payload: { json },
    });
  const names = async (e: TestEarner) =>
    (
      await app.db.prisma.backpackItem.findMany({
        where: { earnerId: e.id },
        select: { name: true },
        orderBy: { name: 'asc' },
      })
    ).map((r) => r.name);

  it('keeps the newer issue when the earner adds the same credential again, and never an older one', async () => {
    const earner = await createEarner(app);
    const to = earner.addresses[0] as string;
    const id = `urn:uuid:${crypto.randomUUID()}`;
    const first = await add(earner, await issuer.credential(to, 'First Issue', { id }));
    expect(first.statusCode, first.body).toBe(201);
    const newer = await add(
      earner,
      await issuer.credential(to, 'Second Issue', { id, validFrom: '2025-01-01T00:00:00Z' }),
    );
    expect(newer.statusCode, newer.body).toBe(200);
    expect(newer.json()).toMatchObject({ id: first.json().id, name: 'Second Issue' });
    const older = await add(
      earner,
      await issuer.credential(to, 'Older Issue', { id, validFrom: '2023-01-01T00:00:00Z' }),
    );
    expect(older.statusCode).toBe(200);
    expect(older.json()).toMatchObject({ id: first.json().id, name: 'Second Issue' });
    expect(await names(earner)).toEqual(['Second Issue']);
  });

  it('holds two credentials with one id from two issuers as two badges', async () => {
    const earner = await createEarner(app);
    const to = earner.addresses[0] as string;
    const id = `urn:uuid:${crypto.randomUUID()}`;
    const mine = await add(earner, await issuer.credential(to, 'From One Issuer', { id }));
    expect(mine.statusCode, mine.body).toBe(201);
    const theirs = await add(earner, await other.credential(to, 'From Another Issuer', { id }));
    expect(theirs.statusCode, theirs.body).toBe(201);
    expect(theirs.json().id).not.toBe(mine.json().id);
    expect(await names(earner)).toEqual(['From Another Issuer', 'From One Issuer']);
  });

  it('follows a 1EdTechCredentialRefresh once: keeps the refreshed issue when it is newer and valid, and the one given otherwise', async () => {
    const earner = await createEarner(app);
    const to = earner.addresses[0] as string;
    const contexts = [
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json',
    ];
    const id = `urn:uuid:${crypto.randomUUID()}`;
    const path = `/refresh/${crypto.randomUUID()}`;
    const refreshService = { id: `${issuer.origin}${path}`, type: '1EdTechCredentialRefresh' };
    issuer.serve(
      path,
      await issuer.credential(to, 'Refreshed Issue', {
        '@context': contexts,
        id,
        validFrom: '2025-01-01T00:00:00Z',
      }),
    );
    const given = await issuer.credential(to, 'Given Issue', { '@context': contexts, id, refreshService });
    const res = await add(earner, given);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Refreshed Issue', status: 'valid' });

    // A refreshed copy that does not verify is ignored.
    const other = await createEarner(app);
    const to2 = other.addresses[0] as string;
    const id2 = `urn:uuid:${crypto.randomUUID()}`;
    const path2 = `/refresh/${crypto.randomUUID()}`;
    const tampered = await issuer.credential(to2, 'Tampered Refresh', {
      '@context': contexts,
      id: id2,
      validFrom: '2025-01-01T00:00:00Z',
    });
    issuer.serve(path2, { ...tampered, name: 'Tampered After Signing' });
    const kept = await add(
      other,
      await issuer.credential(to2, 'Kept Issue', {
        '@context': contexts,
        id: id2,
        refreshService: { id: `${issuer.origin}${path2}`, type: '1EdTechCredentialRefresh' },
      }),
    );
    expect(kept.statusCode, kept.body).toBe(201);
    expect(kept.json()).toMatchObject({ name: 'Kept Issue', status: 'valid' });
  });
});
