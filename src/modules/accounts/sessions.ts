// Server-side sessions: the cookie carries a random secret, the table its hash, with an
// absolute expiry and an idle timeout.
import type { Db } from '../../db/client.ts';
import type { Principal } from '../../http/auth.ts';
import { hashSecret, newId, newSecret } from './secrets.ts';

export interface SessionPolicy {
  ttlMs: number;
  idleMs: number;
}

/** lastUsedAt is written at most this often, so that reading pages does not write each time. */
const TOUCH_INTERVAL_MS = 60_000;

export class Sessions {
  constructor(
    private readonly prisma: Db,
    private readonly policy: SessionPolicy,
    private readonly now: () => Date,
  ) {}

  async create(
    earnerId: string,
    method: string,
    userAgent: string | null,
  ): Promise<{ id: string; secret: string; expiresAt: Date }> {
    const secret = newSecret();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.policy.ttlMs);
    const id = newId();
    await this.prisma.session.create({
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
    return { id, secret, expiresAt };
  }

  /** The principal for a cookie secret, or null when unknown, expired or idle too long. */
  async resolve(secret: string): Promise<Principal | null> {
    if (secret.length < 20 || secret.length > 100) return null;
    const session = await this.prisma.session.findUnique({
      where: { tokenHash: hashSecret(secret) },
      select: { id: true, earnerId: true, expiresAt: true, lastUsedAt: true, authenticatedAt: true },
    });
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
}
