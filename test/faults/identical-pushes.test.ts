// 100 identical pushes at once, through Badge Connect and through the earner's own ingestion:
// exactly one badge is stored, and every answer is a success or "already held".
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { type ConnectServer, connectPlatform, startConnectServer } from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

const ASSERTION_CREATE = 'https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.create';

describeEachDatabase('100 identical pushes at once', (current) => {
  let issuer: LocalIssuer;
  let server: ConnectServer;
  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    server = await startConnectServer(current().db, { FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort });
  });
  afterAll(async () => {
    await server.close();
    await issuer.close();
  });

  async function storedFor(earnerId: string): Promise<number> {
    return current().db.prisma.backpackItem.count({ where: { earnerId } });
  }

  it('stores one badge from 100 concurrent Badge Connect pushes', async () => {
    const earner = await createEarner(server.app);
    const { tokens } = await connectPlatform(server, earner, ASSERTION_CREATE);
    const hosted = issuer.hosted(earner.addresses[0] ?? '');
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        fetch(`${server.base}/ims/ob/v2p1/assertions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id: hosted.url }),
        }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 201)).toBe(true);
    expect(await storedFor(earner.id)).toBe(1);
  });

  it('stores one badge from 100 concurrent additions by the earner', async () => {
    const earner = await createEarner(server.app);
    const hosted = issuer.hosted(earner.addresses[0] ?? '');
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        server.app.inject({
          method: 'POST',
          url: '/v1/badges',
          headers: { cookie: earner.session.cookie, origin: server.base },
          payload: { url: hosted.url },
        }),
      ),
    );
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 201)).toBe(true);
    expect(await storedFor(earner.id)).toBe(1);
  });
});
