// De-identified statistics: badges held per badge class and per issuer, per month of issue, and
// how many earners hold badges. Aggregated by the database (see SharedBadgeViews), then made
// safe to publish against the three ways small counts leak:
// - Extra accounts (sybils): only earners with a verified address whose valid badges come from
//   at least MINIMUM_ISSUERS different issuers count, so accounts made to hold one class do not
//   lift a bucket over the threshold to expose the one real holder beside them.
// - Subtraction: a bucket is published only when MINIMUM_COUNT counted earners hold it, and an
//   issuer's count is the sum of its published class counts, so "issuer minus the classes shown"
//   is zero and never a hidden class.
// - Differencing over time: every published count is rounded down to a multiple of ROUNDING, so
//   one person joining or adding a badge moves no count by one.
// Recomputed at most every CACHE_MS.
import type { components } from '../../generated/api.ts';
import type { SharedBadgeViews, StatisticsBucket } from '../badges/index.ts';

export const MINIMUM_COUNT = 10;
export const MINIMUM_ISSUERS = 2;
export const ROUNDING = 10;
export const CACHE_MS = 5 * 60_000;

type StatisticsView = components['schemas']['Statistics'];
type Month = { month: string; badges: number };

const rounded = (n: number) => Math.floor(n / ROUNDING) * ROUNDING;

export function computeStatistics(
  aggregates: { earners: number; buckets: StatisticsBucket[] },
  now: Date,
): StatisticsView {
  const classes = new Map<
    string,
    { issuerId: string; badgeClassId: string | null; name: string; issuerName: string; months: Month[] }
  >();
  const issuers = new Map<string, { issuerName: string; months: Map<string, number> }>();
  for (const b of aggregates.buckets) {
    if (b.earners < MINIMUM_COUNT) continue;
    const badges = rounded(b.badges);
    if (badges < MINIMUM_COUNT) continue;
    const key = `${b.issuerId}\n${b.classKey}`;
    const cls = classes.get(key) ?? {
      issuerId: b.issuerId,
      badgeClassId: b.badgeClassId,
      name: b.name,
      issuerName: b.issuerName,
      months: [],
    };
    cls.months.push({ month: b.month, badges });
    classes.set(key, cls);
    const issuer = issuers.get(b.issuerId) ?? { issuerName: b.issuerName, months: new Map() };
    issuer.months.set(b.month, (issuer.months.get(b.month) ?? 0) + badges);
    issuers.set(b.issuerId, issuer);
  }
  const byMonth = (a: Month, b: Month) => a.month.localeCompare(b.month);
  return {
    generatedAt: now.toISOString(),
    minimumCount: MINIMUM_COUNT,
    earners: aggregates.earners >= MINIMUM_COUNT ? rounded(aggregates.earners) : null,
    issuers: [...issuers.entries()]
      .map(([issuerId, i]) => ({
        issuerId,
        issuerName: i.issuerName,
        months: [...i.months.entries()].map(([month, badges]) => ({ month, badges })).sort(byMonth),
      }))
      .sort((a, b) => a.issuerId.localeCompare(b.issuerId)),
    badgeClasses: [...classes.values()]
      .map((c) => ({
        badgeClassId: c.badgeClassId,
        name: c.name,
        issuerName: c.issuerName,
        months: c.months.sort(byMonth),
      }))
      .sort((a, b) => `${a.issuerName}\n${a.name}`.localeCompare(`${b.issuerName}\n${b.name}`)),
  };
}

export class Statistics {
  private cached: { value: StatisticsView; until: number } | null = null;
  private pending: Promise<StatisticsView> | null = null;

  constructor(
    private readonly badges: SharedBadgeViews,
    private readonly provider: 'sqlite' | 'postgres',
    private readonly now: () => Date,
  ) {}

  async current(): Promise<StatisticsView> {
    const now = this.now();
    if (this.cached && this.cached.until > now.getTime()) return this.cached.value;
    // Concurrent requests after expiry share one computation.
    this.pending ??= this.badges
      .statisticsAggregates(this.provider, MINIMUM_ISSUERS, MINIMUM_COUNT)
      .then((aggregates) => {
        const value = computeStatistics(aggregates, now);
        this.cached = { value, until: now.getTime() + CACHE_MS };
        return value;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }
}
