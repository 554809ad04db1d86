// Backpack items as issuer platforms see and push them (Badge Connect, the OB 3.0 API,
// Backpack Connect), and the earner's review of pushed items. The connect module calls this;
// it never reads backpack_items itself.
import type { Db } from '../../db/client.ts';
import type { Erasure } from '../../db/erasure.ts';
import { Problem } from '../../http/problems.ts';
import { BADGE_TABLES } from './service.ts';
import { currentStatus, type SharedBadgeStatus, type StatusReason, statusReasonOf } from './shared-views.ts';

export interface OriginalBadge {
  id: string;
  assertionId: string;
  specVersion: string;
  originalFormat: string;
  originalText: string;
  issuedOn: Date;
  addedAt: Date;
  /** As of the backpack's last verification, as everywhere else it is shown. */
  status: SharedBadgeStatus;
  statusReason: StatusReason | null;
}

export interface PushedBadge {
  id: string;
  name: string;
  issuer: { id: string; name: string };
  issuedOn: Date;
  status: SharedBadgeStatus;
  source: string;
  acceptance: 'accepted' | 'pending';
  addedAt: Date;
}

export class PushedBadges {
  constructor(
    private readonly prisma: Db,
    private readonly now: () => Date,
    private readonly erasure?: Erasure,
  ) {}

  /**
   * The earner's accepted badges as received (original text), newest first, for the issuer
   * APIs' read operations. `versions` picks the spec family; `since` compares with addedAt.
   */
  async originals(
    earnerId: string,
    query: { versions: string[]; limit: number; offset: number; since?: Date },
  ): Promise<{ items: OriginalBadge[]; total: number }> {
    const where = {
      earnerId,
      acceptance: 'accepted',
      specVersion: { in: query.versions },
      ...(query.since ? { addedAt: { gte: query.since } } : {}),
    };
    const [rows, total] = await Promise.all([
      this.prisma.backpackItem.findMany({
        where,
        select: {
          id: true,
          assertionId: true,
          specVersion: true,
          originalFormat: true,
          originalText: true,
          issuedOn: true,
          addedAt: true,
          status: true,
          statusReason: true,
          expiresAt: true,
        },
        orderBy: [{ addedAt: 'desc' }, { id: 'asc' }],
        skip: query.offset,
        take: query.limit,
      }),
      this.prisma.backpackItem.count({ where }),
    ]);
    const now = this.now();
    const items = rows.map(({ expiresAt, statusReason, ...r }) => {
      const status = currentStatus(r.status, expiresAt, now);
      return { ...r, status, statusReason: statusReasonOf(status, statusReason) };
    });
    return { items, total };
  }

  /** One page of the badges issuer platforms pushed, pending ones first, with how many in all. */
  async list(
    earnerId: string,
    page: { limit: number; offset: number },
  ): Promise<{ items: PushedBadge[]; total: number }> {
    const where = { earnerId, source: { not: 'earner' } };
    const [rows, total] = await Promise.all([
      this.prisma.backpackItem.findMany({
        where,
        select: {
          id: true,
          name: true,
          issuerId: true,
          issuerName: true,
          issuedOn: true,
          expiresAt: true,
          status: true,
          source: true,
          acceptance: true,
          addedAt: true,
        },
        orderBy: [{ acceptance: 'desc' }, { addedAt: 'desc' }, { id: 'asc' }],
        take: page.limit,
        skip: page.offset,
      }),
      this.prisma.backpackItem.count({ where }),
    ]);
    const now = this.now();
    const items = rows.map(
      (r): PushedBadge => ({
        id: r.id,
        name: r.name,
        issuer: { id: r.issuerId, name: r.issuerName },
        issuedOn: r.issuedOn,
        status: currentStatus(r.status, r.expiresAt, now),
        source: r.source,
        acceptance: r.acceptance === 'pending' ? 'pending' : 'accepted',
        addedAt: r.addedAt,
      }),
    );
    return { items, total };
  }

  async accept(earnerId: string, id: string): Promise<void> {
    const found = await this.prisma.backpackItem.findFirst({
      where: { id, earnerId, source: { not: 'earner' } },
      select: { id: true },
    });
    if (!found) throw new Problem('not_found', 'No such pushed badge.');
    await this.prisma.backpackItem.updateMany({ where: { id, earnerId }, data: { acceptance: 'accepted' } });
  }

  /** Deletes a pushed badge; returns what a report about it needs. */
  async reject(earnerId: string, id: string): Promise<{ source: string; issuerId: string; name: string }> {
    const row = await this.prisma.backpackItem.findFirst({
      where: { id, earnerId, source: { not: 'earner' } },
      select: { source: true, issuerId: true, name: true },
    });
    if (!row) throw new Problem('not_found', 'No such pushed badge.');
    await this.prisma.backpackItem.deleteMany({ where: { id, earnerId } });
    this.erasure?.request(BADGE_TABLES);
    return row;
  }
}
