// Read-only views of backpack items for the groups and sharing modules, so that they never
// read this module's tables: ownership checks, summaries for lists and public pages, images,
// and the aggregates behind the public statistics.
import type { Db } from '../../db/client.ts';

export type SharedBadgeStatus = 'valid' | 'expired' | 'revoked' | 'invalid' | 'unverified';

/** Why a badge is `unverified`: the check that could not be made, in words anyone may read. */
export interface StatusReason {
  code: string;
  message: string;
}

const UNVERIFIED_REASONS: Record<string, string> = {
  revocation_unchecked:
    "The issuer's revocation or status list could not be fetched or trusted, so whether the badge has been revoked is not known yet.",
  hosted_fetched:
    "The issuer's hosted copy of the badge could not be fetched, so whether it still stands is not known yet.",
};

/** The reason shown with an `unverified` status; null for every other status. */
export function statusReasonOf(status: SharedBadgeStatus, code: string | null): StatusReason | null {
  if (status !== 'unverified') return null;
  const known = code ?? 'revocation_unchecked';
  return { code: known, message: UNVERIFIED_REASONS[known] ?? 'A verification check could not be made.' };
}

export interface BadgeSummary {
  id: string;
  name: string;
  issuerName: string;
  issuedOn: Date;
  expiresAt: Date | null;
  status: SharedBadgeStatus;
}

export interface BadgePublicDetail extends BadgeSummary {
  statusReason: StatusReason | null;
  description: string;
  issuerUrl: string | null;
  criteriaUrl: string | null;
  badgeClassId: string | null;
  assertionId: string;
  recipientAddress: string;
  originalFormat: string;
  originalText: string;
  hasImage: boolean;
}

/**
 * A badge past its expiry shows as expired even before the next verification says so. Only a
 * stored `valid` reads as valid: anything unexpected reads as invalid, never as valid.
 */
export function currentStatus(stored: string, expiresAt: Date | null, now: Date): SharedBadgeStatus {
  if (stored === 'revoked' || stored === 'invalid') return stored;
  if (expiresAt && expiresAt.getTime() <= now.getTime()) return 'expired';
  if (stored === 'valid' || stored === 'expired' || stored === 'unverified') return stored;
  return 'invalid';
}

const SUMMARY_SELECT = {
  id: true,
  name: true,
  issuerName: true,
  issuedOn: true,
  expiresAt: true,
  status: true,
} as const;

export class SharedBadgeViews {
  constructor(
    private readonly prisma: Db,
    private readonly now: () => Date,
  ) {}

  /** Which of `ids` are badges of this earner (pending pushes included: they are the earner's). */
  async ownedIds(earnerId: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.prisma.backpackItem.findMany({
      where: { earnerId, id: { in: [...new Set(ids)] } },
      select: { id: true },
    });
    return new Set(rows.map((r) => r.id));
  }

  /** Summaries of the earner's badges among `ids`, keyed by id; others' badges are absent. */
  async summaries(earnerId: string, ids: readonly string[]): Promise<Map<string, BadgeSummary>> {
    if (ids.length === 0) return new Map();
    const now = this.now();
    const rows = await this.prisma.backpackItem.findMany({
      where: { earnerId, id: { in: [...new Set(ids)] } },
      select: SUMMARY_SELECT,
    });
    return new Map(
      rows.map((r) => [
        r.id,
        { ...r, status: currentStatus(r.status, r.expiresAt, now) } satisfies BadgeSummary,
      ]),
    );
  }

  /**
   * What a public page shows of the earner's accepted badges among `ids` (a badge pushed by
   * an issuer and still awaiting the earner's decision is never public).
   */
  async publicDetails(earnerId: string, ids: readonly string[]): Promise<Map<string, BadgePublicDetail>> {
    if (ids.length === 0) return new Map();
    const now = this.now();
    const rows = await this.prisma.backpackItem.findMany({
      where: { earnerId, id: { in: [...new Set(ids)] }, acceptance: 'accepted' },
      select: {
        ...SUMMARY_SELECT,
        description: true,
        issuerUrl: true,
        criteriaUrl: true,
        badgeClassId: true,
        statusReason: true,
        assertionId: true,
        recipientAddress: true,
        originalFormat: true,
        originalText: true,
        image: { select: { itemId: true } },
      },
    });
    return new Map(
      rows.map(({ image, ...r }) => {
        const status = currentStatus(r.status, r.expiresAt, now);
        return [
          r.id,
          { ...r, status, statusReason: statusReasonOf(status, r.statusReason), hasImage: image !== null },
        ];
      }),
    );
  }

  async image(earnerId: string, itemId: string): Promise<{ contentType: string; bytes: Uint8Array } | null> {
    const row = await this.prisma.badgeImage.findFirst({
      where: { itemId, item: { earnerId, acceptance: 'accepted' } },
      select: { contentType: true, bytes: true },
    });
    return row ? { contentType: row.contentType, bytes: new Uint8Array(row.bytes) } : null;
  }

  /**
   * The aggregates behind the de-identified statistics, computed by the database (no badge
   * row reaches the process). Only earners who have verified an address and hold valid,
   * accepted badges from at least `minIssuers` different issuers count: an account made to
   * hold one issuer's badges (a sybil) counts nowhere. One row per issuer, badge class and
   * month of issue that at least `minEarners` counted earners hold, with its distinct earners
   * and badges; and the number of counted earners.
   */
  async statisticsAggregates(
    provider: 'sqlite' | 'postgres',
    minIssuers: number,
    minEarners: number,
  ): Promise<{ earners: number; buckets: StatisticsBucket[] }> {
    const month = provider === 'postgres' ? `to_char(b."issuedOn", 'YYYY-MM')` : `substr(b."issuedOn", 1, 7)`;
    const counted = `
      WITH counted AS (
        SELECT b."earnerId" FROM backpack_items b
        WHERE b.status = 'valid' AND b.acceptance = 'accepted'
          AND EXISTS (SELECT 1 FROM email_addresses e
                      WHERE e."earnerId" = b."earnerId" AND e."verifiedAt" IS NOT NULL)
        GROUP BY b."earnerId"
        HAVING COUNT(DISTINCT b."issuerId") >= ${Number(minIssuers)}
      )`;
    const [total] = await this.prisma.$queryRawUnsafe<{ n: number | bigint }[]>(
      `${counted} SELECT COUNT(*) AS n FROM counted`,
    );
    const rows = await this.prisma.$queryRawUnsafe<
      {
        issuerId: string;
        issuerName: string;
        classKey: string;
        badgeClassId: string | null;
        name: string;
        month: string;
        badges: number | bigint;
        earners: number | bigint;
      }[]
    >(
      `${counted}
      SELECT b."issuerId" AS "issuerId", MIN(b."issuerName") AS "issuerName",
             COALESCE(b."badgeClassId", b."issuerId" || ' ' || b.name) AS "classKey",
             MIN(b."badgeClassId") AS "badgeClassId", MIN(b.name) AS name,
             ${month} AS month,
             COUNT(*) AS badges, COUNT(DISTINCT b."earnerId") AS earners
      FROM backpack_items b JOIN counted c ON c."earnerId" = b."earnerId"
      WHERE b.status = 'valid' AND b.acceptance = 'accepted'
      GROUP BY b."issuerId", COALESCE(b."badgeClassId", b."issuerId" || ' ' || b.name), ${month}
      HAVING COUNT(DISTINCT b."earnerId") >= ${Number(minEarners)}`,
    );
    return {
      earners: Number(total?.n ?? 0),
      buckets: rows.map((r) => ({ ...r, badges: Number(r.badges), earners: Number(r.earners) })),
    };
  }
}

export interface StatisticsBucket {
  issuerId: string;
  issuerName: string;
  /** The badge class id, or issuer and name for badges without one (some 3.0 achievements). */
  classKey: string;
  badgeClassId: string | null;
  name: string;
  month: string;
  badges: number;
  earners: number;
}
