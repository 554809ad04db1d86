// Badges: the earner's backpack items. Receives badges in every form (URL, signed token, JSON,
// baked image) through the Open Badges engine, keeps one private item per assertion, and lists,
// reads, re-verifies, bakes out and deletes them. Other modules reach items only through here.
import multipart from '@fastify/multipart';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { Erasure } from '../../db/erasure.ts';
import type { RawReader } from '../../db/raw.ts';
import type { RawWriter } from '../../db/raw-writes.ts';
import { RenderedCache } from '../../db/revisions.ts';
import type { Provider } from '../../db/url.ts';
import type { Principal } from '../../http/auth.ts';
import type { ContractScope, OperationHandlers } from '../../http/contract.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { Fetcher } from '../openbadges/index.ts';
import { VerificationGate } from './gate.ts';
import { badgesHandlers } from './routes.ts';
import { BadgesService } from './service.ts';
import { SharedBadgeViews } from './shared-views.ts';

export { type OriginalBadge, type PushedBadge, PushedBadges } from './pushed.ts';
export {
  type BadgeDetailView,
  type BadgeSummaryView,
  BadgesService,
  type DetailSection,
  type ExportedBadge,
  type GroupFilter,
  type PushOptions,
} from './service.ts';
export * from './shared-views.ts';

export interface BadgesDeps {
  prisma: Db;
  provider: Provider;
  /** Prepared reads: is a cached list page still current, is a badge held already. */
  raw: RawReader;
  /** Hand-written writes storing a new badge. */
  writer: RawWriter;
  config: Config;
  accounts: AccountsService;
  fetcher: Fetcher;
  now: () => Date;
  log?: FastifyBaseLogger;
  /** The earner's holder DIDs, which OB 3.0 credentials may name as their subject. */
  holderDids?: (earnerId: string) => Promise<string[]>;
  /** Erases deleted badges' bytes from the database files. */
  erasure?: Erasure;
  /** Deleting every badge needs the confirmation deleting the account needs; throws without it. */
  confirmDeletion: (principal: Principal, confirmationCode: string | undefined) => Promise<void>;
}

export interface BadgesModule {
  service: BadgesService;
  views: SharedBadgeViews;
  handlers: OperationHandlers;
  /** The operations taking uploads get the multipart parser in a scope of their own. */
  scope: ContractScope;
  /** Lets another module add a section to a badge's detail (groups: the groups holding it). */
  addDetailSection: BadgesService['addDetailSection'];
  /** Lets the groups module resolve `groupId` in the list filter. */
  setGroupFilter: BadgesService['setGroupFilter'];
  /** Lets the sharing module end, with every badge, the share links that would show nothing. */
  onRemoveAll: BadgesService['onRemoveAll'];
  /** The `badges` section of the account export: each badge with its original and its image. */
  exportSection: (earnerId: string) => AsyncIterable<Record<string, unknown>>;
  /** Re-verifies the badges verified longest ago, a bounded batch per run, for the scheduler. */
  reverifyJob: { name: string; everyMs: number; run: (now: Date) => Promise<void> };
}

/** One run re-checks this many badges; every 10 minutes that is 14,400 a day per service. */
const REVERIFY_BATCH = 100;
const REVERIFY_EVERY_MS = 10 * 60_000;

export function createBadges({
  prisma,
  provider,
  raw,
  writer,
  config,
  accounts,
  fetcher,
  now,
  log,
  holderDids,
  erasure,
  confirmDeletion,
}: BadgesDeps): BadgesModule {
  // Issuer keys are reused through the app's HTTP cache, for as long as their servers allow.
  const gate = new VerificationGate({
    concurrency: config.verifyConcurrency,
    queueLength: config.verifyQueueLength,
    maxWaitMs: config.verifyQueueWaitMs,
  });
  const service = new BadgesService({
    prisma,
    provider,
    raw,
    writer,
    accounts,
    fetcher,
    now,
    didWebHttpHosts: config.didWebHttpHosts,
    gate,
    limits: { timeBudgetMs: config.verifyTimeBudgetMs },
    uploadBytesPerHour: config.uploadBytesPerAccountPerHour,
    ...(log ? { log } : {}),
    ...(holderDids ? { holderDids } : {}),
    ...(erasure ? { erasure } : {}),
  });
  const uploadMaxBytes = config.badgeUploadMaxBytes;
  return {
    service,
    views: new SharedBadgeViews(prisma, now),
    handlers: badgesHandlers(service, uploadMaxBytes, confirmDeletion, {
      raw,
      now,
      cache: new RenderedCache(config.renderCacheMaxBytes, 5 * 60_000),
    }),
    scope: {
      operationIds: ['addBadge', 'uploadBadge'],
      setup: async (scope) => {
        await scope.register(multipart, {
          limits: { files: 1, fields: 1, parts: 2, fileSize: uploadMaxBytes, headerPairs: 50 },
        });
      },
    },
    addDetailSection: (name, section, fresh) => service.addDetailSection(name, section, fresh),
    setGroupFilter: (filter) => service.setGroupFilter(filter),
    onRemoveAll: (step) => service.onRemoveAll(step),
    exportSection: (earnerId) => service.exportAll(earnerId),
    reverifyJob: {
      name: 'badges-reverify',
      everyMs: REVERIFY_EVERY_MS,
      run: async (at) => {
        await service.reverifyDue(at, REVERIFY_BATCH);
      },
    },
  };
}
