// Anonymous OAuth client registration: each network registers a few clients an hour (429
// `rate_limited`, nothing stored), and no client may go by a name that reads as the service's.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { foldName, imitatesService } from '../../src/modules/connect/client-names.ts';
import { SCOPES } from '../../src/modules/connect/index.ts';
import { expectProblem } from '../support/accounts.ts';
import { testApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase('anonymous client registration limits', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(current().db, { CLIENT_REGISTRATIONS_PER_NETWORK_PER_HOUR: '3' });
  });
  afterAll(() => app.close());

  const register = (remoteAddress: string, body: Record<string, unknown> = {}) =>
    app.inject({
      method: 'POST',
      url: '/v1/oauth/clients',
      remoteAddress,
      payload: {
        client_name: 'Example Issuer',
        client_uri: 'https://issuer.example',
        redirect_uris: ['https://issuer.example/cb'],
        scope: SCOPES.assertionCreate,
        ...body,
      },
    });
  const clients = () => app.db.prisma.connectClient.count();

  it('lets one network register only so many clients an hour, storing nothing past it', async () => {
    for (let i = 0; i < 3; i++) expect((await register('198.51.100.7')).statusCode).toBe(201);
    const before = await clients();
    // Another address in the same network shares its allowance.
    const refused = await register('198.51.100.8');
    const problem = expectProblem(refused, 429, 'rate_limited');
    expect(problem.detail).toContain('this hour');
    expect(refused.headers['retry-after']).toBe('3600');
    expect(await clients()).toBe(before);
    // The stored row names the network only by a hash.
    const row = await app.db.prisma.connectClient.findFirstOrThrow({
      where: { registeredBy: { not: null } },
    });
    expect(row.registeredBy).toMatch(/^[0-9a-f]{64}$/);
    // Another network is not held back by this one.
    expect((await register('203.0.113.9')).statusCode).toBe(201);
  });

  it('refuses names that read as the service, whatever their case, spacing or look-alikes', async () => {
    const before = await clients();
    for (const name of [
      'Badge Backpack',
      'badge backpack',
      'BADGE-BACKPACK login',
      'B a d g e  B a c k p a c k',
      'My Backpack',
      'Bаckpаck', // Cyrillic а
      'Ｂａｃｋｐａｃｋ', // full width
      'B4ckp4ck',
      'Bâdge Bäckpack',
    ]) {
      const res = await register('192.0.2.10', { client_name: name });
      expect(res.statusCode, name).toBe(400);
      expect(res.json(), name).toMatchObject({ error: 'client_name_refused' });
    }
    expect(await clients()).toBe(before);
    expect((await register('192.0.2.10', { client_name: 'Badge Factory' })).statusCode).toBe(201);
  });
});

it('folds names to the letters a reader sees', () => {
  expect(foldName('Ba dge-Bаck_p4ck!')).toBe('badgebackpackl');
  expect(imitatesService('Open Badge Issuer', 'Badge Backpack')).toBe(false);
  expect(imitatesService('Badge Bаckpack Connect', 'Badge Backpack')).toBe(true);
  expect(imitatesService('Acme Lockers', 'Acme Lockers')).toBe(true);
});
