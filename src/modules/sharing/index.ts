// Sharing: share links that publish a group or one badge, the public pages behind them (HTML
// and JSON, with images, an address check and oEmbed), the displayer API by public handle,
// and the de-identified statistics. The earner is shown only as a salted hash.
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../db/client.ts';
import type { RawReader } from '../../db/raw.ts';
import { RenderedCache } from '../../db/revisions.ts';
import type { ContractScope } from '../../http/contract.ts';
import type { OperationHandlers } from '../../http/operations.ts';
import type { AccountsService, PublicHandles } from '../accounts/index.ts';
import type { SharedBadgeViews } from '../badges/index.ts';
import type { GroupsService } from '../groups/index.ts';
import { sharingHandlers } from './routes.ts';
import { SharingService } from './service.ts';
import { Statistics } from './statistics.ts';

export { hashedIdentity, SharingService } from './service.ts';

export interface SharingDeps {
  prisma: Db;
  groups: GroupsService;
  badges: SharedBadgeViews;
  accounts: AccountsService;
  handles: PublicHandles;
  publicUrl: URL;
  now: () => Date;
  /** Prepared reads and a cache budget for rendered public pages (none: no caching). */
  pageCache?: { raw: RawReader; maxBytes: number };
  /** Share links one account may hold at once. */
  maxShareLinks?: number;
  /** The database's dialect, for the statistics' aggregate query. */
  provider: 'sqlite' | 'postgres';
}

export interface SharingModule {
  service: SharingService;
  statistics: Statistics;
  handlers: OperationHandlers;
  scope: ContractScope;
}

export function createSharing(deps: SharingDeps): SharingModule {
  const service = new SharingService(
    deps.prisma,
    deps.groups,
    deps.badges,
    deps.accounts,
    deps.publicUrl,
    deps.now,
    deps.maxShareLinks,
  );
  const statistics = new Statistics(deps.badges, deps.provider, deps.now);
  deps.groups.useShareLookup((earnerId, groupIds) => service.sharedGroupIds(earnerId, groupIds));
  return {
    service,
    statistics,
    handlers: sharingHandlers({
      sharing: service,
      statistics,
      handles: deps.handles,
      publicUrl: deps.publicUrl,
      ...(deps.pageCache
        ? {
            pages: {
              raw: deps.pageCache.raw,
              now: deps.now,
              cache: new RenderedCache(deps.pageCache.maxBytes, 5 * 60_000),
            },
          }
        : {}),
    }),
    scope: formScope,
  };
}

const FORM_BODY_LIMIT = 4096;

/**
 * The shared page's address-check form posts `application/x-www-form-urlencoded`. That body
 * is parsed in that operation's own scope only: everywhere else a form body stays a 415, so
 * that a cross-site form can reach no other route.
 */
export const formScope: ContractScope = {
  operationIds: ['checkSharedRecipient'],
  setup: async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
      (
        _request: FastifyRequest,
        body: string | Buffer,
        done: (err: Error | null, body?: unknown) => void,
      ) => {
        const fields: Record<string, string> = {};
        for (const [name, value] of new URLSearchParams(body.toString())) fields[name] = value;
        done(null, fields);
      },
    );
  },
};
