// Operator notices: a policy change, a breach or a legal request about earners' data, told to
// every earner or to one. Sending queues one delivery per earner; a job mails the queue through
// the mail transport at a bounded rate, and each earner's delivery (delivered or failed) stays
// with their account: in their export and at GET /v1/notices.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.ts';
import { Problem } from '../../http/problems.ts';
import type { Job } from '../../jobs/scheduler.ts';
import type { Mailer } from '../../mail/index.ts';
import { type AccountsService, newId } from '../accounts/index.ts';

export type NoticeKind = 'policy_change' | 'breach' | 'legal_request';
export type DeliveryStatus = 'queued' | 'delivered' | 'failed';

/** A delivery that fails this many times is marked failed and not tried again. */
const MAX_ATTEMPTS = 3;
const ENQUEUE_BATCH = 500;

const KIND_LABEL: Record<NoticeKind, string> = {
  policy_change: 'Policy change',
  breach: 'Security breach',
  legal_request: 'Legal request',
};

export interface NoticeView {
  id: string;
  kind: NoticeKind;
  subject: string;
  text: string;
  audience: 'all' | 'one';
  createdAt: Date;
  deliveries: Record<DeliveryStatus, number>;
}

export interface EarnerNoticeView {
  id: string;
  kind: NoticeKind;
  subject: string;
  text: string;
  createdAt: Date;
  status: DeliveryStatus;
  deliveredAt: Date | null;
}

export interface NoticesOptions {
  /** Most notice mails sent per minute, over every instance (the job holds a lease). */
  mailsPerMinute: number;
}

function kindOf(raw: string): NoticeKind {
  return raw === 'breach' || raw === 'legal_request' ? raw : 'policy_change';
}

function statusOf(raw: string): DeliveryStatus {
  return raw === 'delivered' || raw === 'failed' ? raw : 'queued';
}

export class Notices {
  constructor(
    private readonly prisma: Db,
    private readonly accounts: AccountsService,
    private readonly mailer: Mailer,
    private readonly now: () => Date,
    private readonly log: FastifyBaseLogger,
    private readonly options: NoticesOptions,
  ) {}

  /** Queues the notice for every earner, or for the one who verified `email` (404 otherwise). */
  async create(input: {
    kind: NoticeKind;
    subject: string;
    text: string;
    email?: string;
  }): Promise<NoticeView> {
    let only: string | null = null;
    if (input.email !== undefined) {
      only = await this.accounts.earnerByVerifiedAddress(input.email);
      if (!only) throw new Problem('not_found', 'No account has verified that address.');
    }
    const id = newId();
    const createdAt = this.now();
    await this.prisma.notice.create({
      data: {
        id,
        kind: input.kind,
        subject: input.subject,
        text: input.text,
        audience: only ? 'one' : 'all',
        createdAt,
      },
    });
    const enqueue = (earnerIds: string[]) =>
      this.prisma.noticeDelivery.createMany({
        data: earnerIds.map((earnerId) => ({ id: newId(), noticeId: id, earnerId, queuedAt: createdAt })),
      });
    if (only) {
      await enqueue([only]);
    } else {
      let after: string | null = null;
      for (;;) {
        const batch = await this.accounts.earnerIds(after, ENQUEUE_BATCH);
        if (batch.length === 0) break;
        await enqueue(batch);
        after = batch[batch.length - 1] as string;
      }
    }
    return this.mustGet(id);
  }

  async get(id: string): Promise<NoticeView | null> {
    if (id.length > 100) return null;
    const row = await this.prisma.notice.findUnique({ where: { id } });
    if (!row) return null;
    const counts = await this.prisma.noticeDelivery.groupBy({
      by: ['status'],
      where: { noticeId: id },
      _count: { _all: true },
    });
    const deliveries: Record<DeliveryStatus, number> = { queued: 0, delivered: 0, failed: 0 };
    for (const c of counts) deliveries[statusOf(c.status)] += c._count._all;
    return {
      id: row.id,
      kind: kindOf(row.kind),
      subject: row.subject,
      text: row.text,
      audience: row.audience === 'one' ? 'one' : 'all',
      createdAt: row.createdAt,
      deliveries,
    };
  }

  private async mustGet(id: string): Promise<NoticeView> {
    const view = await this.get(id);
    if (!view) throw new Problem('not_found', 'No such notice.');
    return view;
  }

  /** The notices addressed to the earner, newest first. */
  async forEarner(
    earnerId: string,
    page: { limit: number; offset: number },
  ): Promise<{ items: EarnerNoticeView[]; total: number }> {
    const where = { earnerId };
    const [rows, total] = await Promise.all([
      this.prisma.noticeDelivery.findMany({
        where,
        include: { notice: true },
        orderBy: [{ notice: { createdAt: 'desc' } }, { id: 'asc' }],
        skip: page.offset,
        take: page.limit,
      }),
      this.prisma.noticeDelivery.count({ where }),
    ]);
    return {
      items: rows.map((row) => ({
        id: row.notice.id,
        kind: kindOf(row.notice.kind),
        subject: row.notice.subject,
        text: row.notice.text,
        createdAt: row.notice.createdAt,
        status: statusOf(row.status),
        deliveredAt: row.status === 'delivered' ? row.sentAt : null,
      })),
      total,
    };
  }

  async exportSection(earnerId: string): Promise<Record<string, unknown>[]> {
    const { items } = await this.forEarner(earnerId, { limit: 100_000, offset: 0 });
    return items.map((n) => ({
      ...n,
      createdAt: n.createdAt.toISOString(),
      deliveredAt: n.deliveredAt?.toISOString() ?? null,
    }));
  }

  /** Mails at most `mailsPerMinute` queued deliveries, oldest first. */
  async sendQueued(): Promise<{ delivered: number; failed: number; retrying: number }> {
    const batch = await this.prisma.noticeDelivery.findMany({
      where: { status: 'queued' },
      include: { notice: true },
      orderBy: [{ queuedAt: 'asc' }, { id: 'asc' }],
      take: this.options.mailsPerMinute,
    });
    const result = { delivered: 0, failed: 0, retrying: 0 };
    for (const row of batch) {
      const to = await this.accounts.primaryAddress(row.earnerId);
      let sent = false;
      if (to) {
        try {
          const kind = kindOf(row.notice.kind);
          await this.mailer.send({
            to,
            subject: `${KIND_LABEL[kind]}: ${row.notice.subject}`,
            text: `${row.notice.text}\n\n(${KIND_LABEL[kind]} notice from the operator of your badge backpack. It is kept with your account and shown in your export.)\n`,
          });
          sent = true;
        } catch (err) {
          this.log.warn({ err, notice: row.noticeId }, 'notice mail failed');
        }
      }
      const attempts = row.attempts + 1;
      const status: DeliveryStatus = sent
        ? 'delivered'
        : !to || attempts >= MAX_ATTEMPTS
          ? 'failed'
          : 'queued';
      await this.prisma.noticeDelivery.updateMany({
        where: { id: row.id },
        data: {
          status,
          attempts,
          ...(status === 'queued' ? { queuedAt: this.now() } : { sentAt: this.now() }),
        },
      });
      if (status === 'delivered') result.delivered += 1;
      else if (status === 'failed') result.failed += 1;
      else result.retrying += 1;
    }
    return result;
  }

  readonly job: Job = {
    name: 'privacy.notices',
    everyMs: 60_000,
    run: async () => {
      const sent = await this.sendQueued();
      if (sent.delivered + sent.failed + sent.retrying > 0) this.log.info({ sent }, 'notices sent');
    },
  };
}
