import type { CheckList } from './checks.ts';
import { FetchError } from './errors.ts';
import type { Fetcher, VerifyContext, VerifyLimits } from './types.ts';
import { isRecord } from './util.ts';

export type { VerifyLimits } from './types.ts';

export const DEFAULT_VERIFY_LIMITS: VerifyLimits = { maxFetches: 24, timeBudgetMs: 30_000 };

/**
 * Entries that each cost a fetch or a proof check, counted anywhere in a credential (embedded
 * endorsements carry their own). The richest published example has eleven schemas and six
 * proofs and status entries in all; hundreds are an attempt to make the verifier work.
 */
const ENTRY_LIMITS: Record<string, number> = {
  proof: 16,
  credentialStatus: 16,
  credentialSchema: 32,
  endorsement: 32,
};

function countEntries(node: unknown, counts: Map<string, number>, depth: number): void {
  // Parsed JSON is depth-bounded already; this bound only keeps the walk cheap.
  if (depth > 16) return;
  if (Array.isArray(node)) {
    for (const item of node) countEntries(item, counts, depth + 1);
    return;
  }
  if (!isRecord(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key in ENTRY_LIMITS) {
      counts.set(key, (counts.get(key) ?? 0) + (Array.isArray(value) ? value.length : 1));
    }
    countEntries(value, counts, depth + 1);
  }
}

/** Fails `limits_exceeded` and returns false when the credential carries absurdly many entries. */
export function checkEntryCounts(doc: unknown, checks: CheckList): boolean {
  const counts = new Map<string, number>();
  countEntries(doc, counts, 0);
  const over = [...counts].filter(([key, n]) => n > (ENTRY_LIMITS[key] ?? Number.POSITIVE_INFINITY));
  if (over.length === 0) return true;
  checks.fail(
    'limits_exceeded',
    over.map(([key, n]) => `${n} ${key} entries (at most ${ENTRY_LIMITS[key]})`).join('; '),
  );
  return false;
}

export interface FetchBudget {
  fetcher: Fetcher;
  /** Why the budget ran out, or null while it holds. */
  exceeded(): string | null;
  /** Stops the clock. */
  end(): void;
}

/**
 * Wraps the context's fetcher for one verification: at most `maxFetches` calls, and every fetch
 * in flight is cut off when the time budget runs out. Later fetches fail at once.
 */
export function fetchBudget(ctx: VerifyContext): FetchBudget {
  const limits = { ...DEFAULT_VERIFY_LIMITS, ...ctx.limits };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let count = 0;
  let reason: string | null = null;
  const base = ctx.fetcher;
  const fetcher: Fetcher = (url, opts) => {
    if (reason) return Promise.reject(new FetchError('fetch_limit_exceeded', reason));
    count += 1;
    if (count > limits.maxFetches) {
      reason = `the badge needs more than ${limits.maxFetches} fetches to verify`;
      return Promise.reject(new FetchError('fetch_limit_exceeded', reason));
    }
    if (!timer) {
      timer = setTimeout(() => {
        reason = `verifying took longer than ${Math.round(limits.timeBudgetMs / 1000)} s`;
        controller.abort();
      }, limits.timeBudgetMs);
      timer.unref();
    }
    return base(url, { ...opts, signal: controller.signal });
  };
  return {
    fetcher,
    exceeded: () => reason,
    end: () => clearTimeout(timer),
  };
}
