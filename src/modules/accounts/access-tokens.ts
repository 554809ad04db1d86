// Personal access tokens: `bpk_` + random secret; stored as a hash with scopes and expiry.
import type { components } from '../../generated/api.ts';
import type { Principal } from '../../http/auth.ts';
import { contractEnum } from '../../http/contract.ts';
import { Problem } from '../../http/problems.ts';
import type { Db } from './db.ts';
import { hashSecret, newId, newSecret } from './secrets.ts';

export const TOKEN_PREFIX = 'bpk_';

export type TokenScope = components['schemas']['TokenScope'];

/** Scopes a personal access token can carry: the contract's TokenScope enum. */
export const TOKEN_SCOPES = contractEnum('TokenScope');

/** Scopes as stored: the ones the token was created with, which the contract checked then. */
const storedScopes = (text: string) => text.split(' ').filter(Boolean) as TokenScope[];

const TOUCH_INTERVAL_MS = 60_000;

export interface AccessTokenView {
  id: string;
  name: string;
  scopes: TokenScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

export class AccessTokens {
  constructor(
    private readonly prisma: Db,
    private readonly now: () => Date,
    /** Unexpired tokens one earner may hold at once. */
    private readonly maxPerEarner = Number.POSITIVE_INFINITY,
  ) {}

  /** Tokens that still work: the cap counts these, so expired ones never stand in the way. */
  private live(earnerId: string) {
    return { earnerId, OR: [{ expiresAt: null }, { expiresAt: { gt: this.now() } }] };
  }

  async create(
    earnerId: string,
    name: string,
    scopes: string[],
    expiresAt: Date | null,
  ): Promise<{ id: string; secret: string; createdAt: Date }> {
    if ((await this.prisma.accessToken.count({ where: this.live(earnerId) })) >= this.maxPerEarner) {
      throw new Problem(
        'limit_reached',
        `An account can hold at most ${this.maxPerEarner} access tokens; revoke one first.`,
      );
    }
    const secret = `${TOKEN_PREFIX}${newSecret()}`;
    const id = newId();
    const createdAt = this.now();
    await this.prisma.accessToken.create({
      data: {
        id,
        tokenHash: hashSecret(secret),
        earnerId,
        name,
        scopes: scopes.join(' '),
        createdAt,
        expiresAt,
      },
    });
    return { id, secret, createdAt };
  }

  async resolve(secret: string): Promise<Principal | null> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 100) return null;
    const token = await this.prisma.accessToken.findUnique({
      where: { tokenHash: hashSecret(secret) },
      select: { id: true, earnerId: true, scopes: true, expiresAt: true, lastUsedAt: true },
    });
    if (!token) return null;
    const now = this.now();
    if (token.expiresAt && token.expiresAt <= now) return null;
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      await this.prisma.accessToken.updateMany({ where: { id: token.id }, data: { lastUsedAt: now } });
    }
    return {
      earnerId: token.earnerId,
      via: 'token',
      credentialId: token.id,
      scopes: new Set(token.scopes.split(' ').filter(Boolean)),
      authenticatedAt: null,
    };
  }

  /**
   * One page of the earner's tokens, newest first, expired ones included until the retention
   * job removes them, with how many there are in all; without `page`, every one (the export).
   */
  async list(
    earnerId: string,
    page?: { limit: number; offset: number },
  ): Promise<{ items: AccessTokenView[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.prisma.accessToken.findMany({
        where: { earnerId },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        select: { id: true, name: true, scopes: true, createdAt: true, lastUsedAt: true, expiresAt: true },
        ...(page ? { take: page.limit, skip: page.offset } : {}),
      }),
      this.prisma.accessToken.count({ where: { earnerId } }),
    ]);
    return { items: rows.map((r) => ({ ...r, scopes: storedScopes(r.scopes) })), total };
  }

  async get(earnerId: string, id: string): Promise<AccessTokenView | null> {
    const row = await this.prisma.accessToken.findFirst({
      where: { id, earnerId },
      select: { id: true, name: true, scopes: true, createdAt: true, lastUsedAt: true, expiresAt: true },
    });
    return row ? { ...row, scopes: storedScopes(row.scopes) } : null;
  }

  /** Revokes one of the earner's tokens; false when the earner has no such token. */
  async revoke(earnerId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.accessToken.deleteMany({ where: { id, earnerId } });
    return count > 0;
  }

  async purge(now: Date): Promise<number> {
    const { count } = await this.prisma.accessToken.deleteMany({ where: { expiresAt: { lte: now } } });
    return count;
  }
}
