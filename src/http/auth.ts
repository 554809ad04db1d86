// Authentication and cross-site protection, driven by each operation's `security` in the
// contract: a route whose security is empty is public; otherwise one of its alternatives must
// be met (the session cookie, or a bearer token carrying the listed scopes). Requests that
// change state through a cookie session must come from a trusted origin. Operations marked
// `x-fresh-session` need a session signed in recently: they could hand the account to whoever
// holds a stolen or forgotten session (a new address to sign in with, a long-lived token).
// This, with the contract, is the one place where an operation's credential rule lives.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { OperationInfo, SecurityRequirement } from './contract.ts';
import { Problem } from './problems.ts';

/** Who a request acts for, once authenticated. */
export interface Principal {
  earnerId: string;
  via: 'session' | 'token';
  /** The session's id (via session) or the access token's id (via token). */
  credentialId: string;
  /** Scopes granted: sessions act with every scope of the earner. */
  scopes: ReadonlySet<string> | 'all';
  /** When the earner last proved who they are in this session; null for tokens. */
  authenticatedAt: Date | null;
}

export interface CredentialResolvers {
  session(secret: string): Promise<Principal | null>;
  bearer(secret: string): Promise<Principal | null>;
  /** Whether the secret is the operator's credential; absent, no operator access exists. */
  operator?(secret: string): boolean;
}

export interface AuthOptions {
  cookieName: string;
  /** Origins whose pages may change state with the session cookie. */
  trustedOrigins: string[];
  resolvers: CredentialResolvers;
  /** How recent a session's sign-in must be for `x-fresh-session` operations. */
  freshSessionMs: number;
  now: () => Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** True when the request carries the operator's credential (operatorToken operations only). */
    operator: boolean;
  }
}

export const OPERATOR_HEADER = 'x-operator-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The contract names the session cookie twice, once per name it can have (`__Host-` over
 * https, plain over http); either scheme in an operation's security admits a session.
 */
const SESSION_SCHEMES = ['sessionCookie', 'sessionCookieHttp'];

/** The principal of an authenticated route; a route with security always has one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Problem('unauthenticated');
  return request.principal;
}

function bearerSecret(request: FastifyRequest): string | null | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header);
  return match?.[1] ?? null;
}

function hasScopes(principal: Principal, required: string[]): boolean {
  return (
    principal.scopes === 'all' || required.every((s) => (principal.scopes as ReadonlySet<string>).has(s))
  );
}

/**
 * Cross-site request check for cookie sessions. Browsers send `Sec-Fetch-Site` and `Origin` on
 * every state-changing request; a request with neither is not from a browser page, and so is
 * no cross-site forgery.
 */
export function crossSite(request: FastifyRequest, trusted: ReadonlySet<string>): boolean {
  const origin = request.headers.origin;
  if (typeof origin === 'string') return !trusted.has(origin);
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  return false;
}

async function authPlugin(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  const trusted = new Set(opts.trustedOrigins);
  app.decorateRequest('principal', null);
  app.decorateRequest('operator', false);
  app.addHook('onRoute', (route) => {
    const operation = (route.config as { operation?: OperationInfo } | undefined)?.operation;
    if (
      operation?.freshSession &&
      operation.security.some((alt) => !SESSION_SCHEMES.some((name) => name in alt))
    ) {
      throw new Error(`${operation.operationId}: an x-fresh-session operation takes the session cookie only`);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const security = request.routeOptions.config.operation?.security;
    if (!security || security.length === 0 || security.every((alt) => Object.keys(alt).length === 0)) return;

    // The operator credential answers only for operations that name the operatorToken scheme,
    // and operator-only operations accept nothing else.
    if (security.some((alt) => 'operatorToken' in alt)) {
      const presented = request.headers[OPERATOR_HEADER];
      if (typeof presented === 'string') {
        if (!opts.resolvers.operator?.(presented)) {
          throw new Problem('invalid_credentials', 'The operator credential is not valid.');
        }
        request.operator = true;
        return;
      }
      if (security.every((alt) => 'operatorToken' in alt)) {
        throw new Problem('unauthenticated', 'This operation needs the operator credential.');
      }
    }

    const bearer = bearerSecret(request);
    const cookie = request.cookies[opts.cookieName];
    let principal: Principal | null = null;
    if (bearer !== undefined) {
      principal = bearer ? await opts.resolvers.bearer(bearer) : null;
      if (!principal) {
        reply.header('www-authenticate', 'Bearer realm="backpack", error="invalid_token"');
        throw new Problem(
          'invalid_credentials',
          'The bearer token is malformed, unknown, expired or revoked.',
        );
      }
    } else if (cookie !== undefined) {
      principal = await opts.resolvers.session(cookie);
      if (!principal) {
        reply.clearCookie(opts.cookieName, { path: '/' });
        throw new Problem('invalid_credentials', 'The session is unknown or has expired; sign in again.');
      }
    } else {
      reply.header('www-authenticate', 'Bearer realm="backpack"');
      throw new Problem('unauthenticated', 'Sign in, or send a bearer token.');
    }

    const schemes = principal.via === 'session' ? SESSION_SCHEMES : ['bearerToken'];
    const scopesOf = (alt: SecurityRequirement) => schemes.flatMap((name) => alt[name] ?? []);
    const alternatives = security.filter((alt) => schemes.some((name) => name in alt));
    if (alternatives.length === 0) {
      throw new Problem(
        'forbidden',
        `This operation cannot be called with a ${principal.via === 'session' ? 'session cookie' : 'bearer token'}.`,
      );
    }
    if (!alternatives.some((alt) => hasScopes(principal, scopesOf(alt)))) {
      const needed = alternatives[0] ? scopesOf(alternatives[0]) : [];
      reply.header(
        'www-authenticate',
        `Bearer realm="backpack", error="insufficient_scope", scope="${needed.join(' ')}"`,
      );
      throw new Problem('insufficient_scope', `This token lacks the scope(s): ${needed.join(' ')}.`);
    }
    if (principal.via === 'session' && !SAFE_METHODS.has(request.method) && crossSite(request, trusted)) {
      throw new Problem(
        'cross_site_request',
        'State-changing requests with the session cookie must come from the service or a trusted front end.',
      );
    }
    if (request.routeOptions.config.operation?.freshSession) {
      if (principal.via !== 'session') {
        throw new Problem('forbidden', 'This operation cannot be called with a bearer token.');
      }
      const signedInAt = principal.authenticatedAt?.getTime() ?? 0;
      if (opts.now().getTime() - signedInAt > opts.freshSessionMs) {
        throw new Problem(
          'reauthentication_required',
          `This needs a sign-in within the last ${Math.round(opts.freshSessionMs / 60_000)} minutes; sign in again.`,
        );
      }
    }
    request.principal = principal;
  });
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['errors'] });
