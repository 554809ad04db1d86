import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

// Environment -> typed, validated configuration. The only module that reads process.env.
// Every setting is declared once in SETTINGS (name, meaning, default, parser); the README's
// settings table is checked against this list by a test.

export interface OidcProviderConfig {
  /** Name the front end uses to pick the provider. */
  name: string;
  /** The `iss` value the provider's ID tokens carry. */
  issuer: string;
  /** Where the provider publishes its signing keys. */
  jwksUri: string;
  /** Accepted `aud` values: the client ids this service's front ends use at that provider. */
  audiences: string[];
}

export interface Config {
  host: string;
  port: number;
  publicUrl: URL;
  databaseUrl: string;
  migrateOnStart: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Which `X-Forwarded-*` senders to believe: none (false), the nearest n hops, or the listed
   * proxy addresses and networks.
   */
  trustProxy: false | number | string[];
  bodyLimitBytes: number;
  corsOrigins: string[];
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** `host:port` entries the outbound fetcher may reach although they are private addresses. */
  fetchAllowPrivateHosts: string[];
  /** `host:port` entries whose DID documents and issuer key documents may be read over plain http. */
  didWebHttpHosts: string[];
  fetchTimeoutMs: number;
  fetchMaxBytes: number;
  fetchCacheMaxBytes: number;
  fetchCacheDefaultTtlMs: number;
  fetchCacheMaxTtlMs: number;
  /** Badge verifications running at once, and how many may wait, for how long. */
  verifyConcurrency: number;
  verifyQueueLength: number;
  verifyQueueWaitMs: number;
  /** Wall time all the fetches of one verification may take together. */
  verifyTimeBudgetMs: number;
  badgeUploadMaxBytes: number;
  importMaxBytes: number;
  shutdownTimeoutMs: number;
  docsEnabled: boolean;
  renderCacheMaxBytes: number;
  sessionTtlHours: number;
  sessionIdleHours: number;
  /** Lifetime of an access token issued to an issuer platform. */
  connectAccessTokenTtlSeconds: number;
  /** Lifetime of a refresh token issued to an issuer platform (each rotation starts anew). */
  connectRefreshTokenTtlDays: number;
  /** Front-end page that sign-in links open; the code travels in the fragment. */
  signInUrl: URL;
  /** SMTP server for outgoing mail; absent, mail is kept in an in-memory outbox (and printed by main.ts). */
  smtpUrl?: string;
  mailFrom: string;
  oidcProviders: OidcProviderConfig[];
  /** SHA-256 (hex) of the operator's credential; absent, no operator access exists. */
  operatorTokenSha256?: string;
  deletionFreshnessMinutes: number;
  freshSignInMinutes: number;
  signInRateLimitMax: number;
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  keepAliveTimeoutMs: number;
  codesPerAddressPerHour: number;
  signInLinksPendingPerRequester: number;
  maxGroupsPerAccount: number;
  maxShareLinksPerAccount: number;
  maxAccessTokensPerAccount: number;
  clientRegistrationsPerNetworkPerHour: number;
  uploadBytesPerAccountPerHour: number;
  verificationMailsPerAccountPerHour: number;
  verificationMailsPerHour: number;
  /** Operator notice mails sent per minute, over every instance. */
  noticeMailsPerMinute: number;
  /** Days a push report is kept after its resolution (or after it was made, while open). */
  reportRetentionDays: number;
  /** Days an operator action stays in the audit (and in the earner's export). */
  operatorActionRetentionDays: number;
  /** Days an OAuth client that holds nothing (no consent, report or suspension) is kept. */
  clientRetentionDays: number;
  /** NODE_ENV is `production`: mail must then be configured, or explicitly disabled. */
  production: boolean;
  /** No mail at all (sign-in by OIDC only); needed to start in production without SMTP_URL. */
  mailDisabled: boolean;
  /** The operator's own privacy policy; absent, the service's /privacy page is the policy. */
  privacyPolicyUrl?: URL;
  /** The operator's own terms of service; absent, the service's /terms page. */
  termsOfServiceUrl?: URL;
  /** Lifetime of an access token issued to a front end (an OAuth public client). */
  frontEndAccessTokenTtlSeconds: number;
  /** Lifetime of a front end's refresh token unused; each use rotates it. */
  frontEndRefreshTokenTtlHours: number;
  /**
   * The key that seals holder keys' data keys (AES-256-GCM, 32 bytes). Required in production;
   * elsewhere a fixed development key stands in, which protects nothing.
   */
  holderKeyEncryptionKey: Buffer;
}

/**
 * Stands in for HOLDER_KEY_ENCRYPTION_KEY outside production, so that `npm start` works with no
 * setup. It is public, so keys sealed under it are as good as stored in the clear.
 */
export const DEVELOPMENT_HOLDER_KEY_ENCRYPTION_KEY = createHash('sha256')
  .update('badge-backpack development holder key encryption key; never use in production')
  .digest();

type Env = Record<string, string | undefined>;

/** Thrown when one or more variables are bad; `problems` names each one and what it expects. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; expected: string; got: string | undefined }[]) {
    super(
      `Invalid configuration:\n${problems
        .map(
          (p) =>
            `  ${p.variable}: expected ${p.expected}${p.got === undefined ? '' : `, got ${JSON.stringify(p.got)}`}`,
        )
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

class Invalid extends Error {
  constructor(readonly expected: string) {
    super(expected);
  }
}

interface Setting<T> {
  variable: string;
  description: string;
  /** The default as a string, shown in the README; `undefined` means the value is optional. */
  default: string | undefined;
  expected: string;
  parse: (raw: string) => T;
}

const integer =
  (min: number, max: number) =>
  (raw: string): number => {
    if (!/^\d+$/.test(raw)) throw new Invalid('');
    const n = Number(raw);
    if (n < min || n > max) throw new Invalid('');
    return n;
  };

const boolean = (raw: string): boolean => {
  const v = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Invalid('');
};

const httpUrl = (raw: string): URL => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Invalid('');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Invalid('');
  return url;
};

const origin = (raw: string): string => {
  const url = httpUrl(raw);
  if (url.pathname !== '/' || url.search || url.hash || url.username) throw new Invalid('');
  return url.origin;
};

const list =
  <T>(item: (raw: string) => T) =>
  (raw: string): T[] =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map(item);

export const databaseUrlPattern = /^(file:.+|postgres(ql)?:\/\/.+)$/;

const databaseUrl = (raw: string): string => {
  if (!databaseUrlPattern.test(raw)) throw new Invalid('');
  if (raw.startsWith('postgres')) {
    try {
      new URL(raw);
    } catch {
      throw new Invalid('');
    }
  }
  return raw;
};

const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

const trustedProxies = (raw: string): false | number | string[] => {
  const value = raw.trim().toLowerCase();
  if (['false', 'no', 'off', '0'].includes(value)) return false;
  if (/^\d+$/.test(value)) return integer(1, 10)(value);
  const entries = list((entry: string) => {
    if (PROXY_RANGES.has(entry.toLowerCase())) return entry.toLowerCase();
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0 || extra !== undefined) throw new Invalid('');
    if (prefix !== undefined) {
      if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128)) throw new Invalid('');
    }
    return entry;
  })(raw);
  if (entries.length === 0) throw new Invalid('');
  return entries;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const SETTINGS = {
  host: {
    variable: 'HOST',
    description: 'Interface to listen on.',
    default: '127.0.0.1',
    expected: 'a host name or IP address',
    parse: (raw: string) => {
      if (!/^[A-Za-z0-9.:-]+$/.test(raw)) throw new Invalid('');
      return raw;
    },
  },
  port: {
    variable: 'PORT',
    description: 'TCP port to listen on (0 picks a free one).',
    default: '3000',
    expected: 'an integer from 0 to 65535',
    parse: integer(0, 65535),
  },
  publicUrl: {
    variable: 'PUBLIC_URL',
    description:
      'The address earners and issuers reach the service at; used in links, and cookies are `Secure` when it is https.',
    default: 'http://localhost:3000',
    expected: 'an absolute http(s) URL',
    parse: httpUrl,
  },
  databaseUrl: {
    variable: 'DATABASE_URL',
    description: '`file:<path>` for the embedded SQLite, `postgres://` or `postgresql://` for PostgreSQL.',
    default: 'file:./data/backpack.db',
    expected: 'file:<path>, postgres://... or postgresql://...',
    parse: databaseUrl,
  },
  migrateOnStart: {
    variable: 'MIGRATE_ON_START',
    description:
      'Apply pending migrations when the server starts. Defaults to true on SQLite and false on PostgreSQL, where `npm run db:migrate` runs once per release instead.',
    default: undefined,
    expected: 'true or false',
    parse: boolean,
  },
  logLevel: {
    variable: 'LOG_LEVEL',
    description: 'pino log level.',
    default: 'info',
    expected: LOG_LEVELS.join(', '),
    parse: (raw: string) => {
      const level = LOG_LEVELS.find((l) => l === raw);
      if (!level) throw new Invalid('');
      return level;
    },
  },
  trustProxy: {
    variable: 'TRUST_PROXY',
    description:
      'Which proxies to believe about the client address (`X-Forwarded-For`): `false`, the number of proxy hops in front of the service (only when nothing else can reach it), or a comma-separated list of proxy addresses and CIDR networks (`loopback`, `linklocal`, `uniquelocal` name those ranges). `true` is refused: it would let any client choose its address, and with it its rate limits.',
    default: 'false',
    expected:
      'false, a hop count from 1 to 10, or a comma-separated list of IP addresses, CIDR networks, loopback, linklocal or uniquelocal (not true)',
    parse: trustedProxies,
  },
  bodyLimitBytes: {
    variable: 'BODY_LIMIT_BYTES',
    description: 'Largest request body accepted; larger ones get 413.',
    default: '1048576',
    expected: 'an integer from 1024 to 104857600',
    parse: integer(1024, 100 * 1024 * 1024),
  },
  corsOrigins: {
    variable: 'CORS_ORIGINS',
    description:
      'Comma-separated origins of front ends allowed to call the API from browsers, with credentials. Empty: none.',
    default: '',
    expected: 'a comma-separated list of http(s) origins such as https://app.example',
    parse: list(origin),
  },
  rateLimitMax: {
    variable: 'RATE_LIMIT_MAX',
    description: 'Requests allowed per client address per window, across the API.',
    default: '600',
    expected: 'an integer from 1 to 1000000',
    parse: integer(1, 1_000_000),
  },
  rateLimitWindowMs: {
    variable: 'RATE_LIMIT_WINDOW_MS',
    description: 'Length of the rate-limit window in milliseconds.',
    default: '60000',
    expected: 'an integer from 1000 to 86400000',
    parse: integer(1000, 86_400_000),
  },
  fetchAllowPrivateHosts: {
    variable: 'FETCH_ALLOW_PRIVATE_HOSTS',
    description:
      'Comma-separated `host:port` entries that fetching badges, issuers and keys may reach although they are private or loopback addresses (a local issuer in tests or on an intranet). Empty: only public addresses.',
    default: '',
    expected: 'a comma-separated list of host:port',
    parse: list((raw: string) => {
      if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(raw)) throw new Invalid('');
      return raw.toLowerCase();
    }),
  },
  didWebHttpHosts: {
    variable: 'DID_WEB_HTTP_HOSTS',
    description:
      'Comma-separated `host:port` entries whose did:web documents and OB 3.0 issuer key documents (profiles, JWKs) may be read over plain http (a local issuer in tests). Empty: keys are resolved over https only. Private addresses still need `FETCH_ALLOW_PRIVATE_HOSTS`.',
    default: '',
    expected: 'a comma-separated list of host:port',
    parse: list((raw: string) => {
      if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(raw)) throw new Invalid('');
      return raw.toLowerCase();
    }),
  },
  fetchTimeoutMs: {
    variable: 'FETCH_TIMEOUT_MS',
    description: 'How long one outbound fetch (redirects included) may take.',
    default: '10000',
    expected: 'an integer from 100 to 120000',
    parse: integer(100, 120_000),
  },
  fetchMaxBytes: {
    variable: 'FETCH_MAX_BYTES',
    description: 'Largest body an outbound fetch reads (assertions, issuer profiles, keys, images).',
    default: '5242880',
    expected: 'an integer from 1024 to 52428800',
    parse: integer(1024, 50 * 1024 * 1024),
  },
  fetchCacheMaxBytes: {
    variable: 'FETCH_CACHE_MAX_BYTES',
    description:
      'Memory for issuer documents (badge classes, profiles, keys, DID documents, status lists) reused under HTTP caching rules by ingestion and re-verification (0 turns caching off).',
    default: '8388608',
    expected: 'an integer from 0 to 1073741824',
    parse: integer(0, 1024 * 1024 * 1024),
  },
  fetchCacheDefaultTtlMs: {
    variable: 'FETCH_CACHE_DEFAULT_TTL_MS',
    description:
      'How long an issuer document whose server sends neither Cache-Control lifetime nor Expires is reused before it is fetched again.',
    default: '300000',
    expected: 'an integer from 0 to 86400000',
    parse: integer(0, 86_400_000),
  },
  fetchCacheMaxTtlMs: {
    variable: 'FETCH_CACHE_MAX_TTL_MS',
    description:
      'Longest an issuer document is reused without asking its server again, whatever lifetime the server gives it.',
    default: '3600000',
    expected: 'an integer from 0 to 604800000',
    parse: integer(0, 604_800_000),
  },
  verifyConcurrency: {
    variable: 'VERIFY_CONCURRENCY',
    description:
      'Badge verifications (adding, pushing, re-checking) running at once; each holds fetched documents in memory.',
    default: '4',
    expected: 'an integer from 1 to 256',
    parse: integer(1, 256),
  },
  verifyQueueLength: {
    variable: 'VERIFY_QUEUE_LENGTH',
    description:
      'Requests that may wait for a verification turn; beyond that they get 503 `verification_busy` at once.',
    default: '32',
    expected: 'an integer from 0 to 10000',
    parse: integer(0, 10_000),
  },
  verifyQueueWaitMs: {
    variable: 'VERIFY_QUEUE_WAIT_MS',
    description: 'How long a request waits for a verification turn before it gets 503 `verification_busy`.',
    default: '10000',
    expected: 'an integer from 0 to 120000',
    parse: integer(0, 120_000),
  },
  verifyTimeBudgetMs: {
    variable: 'VERIFY_TIME_BUDGET_MS',
    description:
      'How long all the fetches of one verification may take together; a badge that needs longer does not verify.',
    default: '30000',
    expected: 'an integer from 1000 to 600000',
    parse: integer(1000, 600_000),
  },
  badgeUploadMaxBytes: {
    variable: 'BADGE_UPLOAD_MAX_BYTES',
    description: 'Largest baked image an earner may upload; larger ones get 413.',
    default: '5242880',
    expected: 'an integer from 1024 to 52428800',
    parse: integer(1024, 50 * 1024 * 1024),
  },
  importMaxBytes: {
    variable: 'IMPORT_MAX_BYTES',
    description:
      'Largest account export `POST /v1/account/imports` takes; larger ones get 413. It is kept in an unlinked temporary file while it is imported, never in memory.',
    default: '268435456',
    expected: 'an integer from 1024 to 10737418240',
    parse: integer(1024, 10_737_418_240),
  },
  shutdownTimeoutMs: {
    variable: 'SHUTDOWN_TIMEOUT_MS',
    description: 'How long in-flight requests may take to finish after SIGTERM/SIGINT.',
    default: '10000',
    expected: 'an integer from 0 to 600000',
    parse: integer(0, 600_000),
  },
  docsEnabled: {
    variable: 'DOCS_ENABLED',
    description: 'Serve the human API documentation at /docs.',
    default: 'true',
    expected: 'true or false',
    parse: boolean,
  },
  renderCacheMaxBytes: {
    variable: 'RENDER_CACHE_MAX_BYTES',
    description:
      'Memory for rendered badge lists and share pages, per cache, reused while the earner’s data is unchanged (0 turns caching off).',
    default: '8388608',
    expected: 'an integer from 0 to 1073741824',
    parse: integer(0, 1024 * 1024 * 1024),
  },
  sessionTtlHours: {
    variable: 'SESSION_TTL_HOURS',
    description: 'A session ends this many hours after sign-in, however active.',
    default: '720',
    expected: 'an integer from 1 to 8760',
    parse: integer(1, 8760),
  },
  sessionIdleHours: {
    variable: 'SESSION_IDLE_HOURS',
    description: 'A session unused for this many hours ends.',
    default: '168',
    expected: 'an integer from 1 to 8760',
    parse: integer(1, 8760),
  },
  connectAccessTokenTtlSeconds: {
    variable: 'CONNECT_ACCESS_TOKEN_TTL_SECONDS',
    description: 'How long an access token issued to an issuer platform works.',
    default: '3600',
    expected: 'an integer from 60 to 86400',
    parse: integer(60, 86_400),
  },
  connectRefreshTokenTtlDays: {
    variable: 'CONNECT_REFRESH_TOKEN_TTL_DAYS',
    description: "How long an issuer platform's refresh token works unused; each use rotates it.",
    default: '90',
    expected: 'an integer from 1 to 3650',
    parse: integer(1, 3650),
  },
  signInUrl: {
    variable: 'SIGN_IN_URL',
    description:
      "The page that e-mailed sign-in links open (`#code=...` is appended). Defaults to the backpack's own `PUBLIC_URL` + `/sign-in`.",
    default: undefined,
    expected: 'an absolute http(s) URL without a fragment',
    parse: (raw: string) => {
      const url = httpUrl(raw);
      if (url.hash) throw new Invalid('');
      return url;
    },
  },
  smtpUrl: {
    variable: 'SMTP_URL',
    description:
      'SMTP server for outgoing mail (`smtp://` or `smtps://`, credentials in the URL). Empty: outside production, `npm start` prints each message (sign-in links included) to the console, marked as such and nowhere else; in production the server refuses to start unless `MAIL_DISABLED` is set.',
    default: undefined,
    expected: 'an smtp:// or smtps:// URL',
    parse: (raw: string) => {
      if (!/^smtps?:\/\/[^\s]+$/.test(raw)) throw new Invalid('');
      try {
        new URL(raw);
      } catch {
        throw new Invalid('');
      }
      return raw;
    },
  },
  mailFrom: {
    variable: 'MAIL_FROM',
    description: 'The From header of the mail the service sends.',
    default: 'Badge Backpack <no-reply@localhost>',
    expected: 'an address, optionally with a display name',
    parse: (raw: string) => {
      if (!raw.includes('@') || /[\r\n]/.test(raw) || raw.length > 200) throw new Invalid('');
      return raw;
    },
  },
  oidcProviders: {
    variable: 'OIDC_PROVIDERS',
    description:
      'Identity providers whose ID tokens sign earners in: a JSON array of `{"name", "issuer", "jwksUri", "audiences": [...]}`.',
    default: '[]',
    expected: 'a JSON array of {name, issuer, jwksUri, audiences} with unique names',
    parse: (raw: string) => {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        throw new Invalid('');
      }
      if (!Array.isArray(value)) throw new Invalid('');
      const providers = value.map((item: unknown): OidcProviderConfig => {
        if (!item || typeof item !== 'object') throw new Invalid('');
        const { name, issuer, jwksUri, audiences } = item as Record<string, unknown>;
        if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new Invalid('');
        if (typeof issuer !== 'string' || issuer.length === 0) throw new Invalid('');
        if (typeof jwksUri !== 'string') throw new Invalid('');
        httpUrl(jwksUri);
        if (!Array.isArray(audiences) || audiences.length === 0) throw new Invalid('');
        if (!audiences.every((a) => typeof a === 'string' && a.length > 0)) throw new Invalid('');
        return { name, issuer, jwksUri, audiences: audiences as string[] };
      });
      if (new Set(providers.map((p) => p.name)).size !== providers.length) throw new Invalid('');
      return providers;
    },
  },
  operatorTokenSha256: {
    variable: 'OPERATOR_TOKEN_SHA256',
    description:
      'SHA-256 (hex) of the operator credential sent in `X-Operator-Token`. Empty: no operator access.',
    default: undefined,
    expected: '64 hexadecimal characters',
    parse: (raw: string) => {
      if (!/^[0-9a-fA-F]{64}$/.test(raw)) throw new Invalid('');
      return raw.toLowerCase();
    },
  },
  deletionFreshnessMinutes: {
    variable: 'DELETION_FRESHNESS_MINUTES',
    description:
      'Deleting the account, or all its badges, needs a sign-in this recent, or else an e-mailed confirmation code for that deletion.',
    default: '10',
    expected: 'an integer from 1 to 1440',
    parse: integer(1, 1440),
  },
  freshSignInMinutes: {
    variable: 'FRESH_SIGN_IN_MINUTES',
    description:
      'Managing e-mail addresses and creating access tokens need a sign-in this recent (signing in again renews it); tokens can never do them.',
    default: '30',
    expected: 'an integer from 1 to 1440',
    parse: integer(1, 1440),
  },
  signInRateLimitMax: {
    variable: 'SIGN_IN_RATE_LIMIT_MAX',
    description: 'Sign-in requests allowed per client address per rate-limit window.',
    default: '10',
    expected: 'an integer from 1 to 100000',
    parse: integer(1, 100_000),
  },
  codesPerAddressPerHour: {
    variable: 'CODES_PER_ADDRESS_PER_HOUR',
    description:
      'E-mailed codes allowed per e-mail address per hour: sign-in links per address for each requesting network (so that strangers cannot spend the owner’s), verification and confirmation codes per address.',
    default: '5',
    expected: 'an integer from 1 to 1000',
    parse: integer(1, 1000),
  },
  signInLinksPendingPerRequester: {
    variable: 'SIGN_IN_LINKS_PENDING_PER_REQUESTER',
    description:
      'Unused, unexpired sign-in links one network may have asked for at once, over all addresses (a new link to the same address replaces the older ones).',
    default: '10',
    expected: 'an integer from 1 to 10000',
    parse: integer(1, 10_000),
  },
  maxGroupsPerAccount: {
    variable: 'MAX_GROUPS_PER_ACCOUNT',
    description: 'Groups one account may hold; creating another answers 409 `limit_reached`.',
    default: '200',
    expected: 'an integer from 1 to 100000',
    parse: integer(1, 100_000),
  },
  maxShareLinksPerAccount: {
    variable: 'MAX_SHARE_LINKS_PER_ACCOUNT',
    description: 'Share links one account may hold at once; creating another answers 409 `limit_reached`.',
    default: '200',
    expected: 'an integer from 1 to 100000',
    parse: integer(1, 100_000),
  },
  maxAccessTokensPerAccount: {
    variable: 'MAX_ACCESS_TOKENS_PER_ACCOUNT',
    description:
      'Unexpired personal access tokens one account may hold at once; creating another answers 409 `limit_reached`.',
    default: '50',
    expected: 'an integer from 1 to 10000',
    parse: integer(1, 10_000),
  },
  uploadBytesPerAccountPerHour: {
    variable: 'UPLOAD_BYTES_PER_ACCOUNT_PER_HOUR',
    description:
      'Bytes of badges (originals and images) one account may add per hour, deleted ones included; a badge past that answers 409 `limit_reached` and is not stored.',
    default: '26214400',
    expected: 'an integer from 1024 to 10737418240',
    parse: integer(1024, 10_737_418_240),
  },
  clientRegistrationsPerNetworkPerHour: {
    variable: 'CLIENT_REGISTRATIONS_PER_NETWORK_PER_HOUR',
    description:
      'Anonymous OAuth client registrations (`POST /v1/oauth/clients`) one network may make per hour; another answers 429 `rate_limited`.',
    default: '10',
    expected: 'an integer from 1 to 10000',
    parse: integer(1, 10_000),
  },
  verificationMailsPerAccountPerHour: {
    variable: 'VERIFICATION_MAILS_PER_ACCOUNT_PER_HOUR',
    description: 'Address verification mails one account may have sent per hour.',
    default: '5',
    expected: 'an integer from 1 to 1000',
    parse: integer(1, 1000),
  },
  verificationMailsPerHour: {
    variable: 'VERIFICATION_MAILS_PER_HOUR',
    description: 'Address verification mails the whole service sends per hour.',
    default: '500',
    expected: 'an integer from 1 to 1000000',
    parse: integer(1, 1_000_000),
  },
  reportRetentionDays: {
    variable: 'REPORT_RETENTION_DAYS',
    description:
      'Days a push report is kept after the operator resolved it (or after it was made, while never resolved); then the retention job deletes it.',
    default: '365',
    expected: 'an integer from 1 to 3650',
    parse: integer(1, 3650),
  },
  operatorActionRetentionDays: {
    variable: 'OPERATOR_ACTION_RETENTION_DAYS',
    description:
      "Days an operator action stays in the audit and in the earner's export; then the retention job deletes it.",
    default: '730',
    expected: 'an integer from 1 to 3650',
    parse: integer(1, 3650),
  },
  clientRetentionDays: {
    variable: 'CLIENT_RETENTION_DAYS',
    description:
      'Days a registered OAuth client that holds nothing (no consent, report, pending consent or suspension) is kept after registering; then the retention job deletes it.',
    default: '180',
    expected: 'an integer from 1 to 3650',
    parse: integer(1, 3650),
  },
  noticeMailsPerMinute: {
    variable: 'NOTICE_MAILS_PER_MINUTE',
    description:
      'Operator notice mails (policy changes, breaches, legal requests) the service sends per minute, over every instance; the rest wait in the queue.',
    default: '60',
    expected: 'an integer from 1 to 10000',
    parse: integer(1, 10_000),
  },
  production: {
    variable: 'NODE_ENV',
    description:
      '`production` makes a missing `SMTP_URL` an error (unless `MAIL_DISABLED`); anything else prints sign-in mail to the console when `SMTP_URL` is empty.',
    default: 'development',
    expected: 'a word such as production or development',
    parse: (raw: string) => {
      if (!/^[A-Za-z-]{1,30}$/.test(raw)) throw new Invalid('');
      return raw === 'production';
    },
  },
  mailDisabled: {
    variable: 'MAIL_DISABLED',
    description:
      'Send no mail at all (earners then sign in with `OIDC_PROVIDERS` only); lets a production server start without `SMTP_URL`.',
    default: 'false',
    expected: 'true or false',
    parse: boolean,
  },
  privacyPolicyUrl: {
    variable: 'PRIVACY_POLICY_URL',
    description:
      "The operator's privacy policy: `/privacy` redirects there and the discovery documents name it. Empty: the service's own `/privacy` page.",
    default: undefined,
    expected: 'an absolute http(s) URL',
    parse: httpUrl,
  },
  termsOfServiceUrl: {
    variable: 'TERMS_OF_SERVICE_URL',
    description:
      "The operator's terms of service: `/terms` redirects there and the discovery documents name it. Empty: the service's own `/terms` page.",
    default: undefined,
    expected: 'an absolute http(s) URL',
    parse: httpUrl,
  },
  frontEndAccessTokenTtlSeconds: {
    variable: 'FRONT_END_ACCESS_TOKEN_TTL_SECONDS',
    description: 'How long an access token issued to a front end (OAuth public client) works.',
    default: '600',
    expected: 'an integer from 60 to 3600',
    parse: integer(60, 3600),
  },
  frontEndRefreshTokenTtlHours: {
    variable: 'FRONT_END_REFRESH_TOKEN_TTL_HOURS',
    description: "How long a front end's refresh token works unused; each use rotates it.",
    default: '336',
    expected: 'an integer from 1 to 2160',
    parse: integer(1, 2160),
  },
  requestTimeoutMs: {
    variable: 'REQUEST_TIMEOUT_MS',
    description:
      'How long a client may take to send a whole request (headers and body); a slower one gets 408 and its connection closed.',
    default: '30000',
    expected: 'an integer from 1000 to 600000',
    parse: integer(1000, 600_000),
  },
  connectionTimeoutMs: {
    variable: 'CONNECTION_TIMEOUT_MS',
    description: 'A connection on which nothing is sent or received for this long is closed.',
    default: '120000',
    expected: 'an integer from 1000 to 3600000',
    parse: integer(1000, 3_600_000),
  },
  keepAliveTimeoutMs: {
    variable: 'KEEP_ALIVE_TIMEOUT_MS',
    description:
      'How long an idle keep-alive connection stays open between requests (keep it above a load balancer’s own idle timeout).',
    default: '72000',
    expected: 'an integer from 1000 to 600000',
    parse: integer(1000, 600_000),
  },
  holderKeyEncryptionKey: {
    variable: 'HOLDER_KEY_ENCRYPTION_KEY',
    description:
      "Base64 of 32 random bytes (`openssl rand -base64 32`): the key-encryption key that seals each holder key's own data key (AES-256-GCM). Required when `NODE_ENV=production`; elsewhere a fixed development key, published in the source, stands in. Keep it outside the database and its backups: a database without it cannot sign.",
    default: undefined,
    expected: 'base64 of exactly 32 bytes',
    parse: (raw: string) => {
      if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(raw.trim())) throw new Invalid('');
      const key = Buffer.from(raw.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (key.length !== 32) throw new Invalid('');
      return key;
    },
  },
} satisfies { [K in keyof Config]: Setting<Config[K]> };

export function loadConfig(env: Env = process.env): Config {
  const problems: ConstructorParameters<typeof ConfigError>[0] = [];
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [keyof Config, Setting<unknown>][]) {
    const raw = env[setting.variable];
    const value = raw === undefined || raw === '' ? setting.default : raw;
    if (value === undefined) continue;
    try {
      out[key] = setting.parse(value);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      problems.push({ variable: setting.variable, expected: setting.expected, got: raw });
    }
  }
  if (out.production && !out.smtpUrl && !out.mailDisabled) {
    problems.push({
      variable: 'SMTP_URL',
      expected: 'an smtp:// or smtps:// URL when NODE_ENV=production (or MAIL_DISABLED=true)',
      got: env.SMTP_URL,
    });
  }
  if (
    out.production &&
    !out.holderKeyEncryptionKey &&
    !problems.some((p) => p.variable === 'HOLDER_KEY_ENCRYPTION_KEY')
  ) {
    problems.push({
      variable: 'HOLDER_KEY_ENCRYPTION_KEY',
      expected: 'base64 of exactly 32 bytes when NODE_ENV=production',
      got: env.HOLDER_KEY_ENCRYPTION_KEY,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  out.holderKeyEncryptionKey ??= DEVELOPMENT_HOLDER_KEY_ENCRYPTION_KEY;
  if (out.migrateOnStart === undefined) {
    out.migrateOnStart = String(out.databaseUrl).startsWith('file:');
  }
  if (out.signInUrl === undefined) {
    out.signInUrl = new URL('sign-in', withTrailingSlash(out.publicUrl as URL));
  }
  return out as Config;
}

function withTrailingSlash(url: URL): URL {
  const copy = new URL(url);
  if (!copy.pathname.endsWith('/')) copy.pathname = `${copy.pathname}/`;
  return copy;
}

/** Markdown table of every setting, as the README shows it. */
export function settingsTable(): string {
  const rows = Object.values(SETTINGS as Record<string, Setting<unknown>>).map(
    (s) =>
      `| \`${s.variable}\` | ${s.default === undefined ? '(see text)' : s.default === '' ? '(empty)' : `\`${s.default}\``} | ${s.description} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
