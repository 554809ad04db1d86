// buildApp(options) -> a Fastify instance with every plugin and module wired, and no side
// effects beyond opening the database. main.ts listens; tests build the app the same way.
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { type Database, openDatabase } from './db/client.ts';
import auth from './http/auth.ts';
import { contractRoutes, loadContract, type OperationHandlers, servedContract } from './http/contract.ts';
import errors, { frameworkErrors } from './http/errors.ts';
import jsonBody from './http/json-body.ts';
import { genReqId, loggerOptions } from './http/logging.ts';
import security from './http/security.ts';
import textGuard from './http/text-guard.ts';
import { Scheduler } from './jobs/scheduler.ts';
import { type ConsoleStream, createMailService, type Mailer, type MailService } from './mail/index.ts';
import { type AccountsModule, createAccounts, PublicHandles } from './modules/accounts/index.ts';
import { type BadgesModule, createBadges, PushedBadges } from './modules/badges/index.ts';
import { type ConnectModule, createConnect } from './modules/connect/index.ts';
import { createGroups, type GroupsModule } from './modules/groups/index.ts';
import { createImports } from './modules/imports/index.ts';
import { createHttpCache, createSafeFetcher, type Fetcher } from './modules/openbadges/index.ts';
import { operationsHandlers } from './modules/operations/index.ts';
import { createPrivacy, type PrivacyModule } from './modules/privacy/index.ts';
import { createSharing, type SharingModule } from './modules/sharing/index.ts';
import { createWallet, type WalletModule } from './modules/wallet/index.ts';

export interface AppOptions {
  config: Config;
  /** An open database; when absent the app opens `config.databaseUrl` and closes it on close. */
  db?: Database;
  /** Logger override for tests (`false` silences); production uses `config.logLevel`. */
  logger?: boolean;
  /** Where log lines go instead of stdout; tests read them to check what is never logged. */
  logStream?: { write(line: string): void };
  /** The clock; tests pass a fake one. */
  now?: () => Date;
  /** Outgoing mail; defaults to SMTP when `SMTP_URL` is set, else the in-memory outbox. */
  mailer?: Mailer;
  /** Where the outbox shows each message in full (main.ts: standard error); tests leave it out. */
  mailConsole?: ConsoleStream;
  /** Outbound HTTP for badges, issuers and keys; defaults to the SSRF-safe fetcher from config. */
  fetcher?: Fetcher;
}

declare module 'fastify' {
  interface FastifyInstance {
    db: Database;
    /** Every route as registered, so that a test can hold them against the contract. */
    registeredRoutes: { method: string; url: string }[];
    /** The domain services, for jobs and for tests that need to set up state. */
    services: Services;
  }
}

export interface Services {
  accounts: AccountsModule;
  mail: MailService;
  /** Background jobs; main.ts starts it, tests call `runOnce`. */
  scheduler: Scheduler;
  badges: BadgesModule;
  connect: ConnectModule;
  groups: GroupsModule;
  sharing: SharingModule;
  wallet: WalletModule;
  privacy: PrivacyModule;
}

/**
 * A hop count trusts that many addresses from the right of `X-Forwarded-For` (the socket's peer
 * first). Fastify treats a bare number as trusting nothing, so it becomes a function here.
 */
function proxyTrust(
  setting: Config['trustProxy'],
): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return setting;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            ...(loggerOptions(config.logLevel) as object),
            ...(options.logStream ? { stream: options.logStream } : {}),
          },
    genReqId,
    requestIdHeader: false,
    trustProxy: proxyTrust(config.trustProxy),
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // Node checks request deadlines every 30 s by default; a slow body should not get that long.
    http: {
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.max(100, Math.min(1000, config.requestTimeoutMs / 4)),
    },
    bodyLimit: config.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    frameworkErrors,
  });

  const registeredRoutes: { method: string; url: string }[] = [];
  app.decorate('registeredRoutes', registeredRoutes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registeredRoutes.push({ method, url: route.url });
  });

  const db =
    options.db ??
    (await openDatabase(config.databaseUrl, {
      onErasureError: (err) =>
        app.log.error({ err }, 'deleted rows could not be erased from the database files'),
    }));
  app.decorate('db', db);
  if (!options.db) app.addHook('onClose', () => db.close());

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // JSON only: a text/plain body is how cross-site "simple" requests would get in.
  app.removeContentTypeParser(['text/plain']);
  await app.register(jsonBody);

  await app.register(errors);
  // Resolved per request, once the connect module below exists.
  await app.register(security, { ...config, frontEndOrigin: (origin) => connect.isFrontEndOrigin(origin) });
  await app.register(textGuard);
  await app.register(cookie);

  const now = options.now ?? (() => new Date());
  const mail = createMailService(config, app.log, options.mailer, options.mailConsole);
  app.addHook('onClose', () => mail.mailer.close());
  const scheduler = new Scheduler(db.prisma, now, app.log);
  // preClose runs before any onClose, so running jobs finish before the database closes.
  app.addHook('preClose', () => scheduler.stop());
  const accounts = createAccounts({
    prisma: db.prisma,
    raw: db.raw,
    config,
    now,
    mailer: mail.mailer,
    log: app.log,
    erasure: db.erasure,
  });
  scheduler.register(accounts.retentionJob);
  const wallet = createWallet({
    prisma: db.prisma,
    holderKeyEncryptionKey: config.holderKeyEncryptionKey,
    now,
    log: app.log,
    // Resolved per request: the badges and sharing modules are built below.
    badgeDetails: (earnerId, ids) => badges.views.publicDetails(earnerId, ids),
    shareLinkBadgeIds: (earnerId, shareLinkId) => sharing.service.badgeIdsOf(earnerId, shareLinkId),
  });
  const outbound =
    options.fetcher ??
    createSafeFetcher({
      allowPrivateHosts: config.fetchAllowPrivateHosts,
      timeoutMs: config.fetchTimeoutMs,
      maxBytes: config.fetchMaxBytes,
      maxRedirects: 5,
    });
  // One cache for ingestion and re-verification alike: an issuer's documents are fetched once.
  const fetcher =
    config.fetchCacheMaxBytes > 0
      ? createHttpCache(outbound, {
          maxBytes: config.fetchCacheMaxBytes,
          defaultTtlMs: config.fetchCacheDefaultTtlMs,
          maxTtlMs: config.fetchCacheMaxTtlMs,
          now: () => now().getTime(),
        }).fetcher
      : outbound;
  const badges = createBadges({
    prisma: db.prisma,
    provider: db.provider,
    raw: db.raw,
    writer: db.writer,
    config,
    accounts: accounts.service,
    fetcher,
    now,
    log: app.log,
    holderDids: (earnerId) => wallet.holderKeys.dids(earnerId),
    erasure: db.erasure,
    confirmDeletion: accounts.confirmBadgeDeletion,
  });
  scheduler.register(badges.reverifyJob);
  accounts.addExportSection('badges', badges.exportSection);
  const groups = createGroups({
    prisma: db.prisma,
    badges: badges.views,
    now,
    maxGroups: config.maxGroupsPerAccount,
  });
  badges.setGroupFilter((earnerId, groupId) => groups.service.badgeIds(earnerId, groupId));
  // A badge just stored is in no group yet.
  badges.addDetailSection('groups', (earnerId, itemId) => groups.service.groupsOfBadge(earnerId, itemId), []);
  const sharing = createSharing({
    maxShareLinks: config.maxShareLinksPerAccount,
    prisma: db.prisma,
    groups: groups.service,
    badges: badges.views,
    accounts: accounts.service,
    handles: new PublicHandles(db.prisma),
    publicUrl: config.publicUrl,
    now,
    pageCache: { raw: db.raw, maxBytes: config.renderCacheMaxBytes },
    provider: db.provider,
  });
  accounts.addExportSection('groups', (earnerId) => groups.service.exportSection(earnerId));
  accounts.addExportSection('shareLinks', (earnerId) => sharing.service.exportSection(earnerId));
  badges.onRemoveAll((earnerId, tx) => sharing.service.endAll(earnerId, tx));
  const connect = createConnect({
    prisma: db.prisma,
    raw: db.raw,
    config,
    now,
    accounts: accounts.service,
    badges: badges.service,
    pushed: new PushedBadges(db.prisma, now, db.erasure),
    mailer: mail.mailer,
    log: app.log,
    session: async (request) => {
      const secret = request.cookies[accounts.cookieName];
      return secret ? accounts.resolvers.session(secret) : null;
    },
  });
  accounts.addExportSection('connectedIssuers', connect.exportSection);
  accounts.addExportSection('reports', (earnerId) => connect.reports.exportSection(earnerId));
  accounts.addExportSection('holderDids', wallet.exportSection);
  const imports = createImports({
    badges: badges.service,
    groups: groups.service,
    maxBytes: config.importMaxBytes,
    connectionTimeoutMs: config.connectionTimeoutMs,
    log: app.log,
  });
  scheduler.register(connect.retentionJob);
  const privacy = createPrivacy({
    prisma: db.prisma,
    accounts: accounts.service,
    reports: connect.reports,
    mailer: mail.mailer,
    now,
    log: app.log,
    noticeMailsPerMinute: config.noticeMailsPerMinute,
  });
  scheduler.register(privacy.noticesJob);
  accounts.addExportSection('notices', privacy.exportSection);
  const services: Services = { accounts, mail, scheduler, badges, connect, groups, sharing, wallet, privacy };
  app.decorate('services', services);

  await app.register(auth, {
    cookieName: accounts.cookieName,
    trustedOrigins: [config.publicUrl.origin, ...config.corsOrigins],
    freshSessionMs: config.freshSignInMinutes * 60_000,
    now,
    resolvers: {
      ...accounts.resolvers,
      bearer: async (secret) => (await accounts.resolvers.bearer(secret)) ?? connect.resolveBearer(secret),
    },
  });
  await app.register(connect.guard);

  const contract = loadContract();
  const served = servedContract(contract, config.publicUrl);
  if (config.docsEnabled) {
    await app.register(swagger, {
      mode: 'static',
      specification: { document: structuredClone(served.document) as never },
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      uiConfig: { deepLinking: true, url: '/openapi.json' },
    });
  }

  const handlers: OperationHandlers = {
    ...operationsHandlers({ db, contract: served }),
    ...accounts.handlers,
    ...badges.handlers,
    ...connect.handlers,
    ...groups.handlers,
    ...sharing.handlers,
    ...wallet.handlers,
    ...privacy.handlers,
    ...imports.handlers,
  };
  await app.register(contractRoutes, {
    contract,
    handlers,
    scopes: [badges.scope, sharing.scope, ...connect.scopes, accounts.pagesScope, imports.scope],
  });
  return app;
}
