// Badge Connect 2.1 (IMS): the discovery manifest, and on a platform's consented token the
// earner's assertions and profile. Errors answer in the standard's status envelope.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { OperationHandlers, ReplyOf } from '../../http/operations.ts';
import type { Problem } from '../../http/problems.ts';
import type { BadgeInput } from '../openbadges/index.ts';
import { failureOf, type IssuerRoutesDeps, issuerContext, parsedOriginal } from './issuer-shared.ts';
import { endpoint } from './oauth-routes.ts';
import { SCOPES } from './scopes.ts';

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

const V2_VERSIONS = ['0.5', '1.0', '1.1', '2.0'];

function ok(statusCode: number) {
  return { error: null, statusCode, statusText: STATUS_CODES[statusCode] ?? '' };
}

export function badgeConnectHandlers(deps: IssuerRoutesDeps): OperationHandlers {
  const { publicUrl, accounts, grantOf, service } = deps;
  const { push, profileOf, originals } = issuerContext(deps);
  const scopes = Object.values(SCOPES);

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
        const items = await originals(request, reply, request.query, V2_VERSIONS, '/ims/ob/v2p1/assertions');
        return {
          status: ok(200),
          results: items.map((i) => parsedOriginal(i.originalFormat, i.originalText)),
        };
      },
    },

    createBadgeConnectAssertion: {
      errorHandler: badgeConnectErrors,
      handler: async (request, reply) => {
        // The hosted form keeps any other field of the assertion, `assertion` included: one
        // sent beside an `id` is read as the signed form, as it always has been.
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
        return profileAnswer(await profileOf(grantOf(request).earnerId));
      },
    },

    updateBadgeConnectProfile: {
      errorHandler: badgeConnectErrors,
      handler: async (request) => {
        const { earnerId } = grantOf(request);
        await accounts.updateProfile(earnerId, { displayName: request.body.name });
        return profileAnswer(await profileOf(earnerId));
      },
    },
  };
}

function profileAnswer(p: { name: string | null; email: string | null }): ReplyOf<'getBadgeConnectProfile'> {
  return {
    status: ok(200),
    results: [
      {
        '@context': 'https://w3id.org/openbadges/v2',
        type: 'Profile',
        ...(p.name ? { name: p.name } : {}),
        ...(p.email ? { email: p.email } : {}),
      },
    ],
  };
}
