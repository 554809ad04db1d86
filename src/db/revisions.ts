// Caches of rendered answers (a page of the backpack list, a public share page) that stay
// correct across service instances: each entry remembers the earner's revision (moved by
// database triggers on every change to what those answers show) and a time after which it
// is stale anyway (the next badge expiry, or a bound). A hit costs one prepared read.
import { createHash } from 'node:crypto';
import type { RawReader } from './raw.ts';

export interface RenderedEntry {
  revision: number;
  /** Epoch ms after which the entry must not be served. */
  validUntil: number;
  body: string;
  etag: string;
  headers: Record<string, string>;
}

/** The earner's current revision, or null for an earner that does not exist (any more). */
export async function earnerRevision(raw: RawReader, earnerId: string): Promise<number | null> {
  const row = await raw.get<{ revision: number | bigint }>(
    'SELECT "revision" FROM "earner_revisions" WHERE "earnerId" = ?',
    [earnerId],
  );
  return row ? Number(row.revision) : null;
}

/** The earliest expiry still ahead among the earner's badges: statuses change then. */
export async function nextExpiry(raw: RawReader, earnerId: string, now: Date): Promise<number | null> {
  const row = await raw.get<{ next: unknown }>(
    'SELECT MIN("expiresAt") AS "next" FROM "backpack_items" WHERE "earnerId" = ? AND "expiresAt" > ?',
    [earnerId, now.toISOString()],
  );
  return row?.next ? new Date(row.next instanceof Date ? row.next : String(row.next)).getTime() : null;
}

export function etagOf(body: string): string {
  return `W/"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}

/** A least-recently-used map of rendered answers, bounded by the bytes of their bodies. */
export class RenderedCache {
  private readonly entries = new Map<string, RenderedEntry>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    /** Longest time an entry is served, whatever else happens. */
    private readonly maxAgeMs: number,
  ) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  get(key: string, revision: number, now: number): RenderedEntry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.revision !== revision || entry.validUntil <= now) {
      this.delete(key);
      return undefined;
    }
    // Move to the most recent end.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(
    key: string,
    entry: Omit<RenderedEntry, 'etag' | 'validUntil'>,
    now: number,
    expiresAt: number | null,
  ): RenderedEntry {
    const validUntil = Math.min(now + this.maxAgeMs, expiresAt ?? Number.POSITIVE_INFINITY);
    const full: RenderedEntry = { ...entry, validUntil, etag: etagOf(entry.body) };
    if (!this.enabled || entry.body.length > this.maxBytes / 4) return full;
    this.delete(key);
    this.entries.set(key, full);
    this.bytes += full.body.length;
    for (const [oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
    return full;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= entry.body.length;
    this.entries.delete(key);
  }
}
