// Server-side sessions: the cookie carries a random secret, the table its hash, with an
// absolute expiry and an idle timeout.

import { type RawReader, toDate } from '../../db/raw.ts';
import type { Principal } from '../../http/auth.ts';
import type { Db, Tx } from './db.ts';
import { hashSecret, newId, newSecret } from './secrets.ts';

export interface SessionPolicy {
  ttlMs: number;
  idleMs: number;
}

export interface SessionView {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  method: string;
  userAgent: string | null;
  current: boolean;
}

/** lastUsedAt is written at most this often, so that reading pages does not write each time. */
const TOUCH_INTERVAL_MS = 60_000;

export class Sessions {
  constructor(
    private readonly prisma: Db,
    private readonly policy: SessionPolicy,
    private readonly now: () => Date,
    /** Resolving a session happens on every request: a prepared read, not a Prisma query. */
    private readonly raw?: RawReader,
  ) {}

  async create(
    earnerId: string,
    method: string,
    userAgent: string | null,
    client: Tx = this.prisma,
  ): Promise<{ id: string; secret: string; expiresAt: Date; createdAt: Date }> {
    const secret = newSecret();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.policy.ttlMs);
    const id = newId();
    await client.session.create({
      data: {
        id,
        tokenHash: hashSecret(secret),
        earnerId,
        createdAt: now,
        lastUsedAt: now,
        expiresAt,
        authenticatedAt: now,
        method,
        userAgent,
      },
    });
    return { id, secret, expiresAt, createdAt: now };
  }

  /** The principal for a cookie secret, or null when unknown, expired or idle too long. */
  private async find(tokenHash: string): Promise<{
    id: string;
    earnerId: string;
    expiresAt: Date;
    lastUsedAt: Date;
    authenticatedAt: Date;
  } | null> {
    if (!this.raw) {
      return this.prisma.session.findUnique({
        where: { tokenHash },
        select: { id: true, earnerId: true, expiresAt: true, lastUsedAt: true, authenticatedAt: true },
      });
    }
    const row = await this.raw.get<Record<string, unknown>>(
      'SELECT "id", "earnerId", "expiresAt", "lastUsedAt", "authenticatedAt" FROM "sessions" WHERE "tokenHash" = ?',
      [tokenHash],
    );
    if (!row) return null;
    return {
      id: String(row.id),
      earnerId: String(row.earnerId),
      expiresAt: toDate(row.expiresAt),
      lastUsedAt: toDate(row.lastUsedAt),
      authenticatedAt: toDate(row.authenticatedAt),
    };
  }

  async resolve(secret: string): Promise<Principal | null> {
    if (secret.length < 20 || secret.length > 100) return null;
    const session = await this.find(hashSecret(secret));
    if (!session) return null;
    const now = this.now();
    if (session.expiresAt <= now || now.getTime() - session.lastUsedAt.getTime() > this.policy.idleMs)
      return null;
    if (now.getTime() - session.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      await this.prisma.session.updateMany({ where: { id: session.id }, data: { lastUsedAt: now } });
    }
    return {
      earnerId: session.earnerId,
      via: 'session',
      credentialId: session.id,
      scopes: 'all',
      authenticatedAt: session.authenticatedAt,
    };
  }

  /**
   * One page of the earner's live sessions, newest first, with how many there are in all;
   * `currentId` marks the caller's own. Without `page`, every one (the export).
   */
  async list(
    earnerId: string,
    currentId: string | null,
    page?: { limit: number; offset: number },
  ): Promise<{ items: SessionView[]; total: number }> {
    const now = this.now();
    const where = {
      earnerId,
      expiresAt: { gt: now },
      lastUsedAt: { gt: new Date(now.getTime() - this.policy.idleMs) },
    };
    const [rows, total] = await Promise.all([
      this.prisma.session.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        select: {
          id: true,
          createdAt: true,
          lastUsedAt: true,
          expiresAt: true,
          method: true,
          userAgent: true,
        },
        ...(page ? { take: page.limit, skip: page.offset } : {}),
      }),
      this.prisma.session.count({ where }),
    ]);
    return { items: rows.map((r) => ({ ...r, current: r.id === currentId })), total };
  }

  /** Ends one of the earner's sessions; false when the earner has no such session. */
  async revoke(earnerId: string, sessionId: string): Promise<boolean> {
    const { count } = await this.prisma.session.deleteMany({ where: { id: sessionId, earnerId } });
    return count > 0;
  }

  async revokeAll(earnerId: string): Promise<number> {
    const { count } = await this.prisma.session.deleteMany({ where: { earnerId } });
    return count;
  }

  /** Removes sessions past their absolute expiry or idle timeout. */
  async purge(now: Date): Promise<number> {
    const { count } = await this.prisma.session.deleteMany({
      where: {
        OR: [
          { expiresAt: { lte: now } },
          { lastUsedAt: { lte: new Date(now.getTime() - this.policy.idleMs) } },
        ],
      },
    });
    return count;
  }
}
