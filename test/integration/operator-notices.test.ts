// Operator notices through HTTP: the operator tells every earner, or one, of a policy change, a
// breach or a legal request; the notice is queued, mailed by the job through the mail transport
// no faster than NOTICE_MAILS_PER_MINUTE, recorded per earner (delivered or failed), and shown
// to the earner at /v1/notices and in the export.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Mailer, MailMessage } from '../../src/mail/index.ts';
import { accountsApp, fakeClock } from '../support/accounts.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, createToken } from '../support/earners.ts';

const OPERATOR_SECRET = 'operator-secret-for-notice-tests-0123456789';
const OPERATOR = { 'x-operator-token': OPERATOR_SECRET };
const MINUTE = 60_000;

describeEachDatabase('operator: notices to earners', (current) => {
  const clock = fakeClock();
  const attempts: MailMessage[] = [];
  const mailer: Mailer = {
    async send(message) {
      attempts.push(message);
      if (message.to.startsWith('bounce')) throw new Error('mailbox unavailable');
    },
    async close() {},
  };
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await accountsApp(
      current().db,
      {
        NOTICE_MAILS_PER_MINUTE: '2',
        OPERATOR_TOKEN_SHA256: createHash('sha256').update(OPERATOR_SECRET).digest('hex'),
      },
      { now: clock.now, mailer },
    );
  });
  afterAll(() => app.close());

  /** Runs the notices job in the next period, as the scheduler would once a minute. */
  async function nextMinute(): Promise<MailMessage[]> {
    clock.advance(MINUTE);
    const before = attempts.length;
    expect(await app.services.scheduler.runOnce('privacy.notices', clock.now())).toBe(true);
    return attempts.slice(before);
  }

  async function drain(): Promise<number[]> {
    const perRun: number[] = [];
    for (let i = 0; i < 50; i += 1) {
      const sent = await nextMinute();
      if (sent.length === 0) break;
      perRun.push(sent.length);
    }
    return perRun;
  }

  it('queues a notice for every earner and mails it at the bounded rate, recording each delivery', async () => {
    await drain();
    const earners = [
      await createEarner(app),
      await createEarner(app),
      await createEarner(app, [`bounce.${Date.now()}@example.org`]),
    ];
    const everyone = await app.db.prisma.earner.count();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/operator/notices',
      headers: OPERATOR,
      payload: {
        kind: 'breach',
        subject: 'A breach of our mail provider',
        text: 'What happened, and what we did.',
      },
    });
    expect(created.statusCode, created.body).toBe(202);
    const notice = created.json();
    expect(notice).toEqual({
      id: expect.any(String),
      kind: 'breach',
      subject: 'A breach of our mail provider',
      text: 'What happened, and what we did.',
      audience: 'all',
      createdAt: expect.any(String),
      deliveries: { queued: everyone, delivered: 0, failed: 0 },
    });
    expect(created.headers.location).toBe(`/v1/operator/notices/${notice.id}`);

    // Nothing is mailed by the request itself; the job sends at most two a minute.
    expect(attempts.filter((m) => m.subject.includes('A breach'))).toEqual([]);
    const perRun = await drain();
    expect(perRun.length).toBeGreaterThan(1);
    for (const count of perRun) expect(count).toBeLessThanOrEqual(2);

    const mine = attempts.filter((m) => m.to === earners[0]?.addresses[0]);
    expect(mine).toEqual([
      {
        to: earners[0]?.addresses[0],
        subject: 'Security breach: A breach of our mail provider',
        text: expect.stringContaining('What happened, and what we did.'),
      },
    ]);
    // The bouncing address was tried three times, then given up.
    expect(attempts.filter((m) => m.to === earners[2]?.addresses[0])).toHaveLength(3);

    const done = await app.inject({ url: `/v1/operator/notices/${notice.id}`, headers: OPERATOR });
    expect(done.statusCode).toBe(200);
    expect(done.json().deliveries).toEqual({ queued: 0, delivered: everyone - 1, failed: 1 });

    const listed = await app.inject({ url: '/v1/notices', headers: earners[0]?.session });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.headers['x-total-count']).toBe('1');
    expect(listed.json().items).toEqual([
      {
        id: notice.id,
        kind: 'breach',
        subject: 'A breach of our mail provider',
        text: 'What happened, and what we did.',
        createdAt: notice.createdAt,
        status: 'delivered',
        deliveredAt: expect.any(String),
      },
    ]);
    const bounced = await app.inject({ url: '/v1/notices', headers: earners[2]?.session });
    expect(bounced.json().items[0]).toEqual(expect.objectContaining({ status: 'failed', deliveredAt: null }));

    const exported = await app.inject({ url: '/v1/account/export', headers: earners[0]?.session });
    expect(exported.statusCode).toBe(200);
    expect(exported.json().sections.notices).toEqual([
      expect.objectContaining({ id: notice.id, kind: 'breach', status: 'delivered' }),
    ]);

    const audit = await app.inject({ url: '/v1/operator/actions?limit=100', headers: OPERATOR });
    expect(audit.json().items).toContainEqual(
      expect.objectContaining({
        action: 'send_notice',
        reason: 'breach: A breach of our mail provider',
        subject: `notice:${notice.id}`,
      }),
    );
  });

  it('sends a notice to one earner by a verified address, and to no one else', async () => {
    await drain();
    const target = await createEarner(app);
    const bystander = await createEarner(app);
    const created = await app.inject({
      method: 'POST',
      url: '/v1/operator/notices',
      headers: OPERATOR,
      payload: {
        kind: 'legal_request',
        subject: 'A court asked for your data',
        text: 'We received an order and answered it.',
        email: target.addresses[0]?.toUpperCase(),
      },
    });
    expect(created.statusCode, created.body).toBe(202);
    expect(created.json()).toEqual(
      expect.objectContaining({ audience: 'one', deliveries: { queued: 1, delivered: 0, failed: 0 } }),
    );
    const sent = await drain();
    expect(sent).toEqual([1]);
    expect(attempts.at(-1)).toEqual(
      expect.objectContaining({
        to: target.addresses[0],
        subject: 'Legal request: A court asked for your data',
      }),
    );
    // A token with profile:read lists the earner's notices; the bystander has none.
    const token = await createToken(app, target.id, ['profile:read']);
    const listed = await app.inject({ url: '/v1/notices', headers: { authorization: token } });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items.map((n: { kind: string }) => n.kind)).toEqual(['legal_request']);
    const none = await app.inject({ url: '/v1/notices', headers: bystander.session });
    expect(none.json().items).toEqual([]);
    expect(none.headers['x-total-count']).toBe('0');

    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/operator/notices',
      headers: OPERATOR,
      payload: { kind: 'policy_change', subject: 's', text: 't', email: 'nobody@example.org' },
    });
    expect(unknown.statusCode).toBe(404);
    const badKind = await app.inject({
      method: 'POST',
      url: '/v1/operator/notices',
      headers: OPERATOR,
      payload: { kind: 'advert', subject: 's', text: 't' },
    });
    expect(badKind.statusCode).toBe(400);
    // Only the operator sends notices.
    const asEarner = await app.inject({
      method: 'POST',
      url: '/v1/operator/notices',
      headers: { authorization: token },
      payload: { kind: 'policy_change', subject: 's', text: 't' },
    });
    expect(asEarner.statusCode).toBe(401);
    expect(await nextMinute()).toEqual([]);
  });

  it('removes an earner’s deliveries with the account', async () => {
    const earner = await createEarner(app);
    await app.services.privacy.notices.create({
      kind: 'policy_change',
      subject: 'New terms',
      text: 'They change.',
      email: earner.addresses[0] as string,
    });
    const deleted = await app.inject({ method: 'DELETE', url: '/v1/account', headers: earner.session });
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(await app.db.prisma.noticeDelivery.count({ where: { earnerId: earner.id } })).toBe(0);
  });
});
