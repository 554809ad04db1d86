// Retention of what reports and the operator leave: reports go REPORT_RETENTION_DAYS after
// their resolution (or after they were made, while open), operator actions
// OPERATOR_ACTION_RETENTION_DAYS after they were taken, and OAuth clients that hold nothing (no
// consent, report or suspension) CLIENT_RETENTION_DAYS after registering, each purged by its
// module's retention job. A reporter's reports are in their export.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../../src/modules/connect/index.ts';
import {
  type ConnectServer,
  connectPlatform,
  registerPlatform,
  startConnectServer,
} from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

const OPERATOR_SECRET = 'operator-secret-for-retention-tests-0123456789';
const OPERATOR = { 'x-operator-token': OPERATOR_SECRET };
const DAY = 86_400_000;

describeEachDatabase('privacy: retention of reports, operator actions and clients', (current) => {
  let server: ConnectServer;
  beforeAll(async () => {
    server = await startConnectServer(current().db, {
      OPERATOR_TOKEN_SHA256: createHash('sha256').update(OPERATOR_SECRET).digest('hex'),
      REPORT_RETENTION_DAYS: '30',
      OPERATOR_ACTION_RETENTION_DAYS: '60',
      CLIENT_RETENTION_DAYS: '90',
    });
  });
  afterAll(() => server?.close());

  const operator = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    server.app.inject({ method, url, headers: OPERATOR, ...(payload === undefined ? {} : { payload }) });

  async function report(earnerId: string, clientId: string, badgeName: string): Promise<string> {
    await server.app.services.connect.oauth.report({
      earnerId,
      clientId,
      issuerId: 'https://issuer.example/issuer',
      badgeName,
      comment: `about ${badgeName}`,
    });
    const reports = (await operator('GET', `/v1/operator/reports?clientId=${clientId}&limit=100`)).json()
      .items as { id: string; badgeName: string }[];
    return reports.find((r) => r.badgeName === badgeName)?.id as string;
  }

  async function runRetention() {
    expect(await server.app.services.scheduler.runOnce('connect-retention', server.clock.now)).toBe(true);
    expect(await server.app.services.scheduler.runOnce('accounts.retention', server.clock.now)).toBe(true);
  }

  it('shows a reporter their reports in the export, with the outcome', async () => {
    const earner = await createEarner(server.app);
    const { platform } = await connectPlatform(server, earner, SCOPES.assertionCreate);
    const id = await report(earner.id, platform.client.client_id, 'Exported report');
    await operator('POST', `/v1/operator/reports/${id}/resolution`, {
      outcome: 'dismissed',
      reason: 'Asked for.',
    });
    const exported = await server.app.inject({ url: '/v1/account/export', headers: earner.session });
    expect(exported.statusCode, exported.body).toBe(200);
    expect(exported.json().sections.reports).toEqual([
      {
        id,
        clientId: platform.client.client_id,
        platformName: 'Test Issuer Platform',
        issuerId: 'https://issuer.example/issuer',
        badgeName: 'Exported report',
        comment: 'about Exported report',
        createdAt: expect.any(String),
        status: 'resolved',
        resolvedAt: expect.any(String),
        outcome: 'dismissed',
        resolution: 'Asked for.',
      },
    ]);
    const other = await createEarner(server.app);
    const theirs = await server.app.inject({ url: '/v1/account/export', headers: other.session });
    expect(theirs.json().sections.reports).toEqual([]);
  });

  it('purges reports, operator actions and idle clients after their periods, and keeps the rest', async () => {
    const earner = await createEarner(server.app);
    const { platform } = await connectPlatform(server, earner, SCOPES.assertionCreate);
    const clientId = platform.client.client_id;
    const resolved = await report(earner.id, clientId, 'Resolved early');
    const open = await report(earner.id, clientId, 'Left open');
    await operator('POST', `/v1/operator/reports/${resolved}/resolution`, {
      outcome: 'upheld',
      reason: 'Seen.',
    });
    const idle = await registerPlatform(server, SCOPES.assertionCreate);
    const suspendedIdle = await registerPlatform(server, SCOPES.assertionCreate);
    await operator('POST', `/v1/operator/platforms/${suspendedIdle.client.client_id}/suspension`, {
      reason: 'Under review.',
    });

    // 20 days on: nothing has reached its period. A report made now is newer.
    server.clock.advance(20 * DAY);
    const later = await report(earner.id, clientId, 'Made later');
    await runRetention();
    const ids = async () =>
      (
        (await operator('GET', `/v1/operator/reports?clientId=${clientId}&limit=100`)).json().items as {
          id: string;
        }[]
      ).map((r) => r.id);
    expect((await ids()).sort()).toEqual([resolved, open, later].sort());

    // 31 days after the first: the resolved and the open report of that day go; the later stays.
    server.clock.advance(11 * DAY);
    await runRetention();
    expect(await ids()).toEqual([later]);
    const audit = async () =>
      (
        (await operator('GET', '/v1/operator/actions?limit=100')).json().items as { subject: string | null }[]
      ).map((a) => a.subject);
    expect(await audit()).toContain(`connect_report:${resolved}`);

    // 61 days: the operator's actions of the first day are gone.
    server.clock.advance(30 * DAY);
    await runRetention();
    expect(await audit()).not.toContain(`connect_report:${resolved}`);
    expect(await audit()).not.toContain(`connect_client:${suspendedIdle.client.client_id}`);

    // 91 days: the client that holds nothing goes; the consented one and the suspended one stay.
    expect((await operator('GET', `/v1/operator/platforms/${idle.client.client_id}`)).statusCode).toBe(200);
    server.clock.advance(30 * DAY);
    await runRetention();
    expect((await operator('GET', `/v1/operator/platforms/${idle.client.client_id}`)).statusCode).toBe(404);
    expect((await operator('GET', `/v1/operator/platforms/${clientId}`)).statusCode).toBe(200);
    expect(
      (await operator('GET', `/v1/operator/platforms/${suspendedIdle.client.client_id}`)).statusCode,
    ).toBe(200);
  });
});
