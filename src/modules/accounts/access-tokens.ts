// Personal access tokens: `bpk_` + random secret; stored as a hash with scopes and expiry.
import type { Db } from '../../db/client.ts';
import type { Principal } from '../../http/auth.ts';
import { hashSecret, newId, newSecret } from './secrets.ts';

export const TOKEN_PREFIX = 'bpk_';

/** Scopes a personal access token can carry. */
export const TOKEN_SCOPES = [
  'profile:read',
  'profile:write',
  'badges:read',
  'badges:write',
  'groups:read',
  'groups:write',
  'shares:read',
  'shares:write',
] as const;

const TOUCH_INTERVAL_MS = 60_000;

export class AccessTokens {
  constructor(
    private readonly prisma: Db,
    private readonly now: () => Date,
  ) {}

  async create(
    earnerId: string,
    name: string,
    scopes: string[],
    expiresAt: Date | null,
  ): Promise<{ id: string; secret: string; createdAt: Date }> {
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
}
