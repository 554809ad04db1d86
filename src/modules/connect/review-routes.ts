// The earner's review of what issuer platforms pushed: see them with the platform's name,
// accept a pending one, or reject one (deleted) and report it as sent without consent.

import { principalOf } from '../../http/auth.ts';
import type { OperationHandlers } from '../../http/operations.ts';
import { sendPageHeaders } from '../../http/paging.ts';
import type { PushedBadges } from '../badges/index.ts';
import type { OAuthServer } from './oauth.ts';

export function reviewHandlers(deps: { pushed: PushedBadges; oauth: OAuthServer }): OperationHandlers {
  const { pushed, oauth } = deps;
  return {
    listPushedBadges: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const page = request.query;
      const { items, total } = await pushed.list(earnerId, page);
      sendPageHeaders(reply, '/v1/pushed-badges', page, total);
      const names = await oauth.clientNames([...new Set(items.map((i) => i.source))]);
      return {
        items: items.map(({ source, ...item }) => ({
          ...item,
          issuedOn: item.issuedOn.toISOString(),
          addedAt: item.addedAt.toISOString(),
          pushedBy: { clientId: source, name: names.get(source) ?? null },
        })),
      };
    },

    acceptPushedBadge: async (request, reply) => {
      const { earnerId } = principalOf(request);
      await pushed.accept(earnerId, request.params.badgeId);
      return reply.code(204).send();
    },

    rejectPushedBadge: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const body = request.body;
      const rejected = await pushed.reject(earnerId, request.params.badgeId);
      if (body.report && (await oauth.clientNames([rejected.source])).has(rejected.source)) {
        await oauth.report({
          earnerId,
          clientId: rejected.source,
          issuerId: rejected.issuerId,
          badgeName: rejected.name,
          comment: body.comment ?? '',
        });
      }
      return reply.code(204).send();
    },
  };
}
