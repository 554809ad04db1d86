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

export interface HeldBadgeRow {
  earnerId: string;
  issuerId: string;
  issuerName: string;
  badgeClassId: string | null;
  name: string;
  issuedOn: Date;
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

  /** Every accepted badge, reduced to what the de-identified statistics count. */
  async heldBadges(): Promise<HeldBadgeRow[]> {
    return this.prisma.backpackItem.findMany({
      where: { acceptance: 'accepted' },
      select: {
        earnerId: true,
        issuerId: true,
        issuerName: true,
        badgeClassId: true,
        name: true,
        issuedOn: true,
      },
    });
  }
}
