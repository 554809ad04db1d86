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
  trustProxy: boolean;
  bodyLimitBytes: number;
  corsOrigins: string[];
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** `host:port` entries the outbound fetcher may reach although they are private addresses. */
  fetchAllowPrivateHosts: string[];
  fetchTimeoutMs: number;
  fetchMaxBytes: number;
  badgeUploadMaxBytes: number;
  shutdownTimeoutMs: number;
  docsEnabled: boolean;
  sessionTtlHours: number;
  sessionIdleHours: number;
}

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
    description: 'Trust `X-Forwarded-*` headers (set when behind a load balancer).',
    default: 'false',
    expected: 'true or false',
    parse: boolean,
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
  badgeUploadMaxBytes: {
    variable: 'BADGE_UPLOAD_MAX_BYTES',
    description: 'Largest baked image an earner may upload; larger ones get 413.',
    default: '5242880',
    expected: 'an integer from 1024 to 52428800',
    parse: integer(1024, 50 * 1024 * 1024),
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
  if (problems.length > 0) throw new ConfigError(problems);
  if (out.migrateOnStart === undefined) {
    out.migrateOnStart = String(out.databaseUrl).startsWith('file:');
  }
  return out as Config;
}

/** Markdown table of every setting, as the README shows it. */
export function settingsTable(): string {
  const rows = Object.values(SETTINGS as Record<string, Setting<unknown>>).map(
    (s) =>
      `| \`${s.variable}\` | ${s.default === undefined ? '(see text)' : s.default === '' ? '(empty)' : `\`${s.default}\``} | ${s.description} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
