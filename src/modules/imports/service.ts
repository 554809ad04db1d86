// Loading an account export into this backpack. The document is first written to a temporary
// file while it is checked from end to end (so a malformed or foreign one changes nothing);
// then it is read again and each badge goes through the same ingestion as a badge the earner
// adds, one at a time, before the groups are rebuilt around the badges' new ids.

import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { Problem } from '../../http/problems.ts';
import type { BadgesService } from '../badges/index.ts';
import type { GroupsService } from '../groups/index.ts';
import { type BadgeInput, bakePng, bakeSvg } from '../openbadges/index.ts';
import { DEFAULT_SCANNER_LIMITS, ExportFormatError, ExportScanner, type ScannedValue } from './scanner.ts';

const READ_BYTES = 256 * 1024;
/** Refusals listed one by one in the report; beyond them only counted. */
const LISTED_REFUSALS = 100;
/** More groups than any account may hold is not an export of this service. */
const MAX_GROUPS_IN_EXPORT = 100_000;

export interface ImportReport {
  complete: boolean;
  stoppedBy: 'limit_reached' | null;
  badges: {
    inExport: number;
    imported: number;
    alreadyHeld: number;
    unverified: number;
    refused: number;
    notTried: number;
    refusals: { id: string; code: string }[];
  };
  groups: { inExport: number; created: number; merged: number; refused: number };
}

interface ExportBadge {
  id: string;
  assertionId: string | null;
  issuerId: string | null;
  specVersion: string | null;
  original: { format: 'json' | 'jws'; text: string };
  image: { contentType: 'image/png' | 'image/svg+xml'; bytes: Buffer } | null;
}

interface ExportGroup {
  name: string;
  description: string;
  badgeIds: string[];
}

/** A checked export waiting in its temporary file (already unlinked: nothing outlives the process). */
export interface SpooledExport {
  file: FileHandle;
  bytes: number;
  badges: number;
  groups: number;
  /** Lets go of the file (and so of its bytes); safe to call more than once. */
  close(): Promise<void>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown, max: number): string | null {
  return typeof value === 'string' && value.length <= max ? value : null;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A badge of the export as the import reads it, or why it cannot be one. */
function readBadge(value: unknown, index: number): ExportBadge {
  const bad = (what: string) =>
    new ExportFormatError('unrecognized', `The document is not a backpack export: badge ${index} ${what}.`);
  if (!isObject(value)) throw bad('is not an object');
  const id = str(value.id, 200);
  if (!id) throw bad('has no id');
  const original = value.original;
  if (!isObject(original) || (original.format !== 'json' && original.format !== 'jws')) {
    throw bad('has no original assertion');
  }
  if (typeof original.text !== 'string' || original.text.length === 0) throw bad('has an empty original');
  let image: ExportBadge['image'] = null;
  if (value.image !== undefined && value.image !== null) {
    const raw = value.image;
    if (
      !isObject(raw) ||
      (raw.contentType !== 'image/png' && raw.contentType !== 'image/svg+xml') ||
      typeof raw.data !== 'string' ||
      !BASE64.test(raw.data)
    ) {
      throw bad('has an image that is not base64 PNG or SVG');
    }
    image = { contentType: raw.contentType, bytes: Buffer.from(raw.data, 'base64') };
  }
  const normalized = isObject(value.normalized) ? value.normalized : {};
  const issuer = isObject(normalized.issuer) ? normalized.issuer : {};
  return {
    id,
    assertionId: str(value.assertionId, 4096),
    issuerId: str(issuer.id, 4096),
    specVersion: str(value.specVersion, 10),
    original: { format: original.format, text: original.text },
    image,
  };
}

function readGroup(value: unknown, index: number): ExportGroup {
  const bad = (what: string) =>
    new ExportFormatError('unrecognized', `The document is not a backpack export: group ${index} ${what}.`);
  if (!isObject(value)) throw bad('is not an object');
  const name = str(value.name, 100);
  if (!name) throw bad('has no name of 1 to 100 characters');
  const description = value.description === undefined ? '' : str(value.description, 2000);
  if (description === null) throw bad('has a description that is not text of up to 2000 characters');
  const ids = value.badgeIds;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' && id.length <= 200)) {
    throw bad('has no list of badge ids');
  }
  return { name, description, badgeIds: ids as string[] };
}

function checkHead(value: ScannedValue): void {
  if (
    value.kind === 'exportedAt' &&
    (typeof value.value !== 'string' || Number.isNaN(Date.parse(value.value)))
  ) {
    throw new ExportFormatError(
      'unrecognized',
      'The document is not a backpack export: "exportedAt" is not a date.',
    );
  }
  if (value.kind === 'account' && !isObject(value.value)) {
    throw new ExportFormatError(
      'unrecognized',
      'The document is not a backpack export: "account" is not an object.',
    );
  }
}

/** The problem a document that cannot be imported gets. */
export function formatProblem(err: ExportFormatError): Problem {
  return new Problem(err.kind === 'malformed' ? 'export_malformed' : 'export_unrecognized', err.message);
}

/** The stored original, baked into the exported image when there is one: an upload, as earners make. */
function inputOf(badge: ExportBadge): BadgeInput {
  const text: BadgeInput =
    badge.original.format === 'json'
      ? { kind: 'json', json: badge.original.text }
      : { kind: 'jws', jws: badge.original.text };
  if (!badge.image) return text;
  const version = badge.specVersion === '3.0' ? '3.0' : '2.0';
  try {
    if (badge.image.contentType === 'image/png') {
      return {
        kind: 'image',
        bytes: bakePng(new Uint8Array(badge.image.bytes), badge.original.text, version),
      };
    }
    const svg = bakeSvg(badge.image.bytes.toString('utf8'), badge.original.text, version);
    return { kind: 'image', bytes: new Uint8Array(Buffer.from(svg, 'utf8')) };
  } catch {
    // An image that cannot carry the badge: the badge alone, with the image its issuer serves.
    return text;
  }
}

export class ImportService {
  constructor(
    private readonly deps: {
      badges: BadgesService;
      groups: GroupsService;
      maxBytes: number;
      log?: FastifyBaseLogger;
    },
  ) {}

  /**
   * Writes the body to an unlinked temporary file while checking it whole: 413 beyond the
   * limit, `export_malformed` for what is not JSON, `export_unrecognized` for JSON that is not
   * an export. Nothing is stored anywhere but in that file, which is gone on any failure.
   */
  async spool(body: AsyncIterable<Buffer | string>): Promise<SpooledExport> {
    const path = join(tmpdir(), `backpack-import-${randomUUID()}`);
    const file = await open(path, 'wx+', 0o600);
    // Unlinked at once: the bytes live only as long as the handle, whatever happens to the process.
    await unlink(path);
    try {
      const scanner = new ExportScanner();
      let bytes = 0;
      for await (const piece of body) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
        bytes += chunk.length;
        if (bytes > this.deps.maxBytes) {
          throw new Problem('body_too_large', `An export may be at most ${this.deps.maxBytes} bytes.`);
        }
        this.check(scanner.push(chunk));
        await file.write(chunk);
      }
      this.check(scanner.end());
      if (scanner.groups > MAX_GROUPS_IN_EXPORT) {
        throw new ExportFormatError(
          'unrecognized',
          'The document is not a backpack export: it has too many groups.',
        );
      }
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        await file.close();
      };
      return { file, bytes, badges: scanner.badges, groups: scanner.groups, close };
    } catch (err) {
      await file.close();
      throw err instanceof ExportFormatError ? formatProblem(err) : err;
    }
  }

  private check(values: ScannedValue[]): void {
    for (const value of values) {
      if (value.kind === 'badge') readBadge(value.value, value.index);
      else if (value.kind === 'group') readGroup(value.value, value.index);
      else checkHead(value);
    }
  }

  /** Reads the spooled export again, badge by badge, into the earner's backpack; closes the file. */
  async run(earnerId: string, spooled: SpooledExport): Promise<ImportReport> {
    const report: ImportReport = {
      complete: true,
      stoppedBy: null,
      badges: {
        inExport: spooled.badges,
        imported: 0,
        alreadyHeld: 0,
        unverified: 0,
        refused: 0,
        notTried: 0,
        refusals: [],
      },
      groups: { inExport: spooled.groups, created: 0, merged: 0, refused: 0 },
    };
    // Old id -> new id: groups name badges by the ids of the backpack they were exported from.
    const ids = new Map<string, string>();
    const groups: ExportGroup[] = [];
    try {
      const scanner = new ExportScanner(DEFAULT_SCANNER_LIMITS);
      const buffer = Buffer.alloc(READ_BYTES);
      let position = 0;
      for (;;) {
        const { bytesRead } = await spooled.file.read(buffer, 0, READ_BYTES, position);
        const values = bytesRead === 0 ? scanner.end() : scanner.push(buffer.subarray(0, bytesRead));
        position += bytesRead;
        for (const value of values) {
          if (value.kind === 'group') groups.push(readGroup(value.value, value.index));
          else if (value.kind === 'badge') {
            if (report.stoppedBy) report.badges.notTried += 1;
            else await this.importBadge(earnerId, readBadge(value.value, value.index), ids, report);
          }
        }
        if (bytesRead === 0) break;
      }
    } finally {
      await spooled.close();
    }
    for (const group of groups) {
      const badgeIds = group.badgeIds.flatMap((old) => {
        const id = ids.get(old);
        return id ? [id] : [];
      });
      try {
        const { created, added } = await this.deps.groups.importGroup(earnerId, { ...group, badgeIds });
        if (created) report.groups.created += 1;
        else if (added > 0) report.groups.merged += 1;
      } catch (err) {
        if (!(err instanceof Problem) || err.code !== 'limit_reached') throw err;
        report.groups.refused += 1;
        report.stoppedBy ??= 'limit_reached';
      }
    }
    report.complete = report.stoppedBy === null;
    return report;
  }

  private async importBadge(
    earnerId: string,
    badge: ExportBadge,
    ids: Map<string, string>,
    report: ImportReport,
  ): Promise<void> {
    // A badge held already is not verified again: importing the same export twice costs little.
    if (badge.issuerId && badge.assertionId) {
      const held = await this.deps.badges.heldId(earnerId, badge.issuerId, badge.assertionId);
      if (held) {
        ids.set(badge.id, held);
        report.badges.alreadyHeld += 1;
        return;
      }
    }
    try {
      const { created, badge: stored } = await this.deps.badges.add(earnerId, inputOf(badge), 'import', {
        patient: true,
      });
      ids.set(badge.id, stored.id);
      if (!created) report.badges.alreadyHeld += 1;
      else {
        report.badges.imported += 1;
        if (stored.status === 'unverified') report.badges.unverified += 1;
      }
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      if (err.code === 'limit_reached') {
        report.stoppedBy = 'limit_reached';
        report.badges.notTried += 1;
        return;
      }
      report.badges.refused += 1;
      if (report.badges.refusals.length < LISTED_REFUSALS) {
        report.badges.refusals.push({ id: badge.id, code: err.code });
      }
      this.deps.log?.info({ importRefused: err.code }, 'an imported badge was refused');
    }
  }
}
