// Accounts: earners, their e-mail addresses, password-less sign-in (e-mailed links and OIDC ID
// tokens), sessions and personal access tokens, the age gate, export and deletion. Other
// modules use AccountsService to learn an earner's addresses and to join the export/deletion.

import formbody from '@fastify/formbody';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.ts';
import type { Erasure } from '../../db/erasure.ts';
import type { RawReader } from '../../db/raw.ts';
import type { CredentialResolvers } from '../../http/auth.ts';
import type { ContractScope } from '../../http/contract.ts';
import type { OperationHandlers } from '../../http/operations.ts';
import type { Job } from '../../jobs/scheduler.ts';
import type { Mailer } from '../../mail/index.ts';
import { AccessTokens } from './access-tokens.ts';
import { Codes } from './codes.ts';
import { DeletionConfirmation } from './confirmation.ts';
import type { Db } from './db.ts';
import { OidcVerifier } from './oidc.ts';
import { pageHandlers } from './page-routes.ts';
import { accountsHandlers } from './routes.ts';
import { hashSecret, sameHash } from './secrets.ts';
import { AccountsService, type ExportSection } from './service.ts';
import { Sessions } from './sessions.ts';
import { SignIn } from './sign-in.ts';

export { TOKEN_SCOPES } from './access-tokens.ts';
export type { Tx } from './db.ts';
export { PublicHandles } from './public-handles.ts';
export { hashSecret, newId, newSecret, sameHash } from './secrets.ts';
export type { DeletionStep, ExportSection } from './service.ts';
export { AccountsService, EARNER_TABLES, normalizeAddress } from './service.ts';
export { requesterOf } from './sign-in.ts';

/** E-mailed codes work this long: enough to switch to the mailbox, short enough to be stale soon. */
export const CODE_TTL_MINUTES = 15;
const RETENTION_EVERY_MS = 3_600_000;

export interface AccountsDeps {
  prisma: Db;
  /** Prepared reads for the per-request session lookup. */
  raw?: RawReader;
  config: Config;
  now: () => Date;
  mailer: Mailer;
  log: FastifyBaseLogger;
  /** Erases deleted accounts' bytes from the database files. */
  erasure?: Erasure;
}

export interface AccountsModule {
  service: AccountsService;
  sessions: Sessions;
  accessTokens: AccessTokens;
  codes: Codes;
  signIn: SignIn;
  resolvers: CredentialResolvers;
  handlers: OperationHandlers;
  /** Deleting every badge takes what deleting the account takes: a recent sign-in or a mailed code. */
  confirmBadgeDeletion: DeletionConfirmation['confirmBadgeDeletion'];
  /** The sign-in page's forms, registered with a form parser of their own. */
  pagesScope: ContractScope;
  cookieName: string;
  /** The retention job: expired sessions and tokens, and spent codes. */
  retentionJob: Job;
  /** Lets another module add its section (`badges`, `groups`...) to the account export. */
  addExportSection(name: string, section: ExportSection): void;
}

/** `__Host-` binds the cookie to this exact origin over HTTPS; plain HTTP (local use) cannot use it. */
export function sessionCookieName(config: Config): string {
  return config.publicUrl.protocol === 'https:' ? '__Host-backpack_session' : 'backpack_session';
}

/** The operator's token is configured as its SHA-256 (hex), and compared as secrets are. */
function operatorCheck(expectedSha256: string | undefined): ((secret: string) => boolean) | undefined {
  if (!expectedSha256) return undefined;
  const expected = expectedSha256.toLowerCase();
  return (secret) => {
    if (secret.length === 0 || secret.length > 512) return false;
    return sameHash(hashSecret(secret), expected);
  };
}

export function createAccounts({
  prisma,
  raw,
  config,
  now,
  mailer,
  log,
  erasure,
}: AccountsDeps): AccountsModule {
  const service = new AccountsService(prisma, now, raw, erasure);
  const sessions = new Sessions(
    prisma,
    { ttlMs: config.sessionTtlHours * 3_600_000, idleMs: config.sessionIdleHours * 3_600_000 },
    now,
    raw,
  );
  const accessTokens = new AccessTokens(prisma, now, config.maxAccessTokensPerAccount);
  service.attach(sessions, accessTokens);
  const codes = new Codes(
    prisma,
    {
      ttlMs: CODE_TTL_MINUTES * 60_000,
      perAddressPerHour: config.codesPerAddressPerHour,
      pendingPerRequester: config.signInLinksPendingPerRequester,
      verificationsPerAccountPerHour: config.verificationMailsPerAccountPerHour,
      verificationsPerHour: config.verificationMailsPerHour,
    },
    now,
  );
  const oidc = new OidcVerifier(config.oidcProviders, now);
  const signIn = new SignIn({
    prisma,
    service,
    sessions,
    codes,
    oidc,
    mailer,
    signInUrl: config.signInUrl,
    codeTtlMinutes: CODE_TTL_MINUTES,
  });
  const cookieName = sessionCookieName(config);
  const confirmation = new DeletionConfirmation(codes, config.deletionFreshnessMinutes, now);
  const operator = operatorCheck(config.operatorTokenSha256);
  return {
    service,
    sessions,
    accessTokens,
    codes,
    signIn,
    cookieName,
    confirmBadgeDeletion: (principal, code) => confirmation.confirmBadgeDeletion(principal, code),
    resolvers: {
      session: (secret) => sessions.resolve(secret),
      bearer: (secret) => accessTokens.resolve(secret),
      ...(operator ? { operator } : {}),
    },
    handlers: {
      ...pageHandlers({ config, sessions, signIn, cookieName, codeTtlMinutes: CODE_TTL_MINUTES }),
      ...accountsHandlers({
        config,
        now,
        service,
        sessions,
        accessTokens,
        codes,
        signIn,
        mailer,
        cookieName,
        confirmation,
        listProviders: () => oidc.list(),
        codeTtlMinutes: CODE_TTL_MINUTES,
      }),
    },
    pagesScope: {
      operationIds: ['completeSignInFromPage', 'requestSignInLinkFromPage'],
      setup: async (scope) => {
        scope.removeAllContentTypeParsers();
        await scope.register(formbody, { bodyLimit: 16 * 1024 });
      },
    },
    retentionJob: {
      name: 'accounts.retention',
      everyMs: RETENTION_EVERY_MS,
      run: async (at) => {
        const removed = {
          sessions: await sessions.purge(at),
          codes: await codes.purge(at),
          accessTokens: await accessTokens.purge(at),
          usedIdTokens: (await prisma.usedIdToken.deleteMany({ where: { expiresAt: { lte: at } } })).count,
          operatorActions: (
            await prisma.operatorAction.deleteMany({
              where: {
                createdAt: { lte: new Date(at.getTime() - config.operatorActionRetentionDays * 86_400_000) },
              },
            })
          ).count,
        };
        log.info({ removed }, 'accounts retention');
      },
    },
    addExportSection: (name, section) => service.addExportSection(name, section),
  };
}
