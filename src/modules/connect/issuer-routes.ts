// What issuer platforms call with a consented token: Badge Connect 2.1, the Open Badges 3.0
// API and the original Backpack Connect routes. Each family answers errors in its own
// standard's shape; a push goes through the badges module's verification and lands accepted
// or pending as the earner's push policy says, marked with the platform.
import { createHash, randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { OperationHandlers } from '../../http/contract.ts';
import { Problem } from '../../http/problems.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { BadgesService, PushedBadges, SharedBadgeStatus, StatusReason } from '../badges/index.ts';
import type { BadgeInput } from '../openbadges/index.ts';
import type { AccessGrant } from './oauth.ts';
import { endpoint } from './oauth-routes.ts';
import { describeScope, SCOPES } from './scopes.ts';

export interface IssuerRoutesDeps {
  publicUrl: URL;
  /** What the discovery documents name: the policies earners are held to, and the logo. */
  service: { name: string; image: string; privacyPolicyUrl: string; termsOfServiceUrl: string };
  accounts: AccountsService;
  badges: BadgesService;
  pushed: PushedBadges;
  grantOf: (request: FastifyRequest) => AccessGrant;
}

interface Failure {
  status: number;
  code: string;
  detail: string;
  query: boolean;
}

/** What went wrong, in terms every family can render; null for an unexpected error. */
function failureOf(err: FastifyError | Problem, reply: FastifyReply): Failure | null {
  if (err instanceof Problem) {
    for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
    if (err.status >= 500) return null;
    return { status: err.status, code: err.code, detail: err.detail ?? err.title, query: false };
  }
  if (err.validation) {
    return {
      status: 400,
      code: 'validation_failed',
      detail: err.message,
      query: err.validationContext === 'querystring',
    };
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, code: err.code ?? 'bad_request', detail: err.message, query: false };
  }
  return null;
}

function badgeConnectErrors(err: FastifyError | Problem, _request: FastifyRequest, reply: FastifyReply) {
  const failure = failureOf(err, reply);
  if (!failure) throw err;
  return reply
    .code(failure.status)
    .type('application/json')
    .send({
      status: {
        error: `${failure.code}: ${failure.detail}`,
        statusCode: failure.status,
        statusText: STATUS_CODES[failure.status] ?? 'Error',
      },
    });
}

function minorCode(failure: Failure): string {
  if (failure.status === 400) return failure.query ? 'invalid_query_parameter' : 'invalid_data';
  if (failure.status === 401) return 'unauthorizedrequest';
  if (failure.status === 403) return 'forbidden';
  if (failure.status === 404) return 'not_found';
  if (failure.status === 405) return 'not_allowed';
  if (failure.status === 406) return 'not_acceptable';
  if (failure.status === 429) return 'server_busy';
  return 'invalid_data';
}

function ob3Errors(err: FastifyError | Problem, _request: FastifyRequest, reply: FastifyReply) {
  const failure = failureOf(err, reply);
  if (!failure) throw err;
  return reply
    .code(failure.status)
    .type('application/json')
    .send({
      imsx_codeMajor: 'failure',
      imsx_severity: 'error',
      imsx_description: `${failure.code}: ${failure.detail}`,
      imsx_codeMinor: {
        imsx_codeMinorField: [
          { imsx_codeMinorFieldName: 'TargetEndSystem', imsx_codeMinorFieldValue: minorCode(failure) },
        ],
      },
    });
}

function backpackConnectErrors(err: FastifyError | Problem, _request: FastifyRequest, reply: FastifyReply) {
  const failure = failureOf(err, reply);
  if (!failure) throw err;
  return reply.code(failure.status).type('application/json').send({ message: failure.detail });
}

const V2_VERSIONS = ['0.5', '1.0', '1.1', '2.0'];
const V3_VERSIONS = ['3.0'];
const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

type Verification = { status: SharedBadgeStatus; statusReason: StatusReason | null };

interface PageQuery {
  limit: number;
  offset: number;
  since?: string;
}

/** RFC 8288 links for offset paging, and the total, on the reply. */
function paginate(reply: FastifyReply, url: string, query: PageQuery, total: number): void {
  const link = (offset: number, rel: string) => {
    const params = new URLSearchParams({ limit: String(query.limit), offset: String(offset) });
    if (query.since) params.set('since', query.since);
    return `<${url}?${params.toString()}>; rel="${rel}"`;
  };
  const links = [link(0, 'first')];
  if (query.offset > 0) links.push(link(Math.max(0, query.offset - query.limit), 'prev'));
  if (query.offset + query.limit < total) links.push(link(query.offset + query.limit, 'next'));
  links.push(link(total > 0 ? Math.floor((total - 1) / query.limit) * query.limit : 0, 'last'));
  reply.header('link', links.join(', ')).header('x-total-count', String(total));
}

function parsedOriginal(format: string, text: string): unknown {
  if (format !== 'json') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function ok(statusCode: number) {
  return { error: null, statusCode, statusText: STATUS_CODES[statusCode] ?? '' };
}

export function issuerHandlers(deps: IssuerRoutesDeps): OperationHandlers {
  const { publicUrl, accounts, badges, pushed, grantOf, service } = deps;

  const push = async (request: FastifyRequest, input: BadgeInput, replaceOlder = false) => {
    const grant = grantOf(request);
    const profile = await accounts.getProfile(grant.earnerId);
    try {
      return await badges.add(grant.earnerId, input, grant.clientId, {
        acceptance: profile.pushPolicy === 'accept' ? 'accepted' : 'pending',
        replaceOlder,
      });
    } catch (err) {
      // A platform learns only that the badge is not for this earner: telling an address the
      // earner added but has not verified from one they never added would tell it which
      // addresses the earner is adding. The earner's own API keeps the precise reason.
      if (
        err instanceof Problem &&
        (err.code === 'recipient_unverified' || err.code === 'recipient_mismatch')
      ) {
        throw new Problem('recipient_mismatch', 'The badge is not awarded to this earner.');
      }
      throw err;
    }
  };

  const profileOf = async (earnerId: string) => {
    const [profile, email] = await Promise.all([
      accounts.getProfile(earnerId),
      accounts.primaryAddress(earnerId),
    ]);
    return { name: profile.displayName, email };
  };

  const originals = async (
    request: FastifyRequest,
    reply: FastifyReply,
    versions: string[],
    path: string,
  ) => {
    const { earnerId } = grantOf(request);
    const query = request.query as PageQuery;
    const { items, total } = await pushed.originals(earnerId, {
      versions,
      limit: query.limit,
      offset: query.offset,
      ...(query.since ? { since: new Date(query.since) } : {}),
    });
    paginate(reply, endpoint(publicUrl, path), query, total);
    return items;
  };

  const scopes = Object.values(SCOPES);
  const v3Scopes = scopes.filter((s) => s.includes('/v3p0/'));

  return {
    getBadgeConnectManifest: async () => ({
      '@context': 'https://w3id.org/openbadges/badgeconnect/v1',
      id: endpoint(publicUrl, '/.well-known/badgeconnect.json'),
      badgeConnectAPI: [
        {
          name: service.name,
          image: service.image,
          apiBase: endpoint(publicUrl, '/ims/ob/v2p1'),
          version: 'v1p0',
          termsOfServiceUrl: service.termsOfServiceUrl,
          privacyPolicyUrl: service.privacyPolicyUrl,
          scopesOffered: scopes.filter((s) => s.includes('/v2p1/')),
          registrationUrl: endpoint(publicUrl, '/v1/oauth/clients'),
          authorizationUrl: endpoint(publicUrl, '/v1/oauth/authorize'),
          tokenUrl: endpoint(publicUrl, '/v1/oauth/token'),
        },
      ],
    }),

    listBadgeConnectAssertions: {
      errorHandler: badgeConnectErrors,
      handler: async (request, reply) => {
        const items = await originals(request, reply, V2_VERSIONS, '/ims/ob/v2p1/assertions');
        return {
          status: ok(200),
          results: items.map((i) => parsedOriginal(i.originalFormat, i.originalText)),
        };
      },
    },

    createBadgeConnectAssertion: {
      errorHandler: badgeConnectErrors,
      handler: async (request, reply) => {
        const body = request.body as { id?: string; assertion?: string };
        const input: BadgeInput =
          body.assertion !== undefined
            ? { kind: 'jws', jws: body.assertion }
            : { kind: 'url', url: body.id as string };
        const { created, badge } = await push(request, input);
        const status = created ? 201 : 200;
        return reply.code(status).send({
          status: ok(status),
          results: [parsedOriginal(badge.original.format, badge.original.text)],
        });
      },
    },

    getBadgeConnectProfile: {
      errorHandler: badgeConnectErrors,
      handler: async (request) => {
        const { name, email } = await profileOf(grantOf(request).earnerId);
        return {
          status: ok(200),
          results: [
            {
              '@context': 'https://w3id.org/openbadges/v2',
              type: 'Profile',
              ...(name ? { name } : {}),
              ...(email ? { email } : {}),
            },
          ],
        };
      },
    },

    updateBadgeConnectProfile: {
      errorHandler: badgeConnectErrors,
      handler: async (request) => {
        const { earnerId } = grantOf(request);
        await accounts.updateProfile(earnerId, { displayName: (request.body as { name: string }).name });
        const { name, email } = await profileOf(earnerId);
        return {
          status: ok(200),
          results: [
            {
              '@context': 'https://w3id.org/openbadges/v2',
              type: 'Profile',
              ...(name ? { name } : {}),
              ...(email ? { email } : {}),
            },
          ],
        };
      },
    },

    getOb3Discovery: async () => ({
      openapi: '3.0.1',
      info: {
        title: service.name,
        description: 'The Open Badges 3.0 API of this backpack.',
        version: '1.0',
        termsOfService: service.termsOfServiceUrl,
        'x-imssf-name': service.name,
        'x-imssf-image': service.image,
        'x-imssf-privacyPolicyUrl': service.privacyPolicyUrl,
      },
      servers: [{ url: endpoint(publicUrl, '/ims/ob/v3p0'), description: 'This backpack.' }],
      tags: [{ name: 'OpenBadgeCredentials' }, { name: 'Discovery' }],
      paths: {
        '/credentials': {
          get: {
            tags: ['OpenBadgeCredentials'],
            operationId: 'getCredentials',
            security: [{ OAuth2ACG: [SCOPES.credentialReadonly] }],
            responses: { '200': { description: 'The credentials.' } },
          },
          post: {
            tags: ['OpenBadgeCredentials'],
            operationId: 'upsertCredential',
            security: [{ OAuth2ACG: [SCOPES.credentialUpsert] }],
            responses: { '200': { description: 'Replaced.' }, '201': { description: 'Created.' } },
          },
        },
        '/profile': {
          get: {
            tags: ['OpenBadgeCredentials'],
            operationId: 'getProfile',
            security: [{ OAuth2ACG: [SCOPES.v3ProfileReadonly] }],
            responses: { '200': { description: 'The profile.' } },
          },
          put: {
            tags: ['OpenBadgeCredentials'],
            operationId: 'putProfile',
            security: [{ OAuth2ACG: [SCOPES.v3ProfileUpdate] }],
            responses: { '200': { description: 'The updated profile.' } },
          },
        },
        '/discovery': {
          get: {
            tags: ['Discovery'],
            operationId: 'getServiceDescription',
            responses: { '200': { description: 'This document.' } },
          },
        },
      },
      components: {
        securitySchemes: {
          OAuth2ACG: {
            type: 'oauth2',
            description: 'OAuth 2.0 authorization code grant with PKCE (S256).',
            'x-imssf-registrationUrl': endpoint(publicUrl, '/v1/oauth/clients'),
            flows: {
              authorizationCode: {
                authorizationUrl: endpoint(publicUrl, '/v1/oauth/authorize'),
                tokenUrl: endpoint(publicUrl, '/v1/oauth/token'),
                refreshUrl: endpoint(publicUrl, '/v1/oauth/token'),
                'x-imssf-revocationUrl': endpoint(publicUrl, '/v1/oauth/revoke'),
                scopes: Object.fromEntries(v3Scopes.map((s) => [s, describeScope(s)])),
              },
            },
          },
        },
      },
    }),

    listOb3Credentials: {
      errorHandler: ob3Errors,
      handler: async (request, reply) => {
        const items = await originals(request, reply, V3_VERSIONS, '/ims/ob/v3p0/credentials');
        const credential: unknown[] = [];
        const compactJwsStrings: string[] = [];
        // The credentials travel as issued (their proofs must stay intact); what the backpack
        // found when it last verified each one travels beside them, in the same order.
        const verification = { credential: [] as Verification[], compactJwsStrings: [] as Verification[] };
        for (const item of items) {
          const value = parsedOriginal(item.originalFormat, item.originalText);
          const found = { status: item.status, statusReason: item.statusReason };
          if (typeof value === 'string') {
            compactJwsStrings.push(value);
            verification.compactJwsStrings.push(found);
          } else {
            credential.push(value);
            verification.credential.push(found);
          }
        }
        return { credential, compactJwsStrings, verification };
      },
    },

    upsertOb3Credential: {
      errorHandler: ob3Errors,
      handler: async (request, reply) => {
        const body = request.body as unknown;
        const asText = typeof body === 'string';
        if (asText && !JWS.test(body.trim())) {
          throw new Problem('validation_failed', 'A text/plain body must be a compact JWS (VC-JWT).');
        }
        const input: BadgeInput = asText ? { kind: 'jws', jws: body.trim() } : { kind: 'json', json: body };
        const { created, badge } = await push(request, input, true);
        reply.code(created ? 201 : 200);
        if (badge.original.format === 'json') {
          return reply.type('application/json').send(JSON.parse(badge.original.text));
        }
        return reply.type('text/plain').send(badge.original.text);
      },
    },

    getOb3Profile: {
      errorHandler: ob3Errors,
      handler: async (request) => ob3Profile(await profileOf(grantOf(request).earnerId)),
    },

    updateOb3Profile: {
      errorHandler: ob3Errors,
      handler: async (request) => {
        const { earnerId } = grantOf(request);
        await accounts.updateProfile(earnerId, { displayName: (request.body as { name: string }).name });
        return ob3Profile(await profileOf(earnerId));
      },
    },

    issueBackpackConnectBadge: {
      errorHandler: backpackConnectErrors,
      handler: async (request, reply) => {
        const raw = (request.body as { badge: string }).badge.trim();
        let input: BadgeInput;
        if (JWS.test(raw)) input = { kind: 'jws', jws: raw };
        else if (/^https?:\/\//i.test(raw)) input = { kind: 'url', url: raw };
        else throw new Problem('validation_failed', 'badge must be an assertion URL or a signed assertion.');
        const { created, badge } = await push(request, input);
        return reply.code(created ? 201 : 200).send({
          exists: !created,
          badge: {
            uid: badge.id,
            name: badge.name,
            description: badge.description,
            issuedOn: badge.issuedOn.toISOString(),
            issuer: { name: badge.issuer.name, url: badge.issuer.url },
          },
        });
      },
    },

    getBackpackConnectIdentity: {
      errorHandler: backpackConnectErrors,
      handler: async (request) => {
        const email = await accounts.primaryAddress(grantOf(request).earnerId);
        if (!email) throw new Problem('not_found', 'The earner has no verified address.');
        const salt = randomBytes(8).toString('hex');
        const digest = createHash('sha256')
          .update(email + salt, 'utf8')
          .digest('hex');
        return { recipient: `sha256$${digest}`, salt, type: 'email' };
      },
    },
  };
}

function ob3Profile(p: { name: string | null; email: string | null }) {
  return {
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
    ],
    type: ['Profile'],
    ...(p.name ? { name: p.name } : {}),
    ...(p.email ? { email: p.email } : {}),
  };
}
