// Public share pages are rendered once and reused while nothing they show has changed. These
// tests hold the reused pages to the truth: changes to the group, its badges or the earner's
// addresses show at once, a revoked link dies at once, and expiry shows without any write.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../support/app.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

describeEachDatabase('cached share pages', (current) => {
  let clock = new Date('2030-01-01T00:00:00Z');
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ config: testConfig(), db: current().db, now: () => clock });
    await app.ready();
  });
  afterAll(() => app.close());

  it('shows every change at once and dies with its link', async () => {
    const earner = await createEarner(app);
    const recipient = earner.addresses[0] ?? '';
    const headers = { cookie: earner.session.cookie, origin: earner.session.origin };
    const first = await insertBadge(app, earner.id, { recipient, name: 'First shared' });
    const second = await insertBadge(app, earner.id, {
      recipient,
      name: 'Second shared',
      expiresAt: new Date(clock.getTime() + 60_000),
    });
    const group = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers,
      payload: { name: 'Shown', badgeIds: [first] },
    });
    const groupId = (group.json() as { id: string }).id;
    const link = await app.inject({ method: 'POST', url: '/v1/share-links', headers, payload: { groupId } });
    const token = (link.json() as { token: string }).token;
    const page = async (accept = 'application/json') =>
      app.inject({ url: `/share/${token}`, headers: { accept } });
    const names = async () =>
      ((await page()).json() as { badges: { name: string; status: string }[] }).badges;

    expect((await names()).map((b) => b.name)).toEqual(['First shared']);
    const html = await page('text/html');
    expect((await page('text/html')).body).toBe(html.body);
    expect(html.headers['content-security-policy']).toContain("default-src 'none'");

    // Membership and renames show at once.
    await app.inject({
      method: 'PUT',
      url: `/v1/groups/${groupId}/badges`,
      headers,
      payload: { badgeIds: [first, second] },
    });
    expect((await names()).map((b) => b.name)).toEqual(['First shared', 'Second shared']);
    await app.inject({
      method: 'PATCH',
      url: `/v1/groups/${groupId}`,
      headers,
      payload: { name: 'Renamed group' },
    });
    expect(((await page()).json() as { title: string }).title).toBe('Renamed group');
    expect((await page('text/html')).body).toContain('Renamed group');

    // Expiry passes with nothing written: the status follows.
    expect((await names())[1]?.status).toBe('valid');
    clock = new Date(clock.getTime() + 61_000);
    expect((await names())[1]?.status).toBe('expired');

    // Revoking the link kills every rendering of it at once.
    const linkId = (link.json() as { id: string }).id;
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/share-links/${linkId}`, headers })).statusCode,
    ).toBe(204);
    expect((await page()).statusCode).toBe(404);
    expect((await page('text/html')).statusCode).toBe(404);
  });
});
