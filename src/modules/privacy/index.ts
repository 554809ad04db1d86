// Privacy: what the operator does about earners' reports and platforms, each action recorded;
// the operator's notices to earners (queued, mailed at a bounded rate, kept per earner); and,
// through the other modules' services, the retention of what those actions leave.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.ts';
import type { OperationHandlers } from '../../http/contract.ts';
import type { Job } from '../../jobs/scheduler.ts';
import type { Mailer } from '../../mail/index.ts';
import type { AccountsService, ExportSection } from '../accounts/index.ts';
import type { PlatformReports } from '../connect/index.ts';
import { Notices } from './notices.ts';
import { operatorHandlers } from './operator-routes.ts';

export interface PrivacyDeps {
  prisma: Db;
  accounts: AccountsService;
  reports: PlatformReports;
  mailer: Mailer;
  now: () => Date;
  log: FastifyBaseLogger;
  noticeMailsPerMinute: number;
}

export interface PrivacyModule {
  handlers: OperationHandlers;
  notices: Notices;
  /** Mails queued notices, at most `noticeMailsPerMinute` a minute. */
  noticesJob: Job;
  /** The notices addressed to the earner, with their delivery, for the account export. */
  exportSection: ExportSection;
}

export function createPrivacy(deps: PrivacyDeps): PrivacyModule {
  const notices = new Notices(deps.prisma, deps.accounts, deps.mailer, deps.now, deps.log, {
    mailsPerMinute: deps.noticeMailsPerMinute,
  });
  return {
    handlers: operatorHandlers({ accounts: deps.accounts, reports: deps.reports, notices }),
    notices,
    noticesJob: notices.job,
    exportSection: (earnerId) => notices.exportSection(earnerId),
  };
}
