// Security headers, CORS for the configured and the registered front ends, and rate limits.
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Badge images, opened on their own: an SVG is a document, so whatever slipped past the sanitizer
 * (or was stored before it knew better) runs sandboxed in an opaque origin, with no script,
 * form, plugin or fetch, and inline styles only.
 */
export const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox; form-action 'none'";

export type SecurityOptions = Pick<
  Config,
  'corsOrigins' | 'rateLimitMax' | 'rateLimitWindowMs' | 'publicUrl'
> & {
  /** Whether a registered front end may call from this origin. */
  frontEndOrigin?: (origin: string) => Promise<boolean>;
};

async function securityPlugin(app: FastifyInstance, opts: SecurityOptions): Promise<void> {
  await app.register(helmet, {
    // JSON answers need no sources at all; HTML pages set their own policy.
    contentSecurityPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-site' },
    hsts: opts.publicUrl.protocol === 'https:' ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_CSP);
    return payload;
  });

  // Credentials (the session cookie) are allowed for the listed front ends only. A front end
  // registered as an OAuth public client may call from the origins of its redirect URIs, with
  // bearer tokens and without cookies. Any other origin gets no CORS headers at all.
  const listed = new Set(opts.corsOrigins);
  const common = {
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['x-request-id', 'link', 'x-total-count', 'retry-after', 'location', 'etag'],
    maxAge: 600,
  };
  await app.register(cors, {
    delegator: async (request: FastifyRequest) => {
      const origin = request.headers.origin;
      if (typeof origin !== 'string' || origin === opts.publicUrl.origin) return { ...common, origin: false };
      if (listed.has(origin)) return { ...common, origin: true, credentials: true };
      if (opts.frontEndOrigin && (await opts.frontEndOrigin(origin))) {
        return { ...common, origin: true, credentials: false };
      }
      return { ...common, origin: false };
    },
  });

  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimitMax,
    timeWindow: opts.rateLimitWindowMs,
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) => {
      const err = new Error(`Rate limit reached; retry in ${Math.ceil(context.ttl / 1000)} s.`) as Error & {
        statusCode: number;
      };
      err.statusCode = 429;
      return err;
    },
  });
}

export default fp(securityPlugin, { name: 'security', fastify: '5.x', dependencies: ['errors'] });
