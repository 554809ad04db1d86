// Log options shared by production and tests. Logs must not tie data to an earner: no cookies,
// tokens or e-mail addresses, no query strings (they can carry codes), and client addresses
// truncated to their network (/24 for IPv4, /48 for IPv6). A request is logged by its route's
// pattern (`/share/:token`), never its path, whose segments can be secrets (share tokens) or
// addresses; a path that matched no route is decoded and then scrubbed.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
import pino from 'pino';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** `@` as written, percent-encoded (once or twice), as an HTML entity or in full width. */
const AT = String.raw`(?:@|%40|%2540|&#0*64;|&#x0*40;|&commat;|\uFF20)`;
const LOCAL = String.raw`[^\s@"'<>()[\],;:/?#&=%]+(?:%[0-9A-Fa-f]{2}[^\s@"'<>()[\],;:/?#&=%]*)*`;
const DOMAIN = String.raw`[^\s@"'<>()[\],;:/?#&=]+\.[^\s@"'<>()[\],;:/?#&=]+`;
const EMAIL = new RegExp(`${LOCAL}${AT}${DOMAIN}`, 'gi');
/** A path segment that looks like a secret or an identifier: long runs of token characters. */
const SECRET_SEGMENT = /^[A-Za-z0-9_~.+=-]{20,}$/;

export function truncateIp(ip: string | undefined): string | undefined {
  if (!ip) return ip;
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.\d+$/i.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0`;
  if (ip.includes(':')) {
    const groups = ip.split('::')[0]?.split(':') ?? [];
    return `${groups.slice(0, 3).join(':')}::`;
  }
  return undefined;
}

export function scrubEmails(text: string): string {
  return text.replace(EMAIL, '[email]');
}

/** Percent-decodes until nothing changes (or a few rounds), leaving malformed escapes alone. */
function decodeFully(text: string): string {
  let current = text;
  for (let round = 0; round < 3; round++) {
    const next = current.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
    if (next === current) break;
    current = next;
  }
  return current;
}

/**
 * What the log says of a request's path: the matched route's pattern, or else the path decoded,
 * with any segment holding an address or looking like a secret replaced. The query string is
 * never kept.
 */
export function loggedPath(rawUrl: string, routePattern?: string): string {
  if (routePattern && routePattern !== '*' && routePattern !== '/*') return routePattern;
  const path = rawUrl.split(/[?#]/, 1)[0] ?? '';
  return path
    .split('/')
    .map((raw) => {
      const segment = decodeFully(raw.replaceAll('+', ' '));
      if (/[@\uFF20]/.test(segment) || scrubEmails(segment) !== segment) return '[email]';
      if (SECRET_SEGMENT.test(segment)) return '[redacted]';
      return segment.replace(/[^\x21-\x7E]/g, '?');
    })
    .join('/');
}

export function genReqId(req: IncomingMessage): string {
  const sent = req.headers['x-request-id'];
  return typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : randomUUID();
}

interface LoggedRequest {
  method: string;
  url: string;
  ip?: string;
  routeOptions?: { url?: string };
}

/** An error as logged, with any address in its text scrubbed (messages can quote inputs). */
function scrubbed<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value ?? null, (_key, v: unknown) => (typeof v === 'string' ? scrubEmails(v) : v)),
  );
}

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.email',
        '*.address',
        '*.token',
        '*.password',
        '*.idToken',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: loggedPath(req.url, req.routeOptions?.url),
        client: truncateIp(req.ip),
      }),
      err: (err: unknown) => scrubbed(pino.stdSerializers.err(err as Error)),
    },
    hooks: {
      // Strings handed to the logger (messages, interpolations) lose any e-mail address.
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? scrubEmails(a) : a)) as Parameters<typeof method>,
        );
      },
    },
  };
}
