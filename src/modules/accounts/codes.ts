// Single-use secrets sent by e-mail (sign-in links, address verification, deletion
// confirmation). 256 random bits, stored only as a SHA-256, short-lived, and limited so that
// the service cannot be used to flood someone's mailbox, nor strangers to lock its owner out:
// sign-in links are counted per requester (the client's network), so another network's
// requests never spend the owner's, and a new link from the same requester replaces its older
// ones instead of being refused.
import { Problem } from '../../http/problems.ts';
import type { Db, Tx } from './db.ts';
import { hashSecret, newId, newSecret } from './secrets.ts';

export type CodePurpose = 'sign_in' | 'verify_address' | 'confirm_deletion' | 'confirm_badge_deletion';

export interface CodePolicy {
  ttlMs: number;
  /** Sign-in links per address per requester, and other codes per address, per hour. */
  perAddressPerHour: number;
  /** Unredeemed, unexpired sign-in links one requester may have out at once (all addresses). */
  pendingPerRequester: number;
  /** Verification mails one account may have sent per hour. */
  verificationsPerAccountPerHour: number;
  /** Verification mails the whole service sends per hour. */
  verificationsPerHour: number;
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

function tooMany(detail: string): Problem {
  return new Problem('rate_limited', detail, {}, { 'retry-after': String(HOUR_MS / 1000) });
}

export class Codes {
  constructor(
    private readonly prisma: Db,
    private readonly policy: CodePolicy,
    private readonly now: () => Date,
  ) {}

  /**
   * Refuses a verification or confirmation code once the address, the account or the service
   * has had its hourly share. Rows stay countable for an hour after use or expiry, because the
   * retention job keeps them that long.
   */
  async assertWithinLimit(
    purpose: Exclude<CodePurpose, 'sign_in'>,
    address: string,
    earnerId: string | null,
  ): Promise<void> {
    const since = new Date(this.now().getTime() - HOUR_MS);
    const recent = await this.prisma.signInCode.count({
      where: { address, purpose: { not: 'sign_in' }, createdAt: { gt: since } },
    });
    if (recent >= this.policy.perAddressPerHour) {
      throw tooMany('Too many codes were sent to this address; try again later.');
    }
    if (purpose !== 'verify_address') return;
    if (earnerId !== null) {
      const mine = await this.prisma.signInCode.count({
        where: { earnerId, purpose, createdAt: { gt: since } },
      });
      if (mine >= this.policy.verificationsPerAccountPerHour) {
        throw tooMany(
          'This account has had as many verification mails as it may this hour; try again later.',
        );
      }
    }
    const all = await this.prisma.signInCode.count({ where: { purpose, createdAt: { gt: since } } });
    if (all >= this.policy.verificationsPerHour) {
      throw tooMany(
        'The service is sending as many verification mails as it may this hour; try again later.',
      );
    }
  }

  /** Issues a verification or confirmation code; returns its id and secret (to be mailed, never stored). */
  async issue(
    purpose: Exclude<CodePurpose, 'sign_in'>,
    address: string,
    earnerId: string | null,
  ): Promise<{ id: string; secret: string }> {
    await this.assertWithinLimit(purpose, address, earnerId);
    return this.create(purpose, address, earnerId, null);
  }

  /**
   * Issues a sign-in code for the address on behalf of a requester. The limits are the
   * requester's own: links to this address this hour, and links out at once to any address
   * (those to this address are about to be replaced, so they do not count).
   */
  async issueSignIn(address: string, requester: string): Promise<{ id: string; secret: string }> {
    const now = this.now();
    const since = new Date(now.getTime() - HOUR_MS);
    const toAddress = await this.prisma.signInCode.count({
      where: { purpose: 'sign_in', address, requester, createdAt: { gt: since } },
    });
    if (toAddress >= this.policy.perAddressPerHour) {
      throw tooMany('Too many sign-in links were asked for this address from here; try again later.');
    }
    const pending = await this.prisma.signInCode.count({
      where: {
        purpose: 'sign_in',
        requester,
        address: { not: address },
        usedAt: null,
        expiresAt: { gt: now },
      },
    });
    if (pending >= this.policy.pendingPerRequester) {
      throw tooMany('Too many sign-in links asked for from here are still unused; try again later.');
    }
    return this.create('sign_in', address, null, requester);
  }

  /** Ends the requester's older unused sign-in links to the same address, once a newer one is mailed. */
  async supersede(id: string): Promise<void> {
    const code = await this.prisma.signInCode.findUnique({ where: { id } });
    if (!code?.requester) return;
    const now = this.now();
    await this.prisma.signInCode.updateMany({
      where: {
        purpose: code.purpose,
        address: code.address,
        requester: code.requester,
        id: { not: id },
        usedAt: null,
        expiresAt: { gt: now },
        createdAt: { lte: code.createdAt },
      },
      data: { expiresAt: now },
    });
  }

  /** Forgets a code whose mail could not be sent: it reached no one, so it counts for no limit. */
  async withdraw(id: string): Promise<void> {
    await this.prisma.signInCode.deleteMany({ where: { id, usedAt: null } });
  }

  /**
   * Mails a freshly issued code; when the mail cannot be sent the code is withdrawn and the
   * answer is 503, so that a mail server's fault costs the earner none of their limit.
   */
  async mail(id: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (err) {
      await this.withdraw(id);
      const problem = new Problem(
        'mail_unavailable',
        'The mail could not be sent; try again shortly.',
        {},
        {
          'retry-after': '60',
        },
      );
      // Logged with the problem (never answered): what the mail server said.
      problem.cause = err;
      throw problem;
    }
  }

  private async create(
    purpose: CodePurpose,
    address: string,
    earnerId: string | null,
    requester: string | null,
  ): Promise<{ id: string; secret: string }> {
    const secret = newSecret();
    const id = newId();
    const now = this.now();
    await this.prisma.signInCode.create({
      data: {
        id,
        codeHash: hashSecret(secret),
        purpose,
        address,
        earnerId,
        requester,
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.policy.ttlMs),
      },
    });
    return { id, secret };
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
