// Earners' reports of platforms that pushed without consent, as the operator reviews them:
// list and resolve reports, see what a platform is accused of, suspend it (its tokens stop at
// once, its consents stay for review) and reinstate it. Also what retention removes and what
// the reporter's export shows.
import type { Db } from '../../db/client.ts';
import { Problem } from '../../http/problems.ts';

const DAY_MS = 86_400_000;

export type ReportStatus = 'open' | 'resolved';
export type ReportOutcome = 'upheld' | 'dismissed';

export interface ReportView {
  id: string;
  platform: { clientId: string; name: string; suspended: boolean };
  issuerId: string;
  badgeName: string;
  comment: string;
  createdAt: Date;
  status: ReportStatus;
  resolvedAt: Date | null;
  outcome: ReportOutcome | null;
  resolution: string | null;
}

export interface PlatformView {
  clientId: string;
  name: string;
  clientUri: string;
  kind: 'issuer_platform' | 'front_end';
  createdAt: Date;
  suspended: boolean;
  suspendedAt: Date | null;
  suspensionReason: string | null;
  /** Earners' consents to this platform, kept while it is suspended. */
  consents: number;
  reports: { total: number; open: number; reporters: number };
}

export interface Page {
  limit: number;
  offset: number;
}

export interface RetentionPeriods {
  /** Days a report is kept after its resolution (or after it was made, while never resolved). */
  reportDays: number;
  /** Days a client with no consent, report or suspension is kept after registering. */
  clientDays: number;
}

const REPORT_SELECT = {
  id: true,
  issuerId: true,
  badgeName: true,
  comment: true,
  createdAt: true,
  resolvedAt: true,
  outcome: true,
  resolution: true,
  client: { select: { id: true, name: true, suspendedAt: true } },
} as const;

type ReportRow = {
  id: string;
  issuerId: string;
  badgeName: string;
  comment: string;
  createdAt: Date;
  resolvedAt: Date | null;
  outcome: string | null;
  resolution: string | null;
  client: { id: string; name: string; suspendedAt: Date | null };
};

function reportView(row: ReportRow): ReportView {
  return {
    id: row.id,
    platform: { clientId: row.client.id, name: row.client.name, suspended: row.client.suspendedAt !== null },
    issuerId: row.issuerId,
    badgeName: row.badgeName,
    comment: row.comment,
    createdAt: row.createdAt,
    status: row.resolvedAt ? 'resolved' : 'open',
    resolvedAt: row.resolvedAt,
    outcome: row.outcome === 'upheld' || row.outcome === 'dismissed' ? row.outcome : null,
    resolution: row.resolution,
  };
}

export class PlatformReports {
  constructor(
    private readonly prisma: Db,
    private readonly now: () => Date,
  ) {}

  async listReports(
    filter: { status?: ReportStatus; clientId?: string },
    page: Page,
  ): Promise<{ items: ReportView[]; total: number }> {
    const where = {
      ...(filter.status === 'open' ? { resolvedAt: null } : {}),
      ...(filter.status === 'resolved' ? { resolvedAt: { not: null } } : {}),
      ...(filter.clientId !== undefined ? { clientId: filter.clientId } : {}),
    };
    const [rows, total] = await Promise.all([
      this.prisma.connectReport.findMany({
        where,
        select: REPORT_SELECT,
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        skip: page.offset,
        take: page.limit,
      }),
      this.prisma.connectReport.count({ where }),
    ]);
    return { items: rows.map(reportView), total };
  }

  /** Records the operator's outcome once; a resolved report answers 409. */
  async resolveReport(id: string, outcome: ReportOutcome, reason: string): Promise<ReportView> {
    const { count } = await this.prisma.connectReport.updateMany({
      where: { id, resolvedAt: null },
      data: { resolvedAt: this.now(), outcome, resolution: reason },
    });
    if (count === 0) {
      const exists = await this.prisma.connectReport.count({ where: { id } });
      if (!exists) throw new Problem('not_found', 'No such report.');
      throw new Problem('conflict', 'The report is resolved already.');
    }
    const row = await this.prisma.connectReport.findUnique({ where: { id }, select: REPORT_SELECT });
    if (!row) throw new Problem('not_found', 'No such report.');
    return reportView(row);
  }

  /** Platforms that earners reported or the operator suspended, most reporters first. */
  async listPlatforms(page: Page): Promise<{ items: PlatformView[]; total: number }> {
    const reported = await this.prisma.connectReport.groupBy({ by: ['clientId', 'earnerId'] });
    const suspended = await this.prisma.connectClient.findMany({
      where: { suspendedAt: { not: null } },
      select: { id: true },
    });
    const reporters = new Map<string, number>();
    for (const row of reported) reporters.set(row.clientId, (reporters.get(row.clientId) ?? 0) + 1);
    for (const row of suspended) if (!reporters.has(row.id)) reporters.set(row.id, 0);
    const ids = [...reporters.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([id]) => id);
    const items: PlatformView[] = [];
    for (const id of ids.slice(page.offset, page.offset + page.limit)) {
      const view = await this.platform(id);
      if (view) items.push(view);
    }
    return { items, total: ids.length };
  }

  async platform(clientId: string): Promise<PlatformView | null> {
    if (clientId.length > 100) return null;
    const row = await this.prisma.connectClient.findUnique({
      where: { id: clientId },
      select: {
        id: true,
        name: true,
        clientUri: true,
        kind: true,
        createdAt: true,
        suspendedAt: true,
        suspensionReason: true,
        _count: { select: { grants: true } },
      },
    });
    if (!row) return null;
    const [total, open, reporters] = await Promise.all([
      this.prisma.connectReport.count({ where: { clientId } }),
      this.prisma.connectReport.count({ where: { clientId, resolvedAt: null } }),
      this.prisma.connectReport.groupBy({ by: ['earnerId'], where: { clientId } }),
    ]);
    return {
      clientId: row.id,
      name: row.name,
      clientUri: row.clientUri,
      kind: row.kind === 'front_end' ? 'front_end' : 'issuer_platform',
      createdAt: row.createdAt,
      suspended: row.suspendedAt !== null,
      suspendedAt: row.suspendedAt,
      suspensionReason: row.suspensionReason,
      consents: row._count.grants,
      reports: { total, open, reporters: reporters.length },
    };
  }

  private async mustFind(clientId: string): Promise<PlatformView> {
    const view = await this.platform(clientId);
    if (!view) throw new Problem('not_found', 'No such client.');
    return view;
  }

  /** Its tokens stop at once (checked on every use); consents and tokens stay for review. */
  async suspend(clientId: string, reason: string): Promise<PlatformView> {
    await this.mustFind(clientId);
    const { count } = await this.prisma.connectClient.updateMany({
      where: { id: clientId, suspendedAt: null },
      data: { suspendedAt: this.now(), suspensionReason: reason },
    });
    if (count === 0) throw new Problem('conflict', 'The client is suspended already.');
    return this.mustFind(clientId);
  }

  async reinstate(clientId: string): Promise<PlatformView> {
    await this.mustFind(clientId);
    const { count } = await this.prisma.connectClient.updateMany({
      where: { id: clientId, suspendedAt: { not: null } },
      data: { suspendedAt: null, suspensionReason: null },
    });
    if (count === 0) throw new Problem('conflict', 'The client is not suspended.');
    return this.mustFind(clientId);
  }

  /** The reporter's own reports, for the account export. */
  async exportSection(earnerId: string): Promise<Record<string, unknown>[]> {
    const rows = await this.prisma.connectReport.findMany({
      where: { earnerId },
      select: REPORT_SELECT,
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map((row) => {
      const view = reportView(row);
      return {
        id: view.id,
        clientId: view.platform.clientId,
        platformName: view.platform.name,
        issuerId: view.issuerId,
        badgeName: view.badgeName,
        comment: view.comment,
        createdAt: view.createdAt.toISOString(),
        status: view.status,
        resolvedAt: view.resolvedAt?.toISOString() ?? null,
        outcome: view.outcome,
        resolution: view.resolution,
      };
    });
  }

  /**
   * Reports past their period go; so do clients that hold nothing any more (no consent, no
   * report, not suspended) once registered longer than theirs. Returns what was removed.
   */
  async purge(now: Date, periods: RetentionPeriods): Promise<{ reports: number; clients: number }> {
    const reportCutoff = new Date(now.getTime() - periods.reportDays * DAY_MS);
    const reports = await this.prisma.connectReport.deleteMany({
      where: {
        OR: [{ resolvedAt: { lte: reportCutoff } }, { resolvedAt: null, createdAt: { lte: reportCutoff } }],
      },
    });
    const clientCutoff = new Date(now.getTime() - periods.clientDays * DAY_MS);
    const clients = await this.prisma.connectClient.deleteMany({
      where: {
        createdAt: { lte: clientCutoff },
        suspendedAt: null,
        grants: { none: {} },
        reports: { none: {} },
        consentRequests: { none: {} },
      },
    });
    return { reports: reports.count, clients: clients.count };
  }
}
