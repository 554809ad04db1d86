// The Open Badges 3.0 API (IMS): the discovery document, and on a platform's consented token
// the earner's credentials and profile. Errors answer in the standard's imsx status shape.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { OperationHandlers } from '../../http/operations.ts';
import { Problem } from '../../http/problems.ts';
import type { SharedBadgeStatus, StatusReason } from '../badges/index.ts';
import type { BadgeInput } from '../openbadges/index.ts';
import {
  type Failure,
  failureOf,
  type IssuerRoutesDeps,
  issuerContext,
  JWS,
  parsedOriginal,
} from './issuer-shared.ts';
import { endpoint } from './oauth-routes.ts';
import { describeScope, SCOPES } from './scopes.ts';

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

const V3_VERSIONS = ['3.0'];

type Verification = { status: SharedBadgeStatus; statusReason: StatusReason | null };

export function ob3Handlers(deps: IssuerRoutesDeps): OperationHandlers {
  const { publicUrl, accounts, grantOf, service } = deps;
  const { push, profileOf, originals } = issuerContext(deps);
  const v3Scopes = Object.values(SCOPES).filter((s) => s.includes('/v3p0/'));

  return {
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
        const items = await originals(request, reply, request.query, V3_VERSIONS, '/ims/ob/v3p0/credentials');
        const credential: Record<string, unknown>[] = [];
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
        const body = request.body;
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
        await accounts.updateProfile(earnerId, { displayName: request.body.name });
        return ob3Profile(await profileOf(earnerId));
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
