// Single-use secrets sent by e-mail (sign-in links, address verification, deletion
// confirmation). 256 random bits, stored only as a SHA-256, short-lived, and limited per
// address so that the service cannot be used to flood someone's mailbox.
import { Problem } from '../../http/problems.ts';
import type { Db, Tx } from './db.ts';
import { hashSecret, newId, newSecret } from './secrets.ts';

export type CodePurpose = 'sign_in' | 'verify_address' | 'confirm_deletion';

export interface CodePolicy {
  ttlMs: number;
  perAddressPerHour: number;
}

export interface CodeRow {
  id: string;
  purpose: string;
  address: string;
  earnerId: string | null;
}

const HOUR_MS = 3_600_000;
/** The shape of every secret this module issues: 32 bytes, base64url. */
const CODE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class Codes {
  constructor(
    private readonly prisma: Db,
    private readonly policy: CodePolicy,
    private readonly now: () => Date,
  ) {}

  /**
   * Refuses once the address has had its hourly share of codes. Rows stay countable for an hour
   * after use or expiry, because the retention job keeps them that long.
   */
  async assertWithinLimit(address: string): Promise<void> {
    const since = new Date(this.now().getTime() - HOUR_MS);
    const recent = await this.prisma.signInCode.count({ where: { address, createdAt: { gt: since } } });
    if (recent >= this.policy.perAddressPerHour) {
      throw new Problem(
        'rate_limited',
        'Too many codes were sent to this address; try again later.',
        {},
        { 'retry-after': String(HOUR_MS / 1000) },
      );
    }
  }

  /** Issues a code for the address and returns its secret (to be mailed, never stored). */
  async issue(purpose: CodePurpose, address: string, earnerId: string | null): Promise<string> {
    await this.assertWithinLimit(address);
    const secret = newSecret();
    const now = this.now();
    await this.prisma.signInCode.create({
      data: {
        id: newId(),
        codeHash: hashSecret(secret),
        purpose,
        address,
        earnerId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.policy.ttlMs),
      },
    });
    return secret;
  }

  /** The live code for a secret, or a problem saying why it cannot be used. */
  async find(purpose: CodePurpose, secret: string): Promise<CodeRow> {
    if (!CODE_SHAPE.test(secret))
      throw new Problem('code_invalid', 'The code is not one this service issued.');
    const row = await this.prisma.signInCode.findUnique({ where: { codeHash: hashSecret(secret) } });
    if (!row || row.purpose !== purpose) {
      throw new Problem('code_invalid', 'The code is not one this service issued for this purpose.');
    }
    if (row.usedAt) throw new Problem('code_used', 'The code has been used already; ask for a new one.');
    if (row.expiresAt <= this.now())
      throw new Problem('code_expired', 'The code has expired; ask for a new one.');
    return { id: row.id, purpose: row.purpose, address: row.address, earnerId: row.earnerId };
  }

  /** Marks the code used; only one of two concurrent redemptions wins. */
  async consume(id: string, client: Tx = this.prisma): Promise<void> {
    const now = this.now();
    const { count } = await client.signInCode.updateMany({
      where: { id, usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    });
    if (count !== 1) throw new Problem('code_used', 'The code has been used already; ask for a new one.');
  }

  /** Forgets every code sent to these addresses (age gate refusals, account deletion). */
  async forgetAddresses(addresses: string[], client: Tx = this.prisma): Promise<void> {
    if (addresses.length === 0) return;
    await client.signInCode.deleteMany({ where: { address: { in: addresses } } });
  }

  /** Codes used or expired more than an hour ago: by then they no longer count for the limit. */
  async purge(now: Date): Promise<number> {
    const before = new Date(now.getTime() - HOUR_MS);
    const { count } = await this.prisma.signInCode.deleteMany({
      where: { OR: [{ expiresAt: { lte: before } }, { usedAt: { lte: before } }] },
    });
    return count;
  }
}
