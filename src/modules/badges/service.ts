// The backpack's logic: verify what arrives through the Open Badges engine, keep one item per
// assertion, list, read, re-verify, bake out and delete. Everything is scoped to one earner: an
// id of another earner's item behaves exactly like an unknown id.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.ts';
import type { Erasure } from '../../db/erasure.ts';
import { classifyDatabaseError } from '../../db/errors.ts';
import { type RawReader, timeParam } from '../../db/raw.ts';
import type { RawWriter } from '../../db/raw-writes.ts';
import type { Provider } from '../../db/url.ts';
import type { components } from '../../generated/api.ts';
import type { QueryOf, WithDates } from '../../http/operations.ts';
import { Problem } from '../../http/problems.ts';
import type { AccountsService, Tx } from '../accounts/index.ts';
import {
  type BadgeInput,
  type BadgeVersion,
  bakePng,
  bakeSvg,
  type Check,
  FetchError,
  type Fetcher,
  type NormalizedBadge,
  OpenBadgesInputError,
  type Verdict,
  type VerifyLimits,
  verifyBadge,
} from '../openbadges/index.ts';
import type { VerificationGate } from './gate.ts';
import { placeholderPng, placeholderSvg } from './placeholder.ts';
import { currentStatus, type SharedBadgeStatus, statusReasonOf } from './shared-views.ts';

type Schemas = components['schemas'];

export type BadgeStatus = SharedBadgeStatus;

type BadgeDates = 'issuedOn' | 'expiresAt' | 'addedAt' | 'verifiedAt';
/** A badge as lists show it (the contract's BadgeSummary), its dates kept as Dates. */
export type BadgeSummaryView = WithDates<Schemas['BadgeSummary'], BadgeDates>;
/** A badge as its detail shows it (the contract's Badge), its dates kept as Dates. */
export type BadgeDetailView = WithDates<Schemas['Badge'], BadgeDates>;
/** How the stored text of a badge was written (kept by ingestion from the engine's answer). */
type OriginalFormat = Schemas['Badge']['original']['format'];

/**
 * How a badge is kept: pending the earner's review, or replacing an older issue. An OB 3.0
 * credential replaces an older issue unless told otherwise, from a platform or from the earner.
 */
export interface PushOptions {
  acceptance?: 'accepted' | 'pending';
  replaceOlder?: boolean;
  /** Wait for a verification turn as long as it takes (an import, one badge at a time). */
  patient?: boolean;
}

/** The list's filters, order and page, as listBadges takes them (defaults filled in). */
export type ListQuery = QueryOf<'listBadges'>;
export type SortKey = ListQuery['sort'];

/** Adds a named section to a badge's detail (the groups module lists the groups holding it). */
export type DetailSection = (earnerId: string, itemId: string) => Promise<unknown>;
/** The ids of the items in one of the earner's groups, or null when there is no such group. */
export type GroupFilter = (earnerId: string, groupId: string) => Promise<string[] | null>;

/** What another module ends when every badge goes, inside that transaction; returns how many. */
export type RemoveAllStep = (earnerId: string, tx: Tx) => Promise<number>;

export interface BadgesDeps {
  prisma: Db;
  provider: Provider;
  /** Prepared reads on the path of every badge added (held already? volume spent?). */
  raw: RawReader;
  /** Hand-written writes storing a new badge in one transaction. */
  writer: RawWriter;
  accounts: AccountsService;
  fetcher: Fetcher;
  now: () => Date;
  /** Hosts whose DID and key documents may be read over plain http (tests); https only otherwise. */
  didWebHttpHosts?: string[];
  /** Bounds verifications at once; every verification takes a turn. */
  gate: VerificationGate;
  /** Per-verification fetch limits passed to the engine. */
  limits?: Partial<VerifyLimits>;
  /** Where fetch failures are recorded in full (earners are told less). */
  log?: FastifyBaseLogger;
  /** Bytes of badges (originals and images) one account may add per hour. */
  uploadBytesPerHour?: number;
  /** The earner's holder DIDs, which OB 3.0 credentials may name as their subject. */
  holderDids?: (earnerId: string) => Promise<string[]>;
  /** Erases deleted badges' bytes from the database files. */
  erasure?: Erasure;
}

/** The tables a badge deletion writes (the item, its image, its group places, its share links). */
export const BADGE_TABLES: readonly string[] = [
  'backpack_items',
  'badge_images',
  'group_members',
  'share_links',
];

const SUMMARY_SELECT = {
  id: true,
  name: true,
  issuerId: true,
  issuerName: true,
  issuedOn: true,
  expiresAt: true,
  status: true,
  statusReason: true,
  specVersion: true,
  addedAt: true,
  verifiedAt: true,
  imageType: true,
} as const;

const DETAIL_SELECT = {
  ...SUMMARY_SELECT,
  description: true,
  issuerUrl: true,
  recipientAddress: true,
  badgeClassId: true,
  criteriaUrl: true,
  source: true,
  normalizedJson: true,
  originalFormat: true,
  originalText: true,
  checksJson: true,
} as const;

type DetailRow = {
  id: string;
  name: string;
  issuerId: string;
  issuerName: string;
  issuedOn: Date;
  expiresAt: Date | null;
  status: string;
  statusReason: string | null;
  specVersion: string;
  addedAt: Date;
  verifiedAt: Date;
  imageType: string | null;
  description: string;
  issuerUrl: string | null;
  recipientAddress: string;
  badgeClassId: string | null;
  criteriaUrl: string | null;
  source: string;
  normalizedJson: string;
  originalFormat: string;
  originalText: string;
  checksJson: string;
};

/** Every column of a backpack item, as `store` inserts them. */
const ITEM_COLUMNS = [
  'id',
  'earnerId',
  'assertionId',
  'specVersion',
  'status',
  'statusReason',
  'recheckAt',
  'recheckAttempts',
  'acceptance',
  'name',
  'description',
  'issuerId',
  'issuerName',
  'issuerUrl',
  'badgeClassId',
  'criteriaUrl',
  'issuedOn',
  'expiresAt',
  'recipientAddress',
  'originalFormat',
  'originalText',
  'normalizedJson',
  'checksJson',
  'verifiedAt',
  'addedAt',
  'source',
  'searchText',
  'sortName',
  'imageType',
] as const;

/** A row of the earner's volume ledger to write, and the statement removing rows past the hour. */
interface VolumeEntry {
  add: [string, unknown[]];
  expire: [string, unknown[]];
}

const ORDER: Record<SortKey, { field: 'issuedOn' | 'addedAt' | 'sortName'; dir: 'asc' | 'desc' }> = {
  issued: { field: 'issuedOn', dir: 'asc' },
  '-issued': { field: 'issuedOn', dir: 'desc' },
  added: { field: 'addedAt', dir: 'asc' },
  '-added': { field: 'addedAt', dir: 'desc' },
  name: { field: 'sortName', dir: 'asc' },
  '-name': { field: 'sortName', dir: 'desc' },
};

function imageUrlOf(id: string, imageType: string | null): string | null {
  return imageType ? `/v1/badges/${id}/image` : null;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

function failedCodes(checks: Check[]): Set<string> {
  return new Set(checks.filter((c) => c.status === 'failed').map((c) => c.code));
}

/**
 * Why a verdict is refused, as a problem; null when the badge may be kept. Expired badges are
 * kept (they still record an achievement); revoked ones are not.
 */
function refusal(verdict: Verdict, fetchCode: string | undefined): Problem | null {
  const failed = failedCodes(verdict.checks);
  const checks = verdict.checks;
  if (failed.has('recipient_unverified')) {
    return new Problem(
      'recipient_unverified',
      'The badge is awarded to one of your addresses that is not verified yet; verify it, then add the badge again.',
      { checks },
    );
  }
  if (failed.has('recipient_mismatch')) {
    return new Problem('recipient_mismatch', 'The badge is awarded to none of your addresses.', { checks });
  }
  if (checks.some((c) => c.code === 'endorsement_not_award')) {
    return new Problem(
      'endorsement_not_award',
      'This is an endorsement of a badge, an issuer or an achievement, not a badge awarded to you; endorsements are kept with the badges they are embedded in.',
      { checks },
    );
  }
  if (verdict.status === 'revoked') {
    return new Problem('badge_revoked', 'The issuer has revoked this badge.', { checks });
  }
  if (failed.has('hosted_fetched') && !verdict.badge) {
    return new Problem('badge_unreachable', "The issuer's copy of the badge could not be fetched.", {
      checks,
      ...(fetchCode ? { fetchCode } : {}),
    });
  }
  if (verdict.status === 'invalid') {
    return new Problem('badge_invalid', 'The badge does not verify; see checks.', { checks });
  }
  if (!verdict.badge || !verdict.original || !verdict.version || !verdict.recipient) {
    return new Problem('badge_invalid', 'The badge could not be read completely; see checks.', { checks });
  }
  return null;
}

function inputProblem(err: OpenBadgesInputError): Problem {
  if (err.kind === 'too_large') return new Problem('badge_too_large', err.message, { inputCode: err.code });
  if (err.kind === 'unsupported')
    return new Problem('badge_unsupported', err.message, { inputCode: err.code });
  return new Problem('badge_unreadable', err.message, { inputCode: err.code });
}

function toDetail(row: DetailRow, now: Date, sections: Record<string, unknown>): BadgeDetailView {
  const status = currentStatus(row.status, row.expiresAt, now);
  const checks = JSON.parse(row.checksJson) as Check[];
  const reason = statusReasonOf(status, row.statusReason);
  // The earner sees the check's own words (which list, what went wrong).
  const missing = reason ? checks.find((c) => c.code === reason.code && c.status === 'failed') : undefined;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    issuer: { id: row.issuerId, name: row.issuerName, url: row.issuerUrl },
    issuedOn: row.issuedOn,
    expiresAt: row.expiresAt,
    status,
    statusReason: reason && missing ? { code: reason.code, message: missing.message } : reason,
    // Written by ingestion from the engine's own BadgeVersion and format.
    specVersion: row.specVersion as BadgeVersion,
    addedAt: row.addedAt,
    verifiedAt: row.verifiedAt,
    imageUrl: imageUrlOf(row.id, row.imageType),
    recipient: row.recipientAddress,
    badgeClassId: row.badgeClassId,
    criteriaUrl: row.criteriaUrl,
    source: row.source,
    normalized: JSON.parse(row.normalizedJson) as NormalizedBadge,
    original: { format: row.originalFormat as OriginalFormat, text: row.originalText },
    checks,
    sections,
  };
}

const RECHECK_SELECT = {
  id: true,
  status: true,
  originalFormat: true,
  originalText: true,
  recheckAttempts: true,
} as const;

type RecheckRow = {
  id: string;
  status: string;
  originalFormat: string;
  originalText: string;
  recheckAttempts: number;
};

/** The first retry of an unverified badge, doubling with each failed retry up to the cap. */
const RECHECK_FIRST_MS = 10 * 60_000;
const RECHECK_MAX_MS = 24 * 3_600_000;

/**
 * The stored status with its reason and retry schedule: an unverified badge is tried again after
 * a delay that doubles with each verification that could not be made (`attemptsBefore` of them
 * so far); any other status clears the schedule.
 */
function statusFields(status: string, reason: string | null, attemptsBefore: number, now: Date) {
  if (status !== 'unverified') {
    return { status, statusReason: null, recheckAt: null, recheckAttempts: 0 };
  }
  return { status, statusReason: reason, ...retrySchedule(attemptsBefore, now) };
}

function retrySchedule(attemptsBefore: number, now: Date): { recheckAt: Date; recheckAttempts: number } {
  const delay = Math.min(RECHECK_FIRST_MS * 2 ** Math.min(attemptsBefore, 20), RECHECK_MAX_MS);
  return { recheckAt: new Date(now.getTime() + delay), recheckAttempts: attemptsBefore + 1 };
}

/** Identifies an input by its content, for telling identical verifications apart. */
function inputKey(input: BadgeInput): string {
  const digest = (data: string | Uint8Array) => createHash('sha256').update(data).digest('base64url');
  switch (input.kind) {
    case 'url':
      return `url:${input.url.trim()}`;
    case 'jws':
      return `jws:${digest(input.jws.trim())}`;
    case 'json':
      return `json:${digest(typeof input.json === 'string' ? input.json : (JSON.stringify(input.json) ?? ''))}`;
    case 'image':
      return `image:${digest(input.bytes)}`;
  }
}

/** What the stored original stands for when it is verified again. */
function storedInput(format: string, text: string): BadgeInput {
  return format === 'json' ? { kind: 'json', json: text } : { kind: 'jws', jws: text };
}

export class BadgesService {
  private readonly sections = new Map<string, { read: DetailSection; fresh: unknown }>();
  private readonly inFlight = new Map<string, Promise<{ verdict: Verdict; fetchCode: string | undefined }>>();
  private groupFilter: GroupFilter | null = null;
  private removeAllStep: RemoveAllStep | null = null;

  constructor(private readonly deps: BadgesDeps) {}

  /** `fresh` is the section of a badge just stored, which nothing refers to yet. */
  addDetailSection(name: string, section: DetailSection, fresh: unknown): void {
    if (this.sections.has(name)) throw new Error(`badge detail section ${name} is registered twice`);
    this.sections.set(name, { read: section, fresh });
  }

  setGroupFilter(filter: GroupFilter): void {
    this.groupFilter = filter;
  }

  /**
   * Verifies for a request. The same input for the same earner already being verified is not
   * verified again: the callers share that one verification (and its gate turn), so a burst of
   * identical pushes costs one turn and every caller reaches the store, which keeps one badge.
   */
  private verifyOnce(
    earnerId: string,
    input: BadgeInput,
    now: Date,
    patient = false,
  ): Promise<{ verdict: Verdict; fetchCode: string | undefined }> {
    const key = `${earnerId}\n${inputKey(input)}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = this.verify(earnerId, input, now, patient).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  /**
   * Runs the engine with this earner's addresses, in a turn of the verification gate. The fetch
   * error behind a failure is kept in its public form; its detail goes to the log only.
   */
  private async verify(
    earnerId: string,
    input: BadgeInput,
    now: Date,
    patient = false,
  ): Promise<{ verdict: Verdict; fetchCode: string | undefined }> {
    let fetchCode: string | undefined;
    const base = this.deps.fetcher;
    const fetcher: Fetcher = async (url, opts) => {
      try {
        return await base(url, opts);
      } catch (err) {
        if (err instanceof FetchError) {
          fetchCode ??= err.publicCode;
          this.deps.log?.info(
            { fetch: { host: hostOf(url), code: err.code, detail: err.detail } },
            'fetch failed',
          );
        }
        throw err;
      }
    };
    const recipients = await this.deps.accounts.addresses(earnerId);
    const holderDids = (await this.deps.holderDids?.(earnerId)) ?? [];
    return this.deps.gate.run(async () => {
      try {
        const verdict = await verifyBadge(input, {
          fetcher,
          now: () => now,
          recipients,
          holderDids,
          didWebHttpHosts: this.deps.didWebHttpHosts,
          ...(this.deps.limits ? { limits: this.deps.limits } : {}),
        });
        return { verdict, fetchCode };
      } catch (err) {
        if (err instanceof OpenBadgesInputError) throw inputProblem(err);
        if (err instanceof FetchError) {
          throw new Problem('badge_unreachable', err.message, { fetchCode: err.publicCode });
        }
        throw err;
      }
    }, patient);
  }

  /** Verifies and keeps a badge; an assertion already held gives the item held (`created: false`). */
  async add(
    earnerId: string,
    input: BadgeInput,
    source = 'earner',
    push: PushOptions = {},
  ): Promise<{ created: boolean; replaced?: boolean; badge: BadgeDetailView }> {
    const now = this.deps.now();
    const first = await this.verifyOnce(earnerId, input, now, push.patient);
    const { verdict, fetchCode } = { ...first, verdict: await this.refreshed(earnerId, first.verdict, now) };
    const refused = refusal(verdict, fetchCode);
    if (refused) throw refused;
    const badge = verdict.badge as NormalizedBadge;
    const original = verdict.original as NonNullable<Verdict['original']>;
    const assertionId =
      verdict.assertionId ?? `sha256:${createHash('sha256').update(original.text).digest('hex')}`;

    const image = verdict.image;
    const issuedOn = new Date(badge.issuedOn);
    const expiresAt = badge.expires ? new Date(badge.expires) : null;
    const fields = {
      specVersion: verdict.version as string,
      ...statusFields(verdict.status, verdict.statusReason, 0, now),
      name: badge.name,
      description: badge.description,
      issuerId: badge.issuer.id,
      issuerName: badge.issuer.name,
      issuerUrl: badge.issuer.url,
      badgeClassId: badge.badgeClassId,
      criteriaUrl: badge.criteriaUrl,
      issuedOn: Number.isNaN(issuedOn.getTime()) ? now : issuedOn,
      expiresAt: expiresAt && !Number.isNaN(expiresAt.getTime()) ? expiresAt : null,
      recipientAddress: (verdict.recipient as { address: string }).address,
      originalFormat: original.format,
      originalText: original.text,
      normalizedJson: JSON.stringify(badge),
      checksJson: JSON.stringify(verdict.checks),
      verifiedAt: now,
      source,
      acceptance: push.acceptance ?? 'accepted',
      searchText: `${badge.name}\n${badge.issuer.name}`.toLowerCase(),
      sortName: badge.name.toLowerCase(),
      imageType: image?.contentType ?? null,
    };
    const imageData = image
      ? {
          contentType: image.contentType,
          bytes: new Uint8Array(image.bytes),
          sha256: createHash('sha256').update(image.bytes).digest('hex'),
        }
      : null;

    const storedBytes = Buffer.byteLength(original.text) + (image?.bytes.length ?? 0);

    // OB 3.0: the same badge is the same issuer id and credential id; the newer validFrom wins.
    const replaceOlder = push.replaceOlder ?? verdict.version === '3.0';
    const held = await this.findByAssertion(earnerId, badge.issuer.id, assertionId);
    if (held) {
      if (!replaceOlder || !(await this.olderThan(held, badge))) {
        return { created: false, badge: await this.get(earnerId, held) };
      }
      const volume = await this.spendVolume(earnerId, storedBytes, now);
      // An issuer's newer issue of the same credential takes the place of the one held, in
      // place and at once: it keeps its id, its groups and its share links.
      const { prisma, writer } = this.deps;
      await prisma.$transaction([
        writer.statement(...volume.expire),
        writer.statement(...volume.add),
        prisma.badgeImage.deleteMany({ where: { itemId: held } }),
        prisma.backpackItem.update({
          where: { id: held },
          data: { ...fields, ...(imageData ? { image: { create: imageData } } : {}) },
        }),
      ]);
      return { created: false, replaced: true, badge: await this.get(earnerId, held) };
    }

    const volume = await this.spendVolume(earnerId, storedBytes, now);
    const row = { id: randomUUID(), earnerId, assertionId, addedAt: now, ...fields };
    try {
      await this.store(row, imageData, volume);
    } catch (err) {
      // Two requests with the same assertion raced; the one that lost answers with the winner's item.
      if (classifyDatabaseError(err) !== 'conflict') throw err;
      const winner = await this.findByAssertion(earnerId, badge.issuer.id, assertionId);
      if (!winner) throw err;
      return { created: false, badge: await this.get(earnerId, winner) };
    }
    // What was just stored is answered as it is, not read back.
    const sections: Record<string, unknown> = {};
    for (const [name, section] of this.sections) sections[name] = section.fresh;
    return { created: true, badge: toDetail(row, now, sections) };
  }

  /**
   * Stores a new item in one transaction of hand-written statements: the item (one insert), its
   * image, and the earner's volume ledger.
   */
  private async store(
    row: Record<(typeof ITEM_COLUMNS)[number], unknown>,
    image: { contentType: string; bytes: Uint8Array; sha256: string } | null,
    volume: VolumeEntry,
  ): Promise<void> {
    const writer = this.deps.writer;
    const columns = ITEM_COLUMNS.map((c) => `"${c}"`).join(', ');
    const statements = [
      writer.statement(
        `INSERT INTO "backpack_items" (${columns}) VALUES (${ITEM_COLUMNS.map(() => '?').join(', ')})`,
        ITEM_COLUMNS.map((c) => row[c] ?? null),
      ),
    ];
    if (image) {
      statements.push(
        writer.statement(
          'INSERT INTO "badge_images" ("itemId", "contentType", "bytes", "sha256") VALUES (?, ?, ?, ?)',
          [row.id, image.contentType, image.bytes, image.sha256],
        ),
      );
    }
    statements.push(writer.statement(...volume.expire), writer.statement(...volume.add));
    await writer.transaction(statements);
  }

  /**
   * The ledger entry for `bytes` more stored for the earner, or 409 `limit_reached` when that
   * would take the last hour past the account's allowance. Entries are kept per earner and
   * minute (bytes added in a minute add up in one row), so that the sum reads at most some 60
   * rows however many badges arrive; a minute counts until an hour after its end. Rows older
   * than the hour go when the entry is written, as nothing reads them any more.
   */
  private async spendVolume(earnerId: string, bytes: number, now: Date): Promise<VolumeEntry> {
    const allowance = this.deps.uploadBytesPerHour ?? Number.POSITIVE_INFINITY;
    const since = new Date(now.getTime() - 3_600_000);
    const spent = await this.deps.raw.get<{ spent: unknown }>(
      'SELECT SUM("bytes") AS "spent" FROM "upload_volumes" WHERE "earnerId" = ? AND "createdAt" > ?',
      [earnerId, timeParam(since)],
    );
    if (Number(spent?.spent ?? 0) + bytes > allowance) {
      throw new Problem(
        'limit_reached',
        `An account can add at most ${allowance} bytes of badges per hour; this badge would take it past that.`,
      );
    }
    const minuteEnd = new Date((Math.floor(now.getTime() / 60_000) + 1) * 60_000);
    return {
      expire: ['DELETE FROM "upload_volumes" WHERE "earnerId" = ? AND "createdAt" <= ?', [earnerId, since]],
      add: [
        'INSERT INTO "upload_volumes" ("id", "earnerId", "bytes", "createdAt") VALUES (?, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "bytes" = "upload_volumes"."bytes" + excluded."bytes"',
        [`${earnerId}:${minuteEnd.getTime()}`, earnerId, bytes, minuteEnd],
      ],
    };
  }

  /**
   * Follows an OB 3.0 credential's 1EdTechCredentialRefresh once: the credential served there
   * is verified like any other and replaces the one given only when it is the same badge (same
   * issuer and credential id), newer and valid. Its own refresh service is not followed.
   */
  private async refreshed(earnerId: string, verdict: Verdict, now: Date): Promise<Verdict> {
    if (!verdict.refreshUrl || !verdict.badge || verdict.status === 'revoked') return verdict;
    let fresh: Verdict;
    try {
      fresh = (await this.verify(earnerId, { kind: 'url', url: verdict.refreshUrl }, now)).verdict;
    } catch {
      return verdict;
    }
    const same =
      fresh.version === '3.0' &&
      fresh.badge?.issuer.id === verdict.badge.issuer.id &&
      fresh.assertionId === verdict.assertionId;
    const newer = fresh.badge && new Date(fresh.badge.issuedOn) > new Date(verdict.badge.issuedOn);
    return same && newer && fresh.status === 'valid' ? fresh : verdict;
  }

  /** Whether the held item is an older issue (same issuer, earlier issuance) than `badge`. */
  private async olderThan(heldId: string, badge: NormalizedBadge): Promise<boolean> {
    const row = await this.deps.prisma.backpackItem.findUnique({
      where: { id: heldId },
      select: { issuerId: true, issuedOn: true },
    });
    const issued = new Date(badge.issuedOn);
    return (
      !!row && row.issuerId === badge.issuer.id && !Number.isNaN(issued.getTime()) && issued > row.issuedOn
    );
  }

  /** The id of the earner's badge with this issuer and assertion id, if they hold it. */
  heldId(earnerId: string, issuerId: string, assertionId: string): Promise<string | null> {
    return this.findByAssertion(earnerId, issuerId, assertionId);
  }

  private async findByAssertion(
    earnerId: string,
    issuerId: string,
    assertionId: string,
  ): Promise<string | null> {
    const row = await this.deps.raw.get<{ id: string }>(
      'SELECT "id" FROM "backpack_items" WHERE "earnerId" = ? AND "issuerId" = ? AND "assertionId" = ?',
      [earnerId, issuerId, assertionId],
    );
    return row?.id ?? null;
  }

  async list(earnerId: string, query: ListQuery): Promise<{ items: BadgeSummaryView[]; total: number }> {
    const now = this.deps.now();
    let ids: string[] | undefined;
    if (query.groupId !== undefined) {
      const found = this.groupFilter ? await this.groupFilter(earnerId, query.groupId) : null;
      if (!found) throw new Problem('not_found', 'No such group.');
      ids = found;
    }
    const where = {
      earnerId,
      acceptance: 'accepted',
      ...(query.issuerId !== undefined ? { issuerId: query.issuerId } : {}),
      ...(query.q !== undefined ? { searchText: { contains: query.q.toLowerCase() } } : {}),
      ...(ids ? { id: { in: ids } } : {}),
      ...statusWhere(query.status, now),
    };
    const order = ORDER[query.sort];
    const [rows, total] = await Promise.all([
      this.deps.prisma.backpackItem.findMany({
        where,
        select: SUMMARY_SELECT,
        orderBy: [{ [order.field]: order.dir }, { id: order.dir }],
        skip: query.offset,
        take: query.limit,
      }),
      this.deps.prisma.backpackItem.count({ where }),
    ]);
    const items = rows.map((r): BadgeSummaryView => {
      const status = currentStatus(r.status, r.expiresAt, now);
      return {
        id: r.id,
        name: r.name,
        issuer: { id: r.issuerId, name: r.issuerName },
        issuedOn: r.issuedOn,
        expiresAt: r.expiresAt,
        status,
        statusReason: statusReasonOf(status, r.statusReason),
        specVersion: r.specVersion as BadgeVersion,
        addedAt: r.addedAt,
        verifiedAt: r.verifiedAt,
        imageUrl: imageUrlOf(r.id, r.imageType),
      };
    });
    return { items, total };
  }

  async get(earnerId: string, id: string): Promise<BadgeDetailView> {
    const row = await this.deps.prisma.backpackItem.findFirst({
      where: { id, earnerId },
      select: DETAIL_SELECT,
    });
    if (!row) throw new Problem('not_found', 'No such badge.');
    const sections: Record<string, unknown> = {};
    for (const [name, section] of this.sections) sections[name] = await section.read(earnerId, id);
    return toDetail(row, this.deps.now(), sections);
  }

  async remove(earnerId: string, id: string): Promise<void> {
    const { count } = await this.deps.prisma.backpackItem.deleteMany({ where: { id, earnerId } });
    if (count === 0) throw new Problem('not_found', 'No such badge.');
    this.deps.erasure?.request(BADGE_TABLES);
  }

  /**
   * Deletes every badge of the earner and, in the same transaction, what the step registered
   * with `onRemoveAll` ends with them (share links left with nothing to show).
   */
  async removeAll(earnerId: string): Promise<{ deleted: number; endedShareLinks: number }> {
    const result = await this.deps.prisma.$transaction(async (tx) => {
      const endedShareLinks = this.removeAllStep ? await this.removeAllStep(earnerId, tx) : 0;
      const { count } = await tx.backpackItem.deleteMany({ where: { earnerId } });
      return { deleted: count, endedShareLinks };
    });
    if (result.deleted > 0 || result.endedShareLinks > 0) this.deps.erasure?.request(BADGE_TABLES);
    return result;
  }

  onRemoveAll(step: RemoveAllStep): void {
    this.removeAllStep = step;
  }

  async image(earnerId: string, id: string): Promise<{ contentType: string; bytes: Uint8Array }> {
    const row = await this.deps.prisma.badgeImage.findFirst({
      where: { itemId: id, item: { earnerId } },
      select: { contentType: true, bytes: true },
    });
    if (!row) {
      const exists = await this.deps.prisma.backpackItem.count({ where: { id, earnerId } });
      throw new Problem('not_found', exists ? 'This badge has no image.' : 'No such badge.');
    }
    return { contentType: row.contentType, bytes: new Uint8Array(row.bytes) };
  }

  /** Verifies a stored badge again and records the outcome. */
  async reverify(earnerId: string, id: string): Promise<BadgeDetailView> {
    const row = await this.deps.prisma.backpackItem.findFirst({
      where: { id, earnerId },
      select: RECHECK_SELECT,
    });
    if (!row) throw new Problem('not_found', 'No such badge.');
    await this.recheck(earnerId, row, this.deps.now());
    return this.get(earnerId, id);
  }

  private async recheck(earnerId: string, row: RecheckRow, now: Date, patient = false): Promise<string> {
    let status: string;
    let reason: string | null = null;
    let checks: Check[];
    // An issuer's copy that cannot be fetched right now proves nothing either way: a badge that
    // was valid becomes unverified (never stays valid), one already revoked or invalid stays so.
    const unchecked = () =>
      row.status === 'valid' || row.status === 'unverified' ? 'unverified' : row.status;
    try {
      const { verdict } = await this.verify(
        earnerId,
        storedInput(row.originalFormat, row.originalText),
        now,
        patient,
      );
      checks = verdict.checks;
      const failed = failedCodes(checks);
      const unreachable = !verdict.badge && failed.has('hosted_fetched') && verdict.status !== 'revoked';
      status = unreachable ? unchecked() : verdict.status;
      reason = unreachable ? 'hosted_fetched' : verdict.statusReason;
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      const unreachable = err.code === 'badge_unreachable';
      status = unreachable ? unchecked() : 'invalid';
      reason = unreachable ? 'hosted_fetched' : null;
      checks = [
        {
          code: unreachable ? 'hosted_fetched' : 'input_parsed',
          status: 'failed',
          message: err.detail ?? err.title,
        },
      ];
    }
    const attempts = row.status === 'unverified' ? row.recheckAttempts : 0;
    await this.deps.prisma.backpackItem.updateMany({
      where: { id: row.id, earnerId },
      data: {
        ...statusFields(status, reason, attempts, now),
        checksJson: JSON.stringify(checks),
        verifiedAt: now,
      },
    });
    return status;
  }

  /**
   * Re-verifies up to `batchSize` badges: first the unverified ones whose retry is due (their
   * backoff has passed), then those verified longest ago, so that revocations and expiries reach
   * the backpack. Returns how many were checked and how many changed status.
   */
  async reverifyDue(now: Date, batchSize: number): Promise<{ checked: number; changed: number }> {
    const select = { ...RECHECK_SELECT, earnerId: true } as const;
    const due = await this.deps.prisma.backpackItem.findMany({
      where: { recheckAt: { lte: now } },
      orderBy: [{ recheckAt: 'asc' }, { id: 'asc' }],
      take: batchSize,
      select,
    });
    const oldest =
      due.length < batchSize
        ? await this.deps.prisma.backpackItem.findMany({
            // Unverified badges wait for their own retry time instead.
            where: { verifiedAt: { lt: now }, recheckAt: null },
            orderBy: [{ verifiedAt: 'asc' }, { id: 'asc' }],
            take: batchSize - due.length,
            select,
          })
        : [];
    const rows = [...due, ...oldest];
    let changed = 0;
    for (const row of rows) {
      try {
        const status = await this.recheck(row.earnerId, row, now, true);
        if (status !== row.status) changed += 1;
      } catch (err) {
        // One badge that cannot be checked must not stop the others, nor come first again
        // next run: it keeps its status, and its checks say that the last check failed.
        this.deps.log?.error({ err, itemId: row.id }, 'badge re-verification failed');
        await this.recordFailedCheck(row, now).catch((recordErr: unknown) => {
          this.deps.log?.error({ err: recordErr, itemId: row.id }, 'cannot record a failed re-verification');
        });
      }
    }
    return { checked: rows.length, changed };
  }

  private async recordFailedCheck(row: RecheckRow, now: Date): Promise<void> {
    const checks: Check[] = [
      { code: 'input_parsed', status: 'failed', message: 'the badge could not be checked again this time' },
    ];
    await this.deps.prisma.backpackItem.updateMany({
      where: { id: row.id },
      data: {
        checksJson: JSON.stringify(checks),
        verifiedAt: now,
        // An unverified badge waits for its next retry like after any other failed try.
        ...(row.status === 'unverified' ? retrySchedule(row.recheckAttempts, now) : {}),
      },
    });
  }

  /** The badge baked into a PNG or SVG that carries its original assertion. */
  async baked(
    earnerId: string,
    id: string,
    format: 'png' | 'svg',
  ): Promise<{ contentType: string; bytes: Uint8Array; fileName: string }> {
    const row = await this.deps.prisma.backpackItem.findFirst({
      where: { id, earnerId },
      select: { specVersion: true, originalText: true, imageType: true, name: true },
    });
    if (!row) throw new Problem('not_found', 'No such badge.');
    const version = row.specVersion === '3.0' ? '3.0' : '2.0';
    const wanted = format === 'png' ? 'image/png' : 'image/svg+xml';
    const stored =
      row.imageType === wanted
        ? await this.deps.prisma.badgeImage.findUnique({ where: { itemId: id }, select: { bytes: true } })
        : null;
    const fileName = `${row.name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'badge'}.${format}`;
    if (format === 'png') {
      const base = stored ? new Uint8Array(stored.bytes) : placeholderPng();
      return { contentType: wanted, bytes: bakePng(base, row.originalText, version), fileName };
    }
    const svg = stored ? Buffer.from(stored.bytes).toString('utf8') : placeholderSvg();
    return {
      contentType: wanted,
      bytes: new Uint8Array(Buffer.from(bakeSvg(svg, row.originalText, version), 'utf8')),
      fileName,
    };
  }

  /**
   * Every badge of the earner with its original assertion and its image's bytes (base64), for
   * the account export, oldest first. Read a page at a time (by `addedAt` and id, so that badges
   * added meanwhile neither repeat nor shift the pages), so that memory does not grow with the
   * backpack.
   */
  async *exportAll(earnerId: string): AsyncGenerator<ExportedBadge> {
    let after: { addedAt: Date; id: string } | null = null;
    for (;;) {
      const rows: (DetailRow & { assertionId: string })[] = await this.deps.prisma.backpackItem.findMany({
        where: {
          earnerId,
          ...(after
            ? { OR: [{ addedAt: { gt: after.addedAt } }, { addedAt: after.addedAt, id: { gt: after.id } }] }
            : {}),
        },
        select: { ...DETAIL_SELECT, assertionId: true },
        orderBy: [{ addedAt: 'asc' }, { id: 'asc' }],
        take: EXPORT_PAGE,
      });
      if (rows.length === 0) return;
      const now = this.deps.now();
      for (const row of rows) {
        const image = row.imageType
          ? await this.deps.prisma.badgeImage.findUnique({
              where: { itemId: row.id },
              select: { contentType: true, bytes: true },
            })
          : null;
        const { sections: _none, ...badge } = toDetail(row, now, {});
        yield {
          ...badge,
          assertionId: row.assertionId,
          image: image
            ? { contentType: image.contentType, data: Buffer.from(image.bytes).toString('base64') }
            : null,
        };
      }
      const last = rows[rows.length - 1] as DetailRow;
      after = { addedAt: last.addedAt, id: last.id };
      if (rows.length < EXPORT_PAGE) return;
    }
  }
}

/** Badges read per query by the export: enough to amortize the query, few enough to hold. */
const EXPORT_PAGE = 100;

/** A badge as the account export carries it: its detail, its assertion's id and its image. */
export type ExportedBadge = Omit<BadgeDetailView, 'sections'> & {
  assertionId: string;
  image: { contentType: string; data: string } | null;
};

/** The status filter, with a badge past its expiry counted as expired whatever was stored. */
function statusWhere(status: BadgeStatus | undefined, now: Date): Record<string, unknown> {
  switch (status) {
    case undefined:
      return {};
    case 'valid':
      return { status: 'valid', OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
    case 'expired':
      return {
        OR: [{ status: 'expired' }, { status: 'valid', expiresAt: { lte: now } }],
      };
    default:
      return { status };
  }
}
