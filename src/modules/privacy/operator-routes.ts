// The operator's review of platforms: earners' push reports (list, resolve), the platforms they
// accuse (suspend, reinstate), and the audit of every operator action. Each action is recorded
// through the accounts service, which owns the audit.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { components } from '../../generated/api.ts';
import { principalOf } from '../../http/auth.ts';
import type { OperationHandlers } from '../../http/contract.ts';
import { sendPageHeaders } from '../../http/paging.ts';
import { Problem } from '../../http/problems.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { PlatformReports, PlatformView, ReportStatus, ReportView } from '../connect/index.ts';
import type { Notices, NoticeView } from './notices.ts';

type Schemas = components['schemas'];
type Page = { limit: number; offset: number };

function operatorOnly(request: FastifyRequest): void {
  if (!request.operator)
    throw new Problem('unauthenticated', 'This operation needs the operator credential.');
}

function reportJson(view: ReportView): Schemas['OperatorReport'] {
  return {
    ...view,
    createdAt: view.createdAt.toISOString(),
    resolvedAt: view.resolvedAt?.toISOString() ?? null,
  };
}

function platformJson(view: PlatformView): Schemas['OperatorPlatform'] {
  return {
    ...view,
    createdAt: view.createdAt.toISOString(),
    suspendedAt: view.suspendedAt?.toISOString() ?? null,
  };
}

function noticeJson(view: NoticeView): Schemas['OperatorNotice'] {
  return { ...view, createdAt: view.createdAt.toISOString() };
}

export function operatorHandlers(deps: {
  accounts: AccountsService;
  reports: PlatformReports;
  notices: Notices;
}): OperationHandlers {
  const { accounts, reports, notices } = deps;
  const record = (action: string, reason: string, subject: string) =>
    accounts.recordOperatorAction(null, action, reason, undefined, subject);

  return {
    listOperatorReports: async (request: FastifyRequest, reply: FastifyReply) => {
      operatorOnly(request);
      const query = request.query as Page & { status?: ReportStatus; clientId?: string };
      const { items, total } = await reports.listReports(query, query);
      sendPageHeaders(reply, '/v1/operator/reports', query, total, {
        status: query.status,
        clientId: query.clientId,
      });
      return { items: items.map(reportJson) };
    },

    resolveOperatorReport: async (request: FastifyRequest) => {
      operatorOnly(request);
      const { reportId } = request.params as { reportId: string };
      const body = request.body as Schemas['ReportResolution'];
      const view = await reports.resolveReport(reportId, body.outcome, body.reason);
      await record('resolve_report', `${body.outcome}: ${body.reason}`, `connect_report:${reportId}`);
      request.log.info(
        { operatorAction: 'resolve_report', outcome: body.outcome },
        'operator resolved a report',
      );
      return reportJson(view);
    },

    listOperatorPlatforms: async (request: FastifyRequest, reply: FastifyReply) => {
      operatorOnly(request);
      const page = request.query as Page;
      const { items, total } = await reports.listPlatforms(page);
      sendPageHeaders(reply, '/v1/operator/platforms', page, total);
      return { items: items.map(platformJson) };
    },

    getOperatorPlatform: async (request: FastifyRequest) => {
      operatorOnly(request);
      const { clientId } = request.params as { clientId: string };
      const view = await reports.platform(clientId);
      if (!view) throw new Problem('not_found', 'No such client.');
      return platformJson(view);
    },

    suspendOperatorPlatform: async (request: FastifyRequest) => {
      operatorOnly(request);
      const { clientId } = request.params as { clientId: string };
      const { reason } = request.body as Schemas['OperatorReason'];
      const view = await reports.suspend(clientId, reason);
      await record('suspend_client', reason, `connect_client:${clientId}`);
      request.log.info({ operatorAction: 'suspend_client' }, 'operator suspended a client');
      return platformJson(view);
    },

    reinstateOperatorPlatform: async (request: FastifyRequest) => {
      operatorOnly(request);
      const { clientId } = request.params as { clientId: string };
      const { reason } = request.body as Schemas['OperatorReason'];
      const view = await reports.reinstate(clientId);
      await record('reinstate_client', reason, `connect_client:${clientId}`);
      request.log.info({ operatorAction: 'reinstate_client' }, 'operator reinstated a client');
      return platformJson(view);
    },

    createOperatorNotice: async (request: FastifyRequest, reply: FastifyReply) => {
      operatorOnly(request);
      const body = request.body as Schemas['NoticeCreate'];
      const view = await notices.create(body);
      await record('send_notice', `${body.kind}: ${body.subject}`, `notice:${view.id}`);
      request.log.info(
        { operatorAction: 'send_notice', kind: body.kind, recipients: view.deliveries.queued },
        'operator queued a notice',
      );
      return reply.code(202).header('location', `/v1/operator/notices/${view.id}`).send(noticeJson(view));
    },

    getOperatorNotice: async (request: FastifyRequest) => {
      operatorOnly(request);
      const { noticeId } = request.params as { noticeId: string };
      const view = await notices.get(noticeId);
      if (!view) throw new Problem('not_found', 'No such notice.');
      return noticeJson(view);
    },

    listNotices: async (request: FastifyRequest, reply: FastifyReply) => {
      const page = request.query as Page;
      const { items, total } = await notices.forEarner(principalOf(request).earnerId, page);
      sendPageHeaders(reply, '/v1/notices', page, total);
      return {
        items: items.map((n) => ({
          ...n,
          createdAt: n.createdAt.toISOString(),
          deliveredAt: n.deliveredAt?.toISOString() ?? null,
        })),
      };
    },

    listOperatorActions: async (request: FastifyRequest, reply: FastifyReply) => {
      operatorOnly(request);
      const page = request.query as Page;
      const { items, total } = await accounts.listOperatorActions(page);
      sendPageHeaders(reply, '/v1/operator/actions', page, total);
      return { items: items.map((a) => ({ ...a, createdAt: a.createdAt.toISOString() })) };
    },
  };
}
