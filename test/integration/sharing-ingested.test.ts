// Sharing a badge that came in through the real ingestion (a signed assertion from a local
// issuer), rather than through the test fixture rows: the public views still never carry the
// recipient's address, even inside the signed token's payload.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

describeEachDatabase('sharing an ingested badge', (current) => {
  let app: FastifyInstance;
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      FETCH_TIMEOUT_MS: '3000',
    });
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  it('publishes a signed badge without the address, and the check recognises it', async () => {
    const earner = await createEarner(app);
    const address = earner.addresses[0] ?? '';
    const headers = { cookie: earner.session.cookie, origin: earner.session.origin };
    const { jws } = await issuer.signed(address, { name: 'Signed skill' });
    const added = await app.inject({ method: 'POST', url: '/v1/badges', headers, payload: { jws } });
    expect(added.statusCode, added.body).toBe(201);
    const link = await app.inject({
      method: 'POST',
      url: '/v1/share-links',
      headers,
      payload: { badgeId: added.json().id },
    });
    expect(link.statusCode).toBe(201);
    const { token } = link.json();

    const page = await app.inject({
      method: 'GET',
      url: `/share/${token}`,
      headers: { accept: 'application/json' },
    });
    expect(page.statusCode).toBe(200);
    const badge = page.json().badges[0];
    expect(badge).toMatchObject({ name: 'Signed skill', status: 'valid' });
    const payloads = [page.body];
    if (badge.original) {
      expect(badge.original.format).toBe('jws');
      payloads.push(
        ...String(badge.original.text)
          .split('.')
          .map((s: string) => Buffer.from(s, 'base64url').toString('utf8')),
      );
    }
    const html = await app.inject({
      method: 'GET',
      url: `/share/${token}`,
      headers: { accept: 'text/html' },
    });
    payloads.push(html.body);
    if (badge.imageUrl) {
      const image = await app.inject({ method: 'GET', url: new URL(badge.imageUrl).pathname });
      expect(image.statusCode).toBe(200);
      payloads.push(image.rawPayload.toString('latin1'));
    }
    for (const text of payloads) expect(text.toLowerCase()).not.toContain(address.toLowerCase());

    const check = await app.inject({
      method: 'POST',
      url: `/share/${token}/recipient-checks`,
      payload: { email: address },
    });
    expect(check.json()).toEqual({ awarded: true, matchingBadges: 1, totalBadges: 1 });
  });
});
