// Issuer platforms push badges with the earner's consent: an OAuth 2.0 authorization server
// (registration, consent page, code + PKCE, rotating tokens, revocation), the Badge Connect
// 2.1 and Open Badges 3.0 APIs on its tokens, and the original Backpack Connect routes.
import formbody from '@fastify/formbody';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { RawReader } from '../../db/raw.ts';
import type { Principal } from '../../http/auth.ts';
import type { ContractScope } from '../../http/contract.ts';
import type { OperationHandlers } from '../../http/operations.ts';
import { Problem } from '../../http/problems.ts';
import type { Mailer } from '../../mail/index.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { BadgesService, PushedBadges } from '../badges/index.ts';
import { backpackConnectHandlers } from './backpack-connect-routes.ts';
import { badgeConnectHandlers } from './badge-connect-routes.ts';
import type { IssuerRoutesDeps } from './issuer-shared.ts';
import { ACCESS_PREFIX, type AccessGrant, OAuthServer } from './oauth.ts';
import { oauthHandlers } from './oauth-routes.ts';
import { ob3Handlers } from './ob3-routes.ts';
import { PlatformReports } from './reports.ts';
import { heldBadgeNotice } from './review-mail.ts';
import { reviewHandlers } from './review-routes.ts';

export type { PlatformView, ReportOutcome, ReportStatus, ReportView } from './reports.ts';
export { PlatformReports } from './reports.ts';
export { SCOPES, SUPPORTED_SCOPES } from './scopes.ts';

export interface ConnectDeps {
  prisma: Db;
  /** Prepared reads for the token lookup every issuer API call makes. */
  raw?: RawReader;
  config: Config;
  now: () => Date;
  session: (request: FastifyRequest) => Promise<Principal | null>;
  accounts: AccountsService;
  badges: BadgesService;
  pushed: PushedBadges;
  /** Where the earner hears of a pushed badge held for review. */
  mailer: Mailer;
  log?: FastifyBaseLogger;
}

/** The name the service goes by towards issuers, and which no client may take. */
const SERVICE_NAME = 'Badge Backpack';

/** Operations that take forms, registered in a scope of their own with the form parser. */
const FORM_OPERATIONS = [
  'getAuthorizationPage',
  'decideAuthorization',
  'requestOAuthToken',
  'revokeOAuthToken',
];

export interface ConnectModule {
  oauth: OAuthServer;
  /** Earners' reports of platforms and the operator's suspensions, for the operator's routes. */
  reports: PlatformReports;
  handlers: OperationHandlers;
  scopes: ContractScope[];
  /** The principal for an OAuth access token (an issuer platform's or a front end's), or null. */
  resolveBearer(secret: string): Promise<Principal | null>;
  /** The grant behind the request's token, for handlers that must know the platform. */
  grantOf(request: FastifyRequest): AccessGrant;
  /**
   * Keeps platform tokens to the issuer-facing routes and front-end tokens off them (a
   * fastify-plugin: register at the root).
   */
  guard: (app: FastifyInstance) => Promise<void>;
  exportSection(earnerId: string): Promise<Record<string, unknown>[]>;
  /** Whether browsers at this origin may call the API cross-site (a front end's origin). */
  isFrontEndOrigin(origin: string): Promise<boolean>;
  /** Purges expired tokens, consent requests and old codes. */
  retentionJob: { name: string; everyMs: number; run: (now: Date) => Promise<void> };
}

export function createConnect(deps: ConnectDeps): ConnectModule {
  const { prisma, config, now } = deps;
  const oauth = new OAuthServer(prisma, now, {
    accessTtlMs: config.connectAccessTokenTtlSeconds * 1000,
    refreshTtlMs: config.connectRefreshTokenTtlDays * 86_400_000,
    frontEndAccessTtlMs: config.frontEndAccessTokenTtlSeconds * 1000,
    frontEndRefreshTtlMs: config.frontEndRefreshTokenTtlHours * 3_600_000,
    registrationsPerNetworkPerHour: config.clientRegistrationsPerNetworkPerHour,
    serviceName: SERVICE_NAME,
    ...(deps.raw ? { raw: deps.raw } : {}),
  });
  const reports = new PlatformReports(prisma, now);
  const grants = new WeakMap<Principal, AccessGrant>();
  // A report is about the platform and outlives the reporter's account, but what the earner
  // wrote and the badge they named go with the account.
  deps.accounts.addDeletionStep('connect-reports', async (tx, earnerId) => {
    await tx.connectReport.updateMany({ where: { earnerId }, data: { comment: '', badgeName: '' } });
  });

  const resolveBearer = async (secret: string): Promise<Principal | null> => {
    let token = secret;
    // Backpack Connect clients send the token base64-encoded (the original API asked for it).
    if (!token.startsWith(ACCESS_PREFIX) && /^[A-Za-z0-9+/]+={0,2}$/.test(token) && token.length <= 140) {
      token = Buffer.from(token, 'base64').toString('utf8');
    }
    const grant = await oauth.resolveAccess(token);
    if (!grant) return null;
    const principal: Principal = {
      earnerId: grant.earnerId,
      via: 'token',
      credentialId: grant.tokenId,
      scopes: new Set(grant.scopes),
      authenticatedAt: null,
    };
    grants.set(principal, grant);
    return principal;
  };

  const guard = fp(
    async (app: FastifyInstance) => {
      app.addHook('onRequest', async (request) => {
        const principal = request.principal;
        const grant = principal ? grants.get(principal) : undefined;
        if (!grant) return;
        // Suspended by the operator: every route says so at once; the consent stays for review.
        if (grant.suspended) {
          throw new Problem(
            'client_suspended',
            'The operator has suspended this client; its tokens do not work.',
          );
        }
        const operationId = request.routeOptions.config.operation?.operationId;
        const issuerRoute = operationId !== undefined && issuerOperations.has(operationId);
        if (grant.clientKind === 'issuer_platform' && !issuerRoute) {
          throw new Problem('insufficient_scope', 'An issuer platform token works only on the issuer APIs.');
        }
        // A front end acts as the earner on /v1/*, never as an issuer platform.
        if (grant.clientKind === 'front_end' && issuerRoute) {
          throw new Problem('insufficient_scope', "A front end's token does not work on the issuer APIs.");
        }
      });
    },
    { name: 'connect-guard', dependencies: ['auth'] },
  );

  const grantOf = (request: FastifyRequest): AccessGrant => {
    const grant = request.principal ? grants.get(request.principal) : undefined;
    if (grant?.clientKind !== 'issuer_platform') {
      throw new Problem('forbidden', 'This operation needs an issuer platform token.');
    }
    return grant;
  };

  const issuer: IssuerRoutesDeps = {
    publicUrl: config.publicUrl,
    service: {
      name: SERVICE_NAME,
      image: new URL('/logo.svg', config.publicUrl).toString(),
      privacyPolicyUrl: (config.privacyPolicyUrl ?? new URL('/privacy', config.publicUrl)).toString(),
      termsOfServiceUrl: (config.termsOfServiceUrl ?? new URL('/terms', config.publicUrl)).toString(),
    },
    accounts: deps.accounts,
    badges: deps.badges,
    pushed: deps.pushed,
    grantOf,
    notifyHeld: heldBadgeNotice({
      mailer: deps.mailer,
      accounts: deps.accounts,
      oauth,
      ...(deps.log ? { log: deps.log } : {}),
    }),
  };
  // The issuer APIs (Badge Connect, Open Badges 3.0, Backpack Connect): the only operations an
  // issuer platform's token may call, and the ones a front end's token may not.
  const issuerApis: OperationHandlers = {
    ...badgeConnectHandlers(issuer),
    ...ob3Handlers(issuer),
    ...backpackConnectHandlers(issuer),
  };
  const issuerOperations = new Set(Object.keys(issuerApis));
  const handlers: OperationHandlers = {
    ...oauthHandlers({
      oauth,
      publicUrl: config.publicUrl,
      session: deps.session,
    }),
    ...reviewHandlers({ pushed: deps.pushed, oauth }),
    ...issuerApis,
  };

  return {
    oauth,
    reports,
    handlers,
    scopes: [
      {
        operationIds: FORM_OPERATIONS,
        setup: async (scope) => {
          // Forms, and nothing else, on these routes: JSON posted to the token endpoint is refused.
          scope.removeAllContentTypeParsers();
          await scope.register(formbody, { bodyLimit: 16 * 1024 });
        },
      },
      {
        operationIds: ['upsertOb3Credential'],
        setup: async (scope) => {
          // A VC-JWT arrives as text/plain. Only bearer tokens reach this route, never the
          // session cookie, so a cross-site "simple" request cannot act through it.
          scope.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
            done(null, body);
          });
        },
      },
    ],
    resolveBearer,
    grantOf,
    guard,
    isFrontEndOrigin: (origin) => oauth.isFrontEndOrigin(origin),
    retentionJob: {
      name: 'connect-retention',
      everyMs: 3_600_000,
      run: async (at) => {
        await oauth.purgeExpired(at);
        await reports.purge(at, {
          reportDays: config.reportRetentionDays,
          clientDays: config.clientRetentionDays,
        });
      },
    },
    async exportSection(earnerId) {
      const rows = await oauth.listGrants(earnerId);
      return rows.map((g) => ({
        clientId: g.clientId,
        name: g.client.name,
        clientUri: g.client.clientUri,
        scopes: g.scope.split(' ').filter(Boolean),
        grantedAt: g.createdAt.toISOString(),
        lastUsedAt: g.lastUsedAt?.toISOString() ?? null,
      }));
    },
  };
}
