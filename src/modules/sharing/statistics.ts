// De-identified statistics: badges held per issuer and per badge class, per month of issue,
// and how many earners hold badges. A bucket is published only when it counts at least
// MINIMUM_COUNT badges held by at least MINIMUM_COUNT different earners; smaller ones are
// left out, so no count can point at a few people. Recomputed at most every CACHE_MS.
import type { components } from '../../generated/api.ts';
import type { HeldBadgeRow, SharedBadgeViews } from '../badges/index.ts';

export const MINIMUM_COUNT = 10;
export const CACHE_MS = 5 * 60_000;

type StatisticsView = components['schemas']['Statistics'];
type Month = { month: string; badges: number };

interface Bucket {
  badges: number;
  earners: Set<string>;
}

function monthOf(date: Date): string {
  return date.toISOString().slice(0, 7);
}

function publishable(buckets: Map<string, Bucket>): Month[] {
  return [...buckets.entries()]
    .filter(([, b]) => b.badges >= MINIMUM_COUNT && b.earners.size >= MINIMUM_COUNT)
    .map(([month, b]) => ({ month, badges: b.badges }))
    .sort((a, b) => a.month.localeCompare(b.month));
}

function add(buckets: Map<string, Bucket>, month: string, earnerId: string): void {
  const bucket = buckets.get(month) ?? { badges: 0, earners: new Set<string>() };
  bucket.badges += 1;
  bucket.earners.add(earnerId);
  buckets.set(month, bucket);
}

export function computeStatistics(rows: HeldBadgeRow[], now: Date): StatisticsView {
  const earners = new Set(rows.map((r) => r.earnerId));
  const issuers = new Map<string, { issuerName: string; months: Map<string, Bucket> }>();
  const classes = new Map<
    string,
    { badgeClassId: string | null; name: string; issuerName: string; months: Map<string, Bucket> }
  >();
  for (const r of rows) {
    const month = monthOf(r.issuedOn);
    const issuer = issuers.get(r.issuerId) ?? { issuerName: r.issuerName, months: new Map() };
    add(issuer.months, month, r.earnerId);
    issuers.set(r.issuerId, issuer);
    // Badges without a class id (some 3.0 achievements) are told apart by issuer and name.
    const key = r.badgeClassId ?? `${r.issuerId}\n${r.name}`;
    const cls = classes.get(key) ?? {
      badgeClassId: r.badgeClassId,
      name: r.name,
      issuerName: r.issuerName,
      months: new Map(),
    };
    add(cls.months, month, r.earnerId);
    classes.set(key, cls);
  }
  return {
    generatedAt: now.toISOString(),
    minimumCount: MINIMUM_COUNT,
    earners: earners.size >= MINIMUM_COUNT ? earners.size : null,
    issuers: [...issuers.entries()]
      .map(([issuerId, i]) => ({ issuerId, issuerName: i.issuerName, months: publishable(i.months) }))
      .filter((i) => i.months.length > 0)
      .sort((a, b) => a.issuerId.localeCompare(b.issuerId)),
    badgeClasses: [...classes.values()]
      .map((c) => ({
        badgeClassId: c.badgeClassId,
        name: c.name,
        issuerName: c.issuerName,
        months: publishable(c.months),
      }))
      .filter((c) => c.months.length > 0)
      .sort((a, b) => `${a.issuerName}\n${a.name}`.localeCompare(`${b.issuerName}\n${b.name}`)),
  };
}

export class Statistics {
  private cached: { value: StatisticsView; until: number } | null = null;
  private pending: Promise<StatisticsView> | null = null;

  constructor(
    private readonly badges: SharedBadgeViews,
    private readonly now: () => Date,
  ) {}

  async current(): Promise<StatisticsView> {
    const now = this.now();
    if (this.cached && this.cached.until > now.getTime()) return this.cached.value;
    // Concurrent requests after expiry share one computation.
    this.pending ??= this.badges
      .heldBadges()
      .then((rows) => {
        const value = computeStatistics(rows, now);
        this.cached = { value, until: now.getTime() + CACHE_MS };
        return value;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }
}
