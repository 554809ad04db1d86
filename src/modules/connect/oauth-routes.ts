// Handlers of the authorization server: metadata, registration, the consent page and its
// form, the token and revocation endpoints, and the earner's list of connected platforms.
// The OAuth endpoints answer errors in the RFCs' `{error, error_description}` shape.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../http/auth.ts';
import { principalOf } from '../../http/auth.ts';
import type { OperationHandlers } from '../../http/operations.ts';
import { pageLinks } from '../../http/paging.ts';
import { Problem } from '../../http/problems.ts';
import { requesterOf } from '../accounts/index.ts';
import { type Client, OAuthError, type OAuthServer, validChallenge } from './oauth.ts';
import { consentPage, errorPage, sendPage, signInPage } from './pages.ts';
import { describeScope, FRONT_END_SCOPES, parseScope, SUPPORTED_SCOPES } from './scopes.ts';

export interface OAuthRoutesDeps {
  oauth: OAuthServer;
  publicUrl: URL;
  /** The earner signed in by the session cookie, if any (the consent page is public). */
  session: (request: FastifyRequest) => Promise<Principal | null>;
}

export function endpoint(publicUrl: URL, path: string): string {
  return new URL(path, publicUrl).toString();
}

export function issuerOf(publicUrl: URL): string {
  return publicUrl.toString().replace(/\/$/, '');
}

function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  if (err.status === 401) reply.header('www-authenticate', 'Basic realm="backpack"');
  return reply
    .code(err.status)
    .header('cache-control', 'no-store')
    .type('application/json')
    .send({ error: err.error, error_description: err.description });
}

/** Route error handler: OAuth errors and invalid input in the RFC shape, the rest as problems. */
function oauthErrors(validationError: 'invalid_request' | 'registration') {
  return (err: FastifyError | OAuthError, _request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof OAuthError) return sendOAuthError(reply, err);
    if ((err as FastifyError).validation) {
      const fields = ((err as FastifyError).validation ?? []).map((v) => v.instancePath).join(' ');
      const code =
        validationError === 'invalid_request'
          ? 'invalid_request'
          : fields.includes('/redirect_uris')
            ? 'invalid_redirect_uri'
            : 'invalid_client_metadata';
      return sendOAuthError(reply, new OAuthError(code, err.message));
    }
    // A body that cannot be parsed at all (bad JSON, a forbidden __proto__ key) is still the
    // client's error, and these endpoints answer in the RFCs' shape.
    if ((err as FastifyError).statusCode === 400) {
      const code = validationError === 'invalid_request' ? 'invalid_request' : 'invalid_client_metadata';
      return sendOAuthError(reply, new OAuthError(code, 'The request body cannot be parsed.'));
    }
    throw err;
  };
}

/** Route error handler for the pages: never JSON, never a redirect to an unchecked URI. */
function pageErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (err.validation) return sendPage(reply, 400, errorPage('The request is malformed.'));
  throw err;
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | null | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    // RFC 6749 2.3.1: both parts are form-urlencoded before joining.
    const decode = (s: string) => decodeURIComponent(s.replaceAll('+', ' '));
    return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

async function authenticateClient(
  oauth: OAuthServer,
  request: FastifyRequest,
  body: { client_id?: string; client_secret?: string },
): Promise<Client> {
  const basic = basicCredentials(request.headers.authorization);
  if (basic !== undefined && body.client_secret !== undefined) {
    throw new OAuthError('invalid_request', 'Use one client authentication method, not two.');
  }
  // A public client (a front end in a browser) has no secret: it names itself, and what binds
  // codes and refresh tokens to it is PKCE and rotation, checked against that id.
  if (basic === undefined && body.client_secret === undefined && body.client_id) {
    const client = await oauth.publicClient(body.client_id);
    if (!client) throw new OAuthError('invalid_client', 'Client authentication failed.', 401);
    return client;
  }
  const credentials =
    basic ??
    (body.client_id && body.client_secret ? { id: body.client_id, secret: body.client_secret } : null);
  const client = credentials ? await oauth.authenticateClient(credentials.id, credentials.secret) : null;
  if (!client) throw new OAuthError('invalid_client', 'Client authentication failed.', 401);
  if (body.client_id !== undefined && body.client_id !== client.id) {
    throw new OAuthError('invalid_client', 'client_id does not match the authenticated client.', 401);
  }
  return client;
}

function withParams(uri: string, params: Record<string, string | null | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  return url.toString();
}

const AUTHORIZE_PARAMS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
]);

export function oauthHandlers(deps: OAuthRoutesDeps): OperationHandlers {
  const { oauth, publicUrl } = deps;
  const authorizePath = '/v1/oauth/authorize';

  return {
    getAuthorizationServerMetadata: async () => ({
      issuer: issuerOf(publicUrl),
      authorization_endpoint: endpoint(publicUrl, authorizePath),
      token_endpoint: endpoint(publicUrl, '/v1/oauth/token'),
      registration_endpoint: endpoint(publicUrl, '/v1/oauth/clients'),
      revocation_endpoint: endpoint(publicUrl, '/v1/oauth/revoke'),
      scopes_supported: [...SUPPORTED_SCOPES, ...FRONT_END_SCOPES],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      code_challenge_methods_supported: ['S256'],
    }),

    registerOAuthClient: {
      errorHandler: oauthErrors('registration'),
      handler: async (request, reply) => {
        const meta = request.body;
        const { client, secret, issuedAt, grantTypes, contacts } = await oauth.registerClient(
          meta,
          requesterOf(request),
        );
        return reply
          .code(201)
          .header('cache-control', 'no-store')
          .send({
            client_id: client.id,
            ...(secret === null ? {} : { client_secret: secret, client_secret_expires_at: 0 }),
            client_id_issued_at: Math.floor(issuedAt.getTime() / 1000),
            client_name: client.name,
            client_uri: client.clientUri,
            ...(client.logoUri ? { logo_uri: client.logoUri } : {}),
            ...(client.tosUri ? { tos_uri: client.tosUri } : {}),
            ...(client.policyUri ? { policy_uri: client.policyUri } : {}),
            ...(meta.software_id === undefined ? {} : { software_id: meta.software_id }),
            ...(meta.software_version === undefined ? {} : { software_version: meta.software_version }),
            redirect_uris: client.redirectUris,
            scope: client.scopes.join(' '),
            token_endpoint_auth_method: client.tokenEndpointAuthMethod,
            grant_types: grantTypes,
            response_types: ['code'],
            contacts,
          });
      },
    },

    getAuthorizationPage: {
      errorHandler: pageErrors,
      // RFC 6749 3.1: unrecognized parameters are ignored, not refused.
      preValidation: async (request) => {
        const query = request.query as Record<string, unknown>;
        for (const name of Object.keys(query)) if (!AUTHORIZE_PARAMS.has(name)) delete query[name];
      },
      handler: async (request, reply) => {
        const q = request.query;
        const client = q.client_id ? await oauth.findClient(q.client_id) : null;
        if (!client)
          return sendPage(reply, 400, errorPage('The platform that sent you here is not registered.'));
        if (!q.redirect_uri || !client.redirectUris.includes(q.redirect_uri)) {
          return sendPage(reply, 400, errorPage('The return address is not one the platform registered.'));
        }
        if (client.suspended) {
          return sendPage(reply, 400, errorPage('The operator has suspended this platform for review.'));
        }
        const back = (error: string, description: string) =>
          reply.redirect(
            withParams(q.redirect_uri as string, { error, error_description: description, state: q.state }),
            302,
          );
        if (q.response_type !== 'code') return back('unsupported_response_type', 'Only response_type=code.');
        if (!q.code_challenge) return back('invalid_request', 'PKCE is required: send code_challenge.');
        if (q.code_challenge_method !== 'S256') {
          return back('invalid_request', 'code_challenge_method must be S256.');
        }
        if (!validChallenge(q.code_challenge)) return back('invalid_request', 'code_challenge is malformed.');
        const scopes = q.scope === undefined ? client.scopes : parseScope(q.scope);
        if (scopes.length === 0 || scopes.some((s) => !client.scopes.includes(s))) {
          return back(
            'invalid_scope',
            'The scope is empty, unknown, or beyond what the platform registered.',
          );
        }

        const principal = await deps.session(request);
        if (principal?.via !== 'session') {
          // Back to this very request after signing in (or creating the backpack).
          const again = new URLSearchParams();
          for (const [name, value] of Object.entries(q))
            if (typeof value === 'string') again.set(name, value);
          const signIn = new URL('/sign-in', publicUrl);
          signIn.searchParams.set('return_to', `${authorizePath}?${again.toString()}`);
          return sendPage(reply, 401, signInPage(client.name, signIn.toString()));
        }
        const { id, csrf } = await oauth.createConsentRequest({
          sessionId: principal.credentialId,
          earnerId: principal.earnerId,
          clientId: client.id,
          redirectUri: q.redirect_uri,
          scopes,
          state: q.state ?? null,
          codeChallenge: q.code_challenge,
        });
        const page = consentPage({
          action: endpoint(publicUrl, authorizePath),
          kind: client.kind,
          requestId: id,
          csrf,
          clientName: client.name,
          clientUri: client.clientUri,
          logoUri: client.logoUri,
          tosUri: client.tosUri,
          policyUri: client.policyUri,
          redirectUri: q.redirect_uri,
          scopes,
        });
        return sendPage(reply, 200, page.html, page);
      },
    },

    decideAuthorization: {
      errorHandler: pageErrors,
      handler: async (request, reply) => {
        // A browser that withholds the origin sends `null`; then Sec-Fetch-Site, and in any case
        // the single-use token bound to the session, tell the backpack's own form from a forgery.
        const origin = request.headers.origin;
        const site = request.headers['sec-fetch-site'];
        const named = typeof origin === 'string' && origin !== 'null';
        if (
          (named && origin !== publicUrl.origin) ||
          (!named && typeof site === 'string' && site !== 'same-origin')
        ) {
          return sendPage(reply, 403, errorPage('This form can only be sent from the backpack’s own page.'));
        }
        const principal = await deps.session(request);
        if (principal?.via !== 'session') {
          return sendPage(reply, 403, errorPage('Your session has ended; sign in and start again.'));
        }
        const body = request.body;
        const outcome = await oauth.decide({
          requestId: body.request_id,
          csrf: body.csrf_token,
          sessionId: principal.credentialId,
          earnerId: principal.earnerId,
          approve: body.decision === 'approve',
        });
        if (!outcome) {
          return sendPage(
            reply,
            400,
            errorPage('This request has expired or was already answered; start again from the platform.'),
          );
        }
        const location = outcome.code
          ? withParams(outcome.redirectUri, { code: outcome.code, state: outcome.state })
          : withParams(outcome.redirectUri, {
              error: 'access_denied',
              error_description: 'The earner denied access.',
              state: outcome.state,
            });
        return reply.header('cache-control', 'no-store').redirect(location, 303);
      },
    },

    requestOAuthToken: {
      errorHandler: oauthErrors('invalid_request'),
      handler: async (request, reply) => {
        const body = request.body;
        const client = await authenticateClient(oauth, request, body);
        if (client.suspended) {
          throw new OAuthError('unauthorized_client', 'The operator has suspended this client.');
        }
        let tokens: Awaited<ReturnType<OAuthServer['refresh']>>;
        if (body.grant_type === 'authorization_code') {
          tokens = await oauth.exchangeCode(client, {
            code: body.code,
            redirectUri: body.redirect_uri,
            codeVerifier: body.code_verifier,
          });
        } else if (body.grant_type === 'refresh_token') {
          tokens = await oauth.refresh(client, { refreshToken: body.refresh_token, scope: body.scope });
        } else {
          throw new OAuthError(
            'unsupported_grant_type',
            'grant_type must be authorization_code or refresh_token.',
          );
        }
        return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(tokens);
      },
    },

    revokeOAuthToken: {
      errorHandler: oauthErrors('invalid_request'),
      handler: async (request, reply) => {
        const body = request.body;
        const client = await authenticateClient(oauth, request, body);
        await oauth.revoke(client, body.token);
        return reply.code(200).header('cache-control', 'no-store').send();
      },
    },

    listConnectedIssuers: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const page = request.query;
      const [grants, total] = await Promise.all([
        oauth.listGrants(earnerId, page),
        oauth.countGrants(earnerId),
      ]);
      reply
        .header('x-total-count', String(total))
        .header('link', pageLinks('/v1/connected-issuers', page, total));
      return {
        items: grants.map((g) => ({
          clientId: g.clientId,
          kind: g.client.kind === 'front_end' ? ('front_end' as const) : ('issuer_platform' as const),
          name: g.client.name,
          clientUri: g.client.clientUri,
          logoUri: g.client.logoUri,
          scopes: parseScope(g.scope).map((scope) => ({ scope, description: describeScope(scope) })),
          grantedAt: g.createdAt.toISOString(),
          lastUsedAt: g.lastUsedAt?.toISOString() ?? null,
        })),
      };
    },

    revokeConnectedIssuer: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const { clientId } = request.params;
      if (!(await oauth.revokeGrant(earnerId, clientId))) {
        throw new Problem('not_found', 'No such connected platform.');
      }
      return reply.code(204).send();
    },
  };
}
