// Security headers, CORS for the configured front ends, and request rate limits.
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

async function securityPlugin(
  app: FastifyInstance,
  opts: Pick<Config, 'corsOrigins' | 'rateLimitMax' | 'rateLimitWindowMs' | 'publicUrl'>,
): Promise<void> {
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

  await app.register(cors, {
    // Credentials (the session cookie) are allowed for the listed front ends only; with no list,
    // browsers on other origins get no CORS headers at all.
    origin: opts.corsOrigins.length > 0 ? opts.corsOrigins : false,
    credentials: opts.corsOrigins.length > 0,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['x-request-id', 'link', 'x-total-count', 'retry-after', 'location', 'etag'],
    maxAge: 600,
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
