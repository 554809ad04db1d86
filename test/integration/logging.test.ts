// What the request log keeps of a path: the route's pattern, so that a share link's secret or an
// address typed into a path never reaches it, encoded or not, matched or not.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

describeEachDatabase('the request log', (current) => {
  let app: FastifyInstance;
  let lines: string[] = [];
  beforeAll(async () => {
    app = await buildApp({
      config: testConfig({ LOG_LEVEL: 'info' }),
      db: current().db,
      logStream: { write: (line) => void lines.push(line) },
    });
    await app.ready();
  });
  afterAll(() => app.close());

  const logged = (): { req?: { url?: string } }[] => lines.map((l) => JSON.parse(l));

  it('logs share pages by their pattern, never their token', async () => {
    const earner = await createEarner(app);
    const headers = earner.session;
    const group = (
      await app.inject({ method: 'POST', url: '/v1/groups', headers, payload: { name: 'g' } })
    ).json();
    const link = (
      await app.inject({ method: 'POST', url: '/v1/share-links', headers, payload: { groupId: group.id } })
    ).json();
    lines = [];
    for (const url of [
      `/share/${link.token}`,
      `/share/${link.token}?format=json`,
      `/share/${link.token}/images/0`,
      `/share/${link.token}/nothing-here`,
      `/share/${link.token}/`,
    ]) {
      await app.inject({ method: 'GET', url, headers: { accept: 'application/json' } });
    }
    const text = lines.join('');
    expect(text).not.toContain(link.token);
    expect(text).not.toContain(link.token.slice(0, 20));
    expect(
      logged()
        .map((l) => l.req?.url)
        .filter(Boolean),
    ).toContain('/share/:token');
  });

  it('keeps no address from a path or a query string, however it is encoded', async () => {
    lines = [];
    const paths = [
      '/v1/displayers/ada.lovelace@example.org/groups',
      '/v1/displayers/ada.lovelace%40example.org/groups',
      '/v1/no-such-route/ada.lovelace%40example.org',
      '/v1/no-such-route/ada.lovelace%2540example.org/x',
      '/v1/no-such-route/ada.lovelace@example.org?again=ada.lovelace%40example.org',
      '/v1/badges?q=ada.lovelace%40example.org',
      '/oembed?url=http%3A%2F%2Flocalhost%3A3000%2Fshare%2Fada.lovelace%2540example.org',
    ];
    for (const url of paths) await app.inject({ method: 'GET', url });
    const text = lines.join('').toLowerCase();
    expect(lines.length).toBeGreaterThanOrEqual(paths.length);
    expect(text).not.toContain('lovelace');
    expect(text).not.toContain('example.org');
    const urls = logged()
      .map((l) => l.req?.url)
      .filter(Boolean);
    expect(urls).toContain('/v1/displayers/:handle/groups');
    expect(urls).toContain('/v1/no-such-route/[email]');
  });
});
