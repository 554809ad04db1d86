// The original Mozilla Backpack Connect routes, kept for platforms that still speak them:
// issue a badge, and read the earner's hashed identity. Errors answer as `{ message }`.
import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { OperationHandlers } from '../../http/operations.ts';
import { Problem } from '../../http/problems.ts';
import { type BadgeInput, hashRecipient } from '../openbadges/index.ts';
import { failureOf, type IssuerRoutesDeps, issuerContext, JWS } from './issuer-shared.ts';

function backpackConnectErrors(err: FastifyError | Problem, _request: FastifyRequest, reply: FastifyReply) {
  const failure = failureOf(err, reply);
  if (!failure) throw err;
  return reply.code(failure.status).type('application/json').send({ message: failure.detail });
}

export function backpackConnectHandlers(deps: IssuerRoutesDeps): OperationHandlers {
  const { accounts, grantOf } = deps;
  const { push } = issuerContext(deps);

  return {
    issueBackpackConnectBadge: {
      errorHandler: backpackConnectErrors,
      handler: async (request, reply) => {
        const raw = request.body.badge.trim();
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
        return { recipient: hashRecipient(email, 'sha256', salt), salt, type: 'email' };
      },
    },
  };
}
