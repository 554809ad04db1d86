// The accounts service: earners, their profile and addresses, export and deletion. Other
// modules ask it who an earner is and which addresses they have verified; they never read its
// tables. They contribute to the export and to deletion through the registration points.
import type { Erasure } from '../../db/erasure.ts';
import { classifyDatabaseError } from '../../db/errors.ts';
import type { RawReader } from '../../db/raw.ts';
import { Problem } from '../../http/problems.ts';
import type { AccessTokens, AccessTokenView } from './access-tokens.ts';
import type { Db, Tx } from './db.ts';
import { newId } from './secrets.ts';
import type { Sessions, SessionView } from './sessions.ts';

export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** Enough for work, home and old addresses; more is more likely abuse than need. */
export const MAX_ADDRESSES = 10;

export interface AddressView {
  id: string;
  address: string;
  verified: boolean;
  verifiedAt: Date | null;
  primary: boolean;
  createdAt: Date;
}

export interface ProfileView {
  displayName: string | null;
  handle: string | null;
  pushPolicy: 'accept' | 'hold';
  pushReviewMail: boolean;
  createdAt: Date;
  addresses: AddressView[];
}

export interface ProfilePatch {
  displayName?: string | null;
  handle?: string | null;
  pushPolicy?: 'accept' | 'hold';
  pushReviewMail?: boolean;
}

export interface OperatorActionView {
  id: string;
  action: string;
  reason: string;
  createdAt: Date;
}

/** An entry of the operator's audit: what was done, why, and to what (never to whom). */
export interface AuditEntry extends OperatorActionView {
  subject: string | null;
}

export interface AccountExport {
  exportedAt: Date;
  account: {
    id: string;
    displayName: string | null;
    handle: string | null;
    pushPolicy: 'accept' | 'hold';
    pushReviewMail: boolean;
    createdAt: Date;
    updatedAt: Date;
  };
  addresses: AddressView[];
  sessions: SessionView[];
  accessTokens: AccessTokenView[];
  operatorActions: OperatorActionView[];
  /**
   * One section per module that holds the earner's data, by the name it registered, read as
   * it is written out: a section as large as a backpack is never held in memory whole.
   */
  sections: [name: string, items: AsyncIterable<Record<string, unknown>>][];
}

/**
 * A module's share of the export: plain objects about the earner, as a list when they are few
 * (groups, links) or read page by page as they are written out when they can be many (badges).
 */
export type ExportSection = (
  earnerId: string,
) => Promise<Record<string, unknown>[]> | AsyncIterable<Record<string, unknown>>;
/** A module's share of deletion, run inside the deletion's transaction, before the earner row goes. */
export type DeletionStep = (tx: Tx, earnerId: string) => Promise<void>;

/**
 * The tables an account deletion writes (the cascade from the earner row, the set-null links,
 * the deletion steps): their files are erased of the deleted bytes after it commits.
 */
export const EARNER_TABLES: readonly string[] = [
  'earners',
  'earner_revisions',
  'upload_volumes',
  'email_addresses',
  'sessions',
  'sign_in_codes',
  'access_tokens',
  'operator_actions',
  'backpack_items',
  'badge_images',
  'groups',
  'group_members',
  'share_links',
  'connect_consent_requests',
  'connect_grants',
  'connect_auth_codes',
  'connect_tokens',
  'connect_reports',
];

const ADDRESS_SELECT = {
  id: true,
  address: true,
  verifiedAt: true,
  isPrimary: true,
  createdAt: true,
} as const;

function addressView(row: {
  id: string;
  address: string;
  verifiedAt: Date | null;
  isPrimary: boolean;
  createdAt: Date;
}): AddressView {
  return {
    id: row.id,
    address: row.address,
    verified: row.verifiedAt !== null,
    verifiedAt: row.verifiedAt,
    primary: row.isPrimary,
    createdAt: row.createdAt,
  };
}

export class AccountsService {
  private readonly exportSections = new Map<string, ExportSection>();
  private readonly deletionSteps = new Map<string, DeletionStep>();
  private sessions?: Sessions;
  private accessTokens?: AccessTokens;

  constructor(
    private readonly prisma: Db,
    private readonly now: () => Date,
    /** Prepared reads for what every badge push asks: the earner's addresses and push policy. */
    private readonly raw?: RawReader,
    private readonly erasure?: Erasure,
  ) {}

  /** Runs writes of several services as one transaction. */
  runInTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => fn(tx));
  }

  /** Wired by createAccounts; kept apart so that the service can be built on its own in tests. */
  attach(sessions: Sessions, accessTokens: AccessTokens): void {
    this.sessions = sessions;
    this.accessTokens = accessTokens;
  }

  /** Creates an earner whose given addresses are verified (the first one primary). */
  async createEarner(
    addresses: string[],
    displayName: string | null = null,
    client: Tx = this.prisma,
  ): Promise<{ id: string }> {
    const id = newId();
    const now = this.now();
    await client.earner.create({
      data: {
        id,
        displayName,
        createdAt: now,
        emails: {
          create: addresses.map((raw, i) => {
            const address = normalizeAddress(raw);
            return {
              id: newId(),
              address,
              verifiedAddress: address,
              verifiedAt: now,
              isPrimary: i === 0,
              createdAt: now,
            };
          }),
        },
      },
    });
    return { id };
  }

  /** Every address of the earner with whether it is verified: badges are matched against these. */
  async addresses(earnerId: string): Promise<{ address: string; verified: boolean }[]> {
    if (this.raw) {
      const rows = await this.raw.all<{ address: string; verifiedAt: unknown }>(
        'SELECT "address", "verifiedAt" FROM "email_addresses" WHERE "earnerId" = ? ORDER BY "createdAt" ASC, "id" ASC',
        [earnerId],
      );
      return rows.map((r) => ({ address: r.address, verified: r.verifiedAt !== null }));
    }
    const rows = await this.prisma.emailAddress.findMany({
      where: { earnerId },
      select: { address: true, verifiedAt: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((r) => ({ address: r.address, verified: r.verifiedAt !== null }));
  }

  /** The earner who has verified the address, if any. */
  async earnerByVerifiedAddress(address: string, client: Tx = this.prisma): Promise<string | null> {
    const row = await client.emailAddress.findUnique({
      where: { verifiedAddress: normalizeAddress(address) },
      select: { earnerId: true },
    });
    return row?.earnerId ?? null;
  }

  /** Earner ids in id order after `after`, `limit` at a time (to reach every earner in batches). */
  async earnerIds(after: string | null, limit: number): Promise<string[]> {
    const rows = await this.prisma.earner.findMany({
      where: after === null ? {} : { id: { gt: after } },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  /** The address the service writes to: the primary one. */
  async primaryAddress(earnerId: string): Promise<string | null> {
    const row = await this.prisma.emailAddress.findFirst({
      where: { earnerId, isPrimary: true, verifiedAt: { not: null } },
      select: { address: true },
    });
    return row?.address ?? null;
  }

  async listAddresses(earnerId: string): Promise<AddressView[]> {
    const rows = await this.prisma.emailAddress.findMany({
      where: { earnerId },
      select: ADDRESS_SELECT,
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map(addressView);
  }

  async getAddress(earnerId: string, addressId: string): Promise<AddressView> {
    const row = await this.prisma.emailAddress.findFirst({
      where: { id: addressId, earnerId },
      select: ADDRESS_SELECT,
    });
    if (!row) throw new Problem('not_found', 'The earner has no such address.');
    return addressView(row);
  }

  /** Adds an unverified address; the caller sends the verification code. */
  async addAddress(earnerId: string, raw: string): Promise<AddressView> {
    const address = normalizeAddress(raw);
    const existing = await this.prisma.emailAddress.findMany({
      where: { earnerId },
      select: { address: true },
    });
    if (existing.some((e) => e.address === address)) {
      throw new Problem('address_exists', 'The address is on this account already.');
    }
    if (existing.length >= MAX_ADDRESSES) {
      throw new Problem('address_limit_reached', `An account can hold at most ${MAX_ADDRESSES} addresses.`);
    }
    try {
      const row = await this.prisma.emailAddress.create({
        data: { id: newId(), earnerId, address, createdAt: this.now() },
        select: ADDRESS_SELECT,
      });
      return addressView(row);
    } catch (err) {
      if (classifyDatabaseError(err) === 'conflict') {
        throw new Problem('address_exists', 'The address is on this account already.');
      }
      throw err;
    }
  }

  /**
   * Marks the earner's address verified. Fails without naming the holder when another account
   * has verified it (the unique `verifiedAddress` settles races between the two).
   */
  async markVerified(earnerId: string, addressId: string, client: Tx = this.prisma): Promise<void> {
    const row = await client.emailAddress.findFirst({ where: { id: addressId, earnerId } });
    if (!row) throw new Problem('not_found', 'The earner has no such address.');
    const holder = await this.earnerByVerifiedAddress(row.address, client);
    if (holder && holder !== earnerId) throw addressUnavailable();
    try {
      await client.emailAddress.update({
        where: { id: addressId },
        data: { verifiedAddress: row.address, verifiedAt: this.now() },
      });
    } catch (err) {
      if (classifyDatabaseError(err) === 'conflict') throw addressUnavailable();
      throw err;
    }
  }

  async makePrimary(earnerId: string, addressId: string): Promise<AddressView> {
    const target = await this.getAddress(earnerId, addressId);
    if (!target.verified) {
      throw new Problem('address_not_verified', 'Only a verified address can be the primary one.');
    }
    await this.prisma.$transaction([
      this.prisma.emailAddress.updateMany({
        where: { earnerId, isPrimary: true, id: { not: addressId } },
        data: { isPrimary: false },
      }),
      this.prisma.emailAddress.updateMany({ where: { id: addressId, earnerId }, data: { isPrimary: true } }),
    ]);
    return this.getAddress(earnerId, addressId);
  }

  /** Removes an address; the last verified one stays, and a removed primary passes to the oldest verified. */
  async removeAddress(earnerId: string, addressId: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const rows = await tx.emailAddress.findMany({
        where: { earnerId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      const target = rows.find((r) => r.id === addressId);
      if (!target) throw new Problem('not_found', 'The earner has no such address.');
      const otherVerified = rows.filter((r) => r.id !== addressId && r.verifiedAt !== null);
      if (target.verifiedAt !== null && otherVerified.length === 0) {
        throw new Problem(
          'last_verified_address',
          'An account keeps at least one verified address; delete the account instead.',
        );
      }
      // Codes already sent to it stay until they expire: deleting them here would reset the
      // per-address mail limit, and without the address row they verify nothing.
      await tx.emailAddress.delete({ where: { id: addressId } });
      const next = otherVerified[0];
      if (target.isPrimary && next) {
        await tx.emailAddress.update({ where: { id: next.id }, data: { isPrimary: true } });
      }
    });
  }

  /** What happens to a badge a platform pushes to the earner: kept ("accept") or held for review. */
  async pushPolicy(earnerId: string): Promise<'accept' | 'hold'> {
    const row = this.raw
      ? await this.raw.get<{ pushPolicy: string }>('SELECT "pushPolicy" FROM "earners" WHERE "id" = ?', [
          earnerId,
        ])
      : await this.prisma.earner.findUnique({ where: { id: earnerId }, select: { pushPolicy: true } });
    if (!row) throw new Problem('not_found', 'The account no longer exists.');
    return row.pushPolicy === 'accept' ? 'accept' : 'hold';
  }

  async getProfile(earnerId: string): Promise<ProfileView> {
    const earner = await this.prisma.earner.findUnique({ where: { id: earnerId } });
    if (!earner) throw new Problem('not_found', 'The account no longer exists.');
    return {
      displayName: earner.displayName,
      handle: earner.handle,
      pushPolicy: earner.pushPolicy === 'accept' ? 'accept' : 'hold',
      pushReviewMail: earner.pushReviewMail,
      createdAt: earner.createdAt,
      addresses: await this.listAddresses(earnerId),
    };
  }

  async updateProfile(earnerId: string, patch: ProfilePatch): Promise<ProfileView> {
    const data: ProfilePatch = {};
    if (patch.displayName !== undefined) data.displayName = patch.displayName?.trim() || null;
    if (patch.handle !== undefined) data.handle = patch.handle;
    if (patch.pushPolicy !== undefined) data.pushPolicy = patch.pushPolicy;
    if (patch.pushReviewMail !== undefined) data.pushReviewMail = patch.pushReviewMail;
    try {
      await this.prisma.earner.update({ where: { id: earnerId }, data: { ...data, updatedAt: this.now() } });
    } catch (err) {
      if (classifyDatabaseError(err) === 'conflict') {
        throw new Problem('handle_taken', 'Another earner has that handle.');
      }
      throw err;
    }
    return this.getProfile(earnerId);
  }

  /** Registers a module's section of the export (its badges, groups, share links...). */
  addExportSection(name: string, section: ExportSection): void {
    if (this.exportSections.has(name)) {
      throw new Error(`export section "${name}" is registered already`);
    }
    this.exportSections.set(name, section);
  }

  /** Registers a module's rows that the cascade from the earner row does not remove or clear. */
  addDeletionStep(name: string, step: DeletionStep): void {
    if (this.deletionSteps.has(name)) throw new Error(`deletion step "${name}" is registered already`);
    this.deletionSteps.set(name, step);
  }

  /** `subject` names what the action was on when it is not the earner (a client, a report...). */
  async recordOperatorAction(
    earnerId: string | null,
    action: string,
    reason: string,
    client: Tx = this.prisma,
    subject: string | null = null,
  ) {
    await client.operatorAction.create({
      data: { id: newId(), earnerId, action, reason, subject, createdAt: this.now() },
    });
  }

  /** The operator's audit, newest first. */
  async listOperatorActions(page: { limit: number; offset: number }): Promise<{
    items: AuditEntry[];
    total: number;
  }> {
    const [items, total] = await Promise.all([
      this.prisma.operatorAction.findMany({
        select: { id: true, action: true, reason: true, subject: true, createdAt: true },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        skip: page.offset,
        take: page.limit,
      }),
      this.prisma.operatorAction.count(),
    ]);
    return { items, total };
  }

  async export(earnerId: string, currentSessionId: string | null): Promise<AccountExport> {
    const earner = await this.prisma.earner.findUnique({ where: { id: earnerId } });
    if (!earner || !this.sessions || !this.accessTokens)
      throw new Problem('not_found', 'The account no longer exists.');
    const operatorActions = await this.prisma.operatorAction.findMany({
      where: { earnerId },
      orderBy: { createdAt: 'asc' },
      select: { id: true, action: true, reason: true, createdAt: true },
    });
    return {
      exportedAt: this.now(),
      account: {
        id: earner.id,
        displayName: earner.displayName,
        handle: earner.handle,
        pushPolicy: earner.pushPolicy === 'accept' ? 'accept' : 'hold',
        pushReviewMail: earner.pushReviewMail,
        createdAt: earner.createdAt,
        updatedAt: earner.updatedAt,
      },
      addresses: await this.listAddresses(earnerId),
      sessions: (await this.sessions.list(earnerId, currentSessionId)).items,
      accessTokens: (await this.accessTokens.list(earnerId)).items,
      operatorActions,
      sections: [...this.exportSections].map(([name, section]) => [name, sectionItems(section, earnerId)]),
    };
  }

  /**
   * Deletes the earner and everything tied to them in one transaction: the cascade from the
   * earner row takes badges, images, groups, share links, sessions, tokens and their codes;
   * codes sent to their addresses before they signed in carry no earner link and go by address.
   * `also` runs inside the same transaction (an operator's record of the deletion).
   */
  async deleteEarner(earnerId: string, also?: (tx: Tx) => Promise<void>): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const addresses = await tx.emailAddress.findMany({
        where: { earnerId },
        select: { address: true, verifiedAt: true },
      });
      for (const step of this.deletionSteps.values()) await step(tx, earnerId);
      await tx.signInCode.deleteMany({ where: { address: { in: addresses.map((a) => a.address) } } });
      // Another account's unverified claim of an address this earner proved is theirs holds
      // the earner's address (typed by someone else, or by the same person elsewhere); it goes
      // too, as its verification code just went. Claims of addresses the earner never proved
      // are no more this earner's than the claimant's, and stay.
      const proven = addresses.filter((a) => a.verifiedAt !== null).map((a) => a.address);
      if (proven.length > 0) {
        await tx.emailAddress.deleteMany({
          where: { address: { in: proven }, verifiedAt: null, earnerId: { not: earnerId } },
        });
      }
      await tx.earner.delete({ where: { id: earnerId } });
      if (also) await also(tx);
    });
    this.erasure?.request(EARNER_TABLES);
  }
}

/** A section's items, read only when the export reaches that section. */
async function* sectionItems(
  section: ExportSection,
  earnerId: string,
): AsyncIterable<Record<string, unknown>> {
  yield* await section(earnerId);
}

function addressUnavailable(): Problem {
  return new Problem('address_unavailable', 'The address cannot be verified for this account.');
}
