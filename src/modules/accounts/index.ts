// Accounts: earners, their e-mail addresses, sign-in, sessions and personal access tokens,
// export and deletion. Other modules use AccountsService to learn an earner's addresses.
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { CredentialResolvers } from '../../http/auth.ts';
import type { OperationHandlers } from '../../http/contract.ts';
import { AccessTokens } from './access-tokens.ts';
import { AccountsService } from './service.ts';
import { Sessions } from './sessions.ts';

export { TOKEN_SCOPES } from './access-tokens.ts';
export { AccountsService, normalizeAddress } from './service.ts';
export { PublicHandles } from './public-handles.ts';

export interface AccountsDeps {
  prisma: Db;
  config: Config;
  now: () => Date;
}

export interface AccountsModule {
  service: AccountsService;
  sessions: Sessions;
  accessTokens: AccessTokens;
  resolvers: CredentialResolvers;
  handlers: OperationHandlers;
  cookieName: string;
}

/** `__Host-` binds the cookie to this exact origin over HTTPS; plain HTTP (local use) cannot use it. */
export function sessionCookieName(config: Config): string {
  return config.publicUrl.protocol === 'https:' ? '__Host-backpack_session' : 'backpack_session';
}

export function createAccounts({ prisma, config, now }: AccountsDeps): AccountsModule {
  const service = new AccountsService(prisma, now);
  const sessions = new Sessions(
    prisma,
    { ttlMs: config.sessionTtlHours * 3_600_000, idleMs: config.sessionIdleHours * 3_600_000 },
    now,
  );
  const accessTokens = new AccessTokens(prisma, now);
  return {
    service,
    sessions,
    accessTokens,
    cookieName: sessionCookieName(config),
    resolvers: {
      session: (secret) => sessions.resolve(secret),
      bearer: (secret) => accessTokens.resolve(secret),
    },
    handlers: {},
  };
}
