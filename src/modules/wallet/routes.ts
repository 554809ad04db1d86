// HTTP handlers for the wallet operations of openapi.yaml.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { components } from '../../generated/api.ts';
import { principalOf } from '../../http/auth.ts';
import type { OperationHandlers } from '../../http/contract.ts';
import { Problem } from '../../http/problems.ts';
import type { HolderKeys } from './holder-keys.ts';
import type { Presentations } from './presentations.ts';

type Schemas = components['schemas'];

export function walletHandlers(
  keys: HolderKeys,
  presentations: Presentations,
  shareLinkBadgeIds: (earnerId: string, shareLinkId: string) => Promise<string[]>,
): OperationHandlers {
  return {
    listHolderDids: async (request: FastifyRequest) => ({
      items: await keys.list(principalOf(request).earnerId),
    }),
    createHolderDid: async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body as Schemas['HolderDidCreate'];
      const created = await keys.create(principalOf(request).earnerId, body.method ?? 'did:key');
      return reply.code(201).send(created);
    },
    createPresentation: async (request: FastifyRequest) => {
      const body = request.body as Schemas['PresentationRequest'];
      const earnerId = principalOf(request).earnerId;
      let badgeIds: string[];
      if ('shareLinkId' in body) {
        badgeIds = await shareLinkBadgeIds(earnerId, body.shareLinkId);
      } else {
        badgeIds = [body.badgeId];
        if ((await presentations.owned(earnerId, badgeIds)).size === 0) {
          throw new Problem('not_found', 'No such badge.');
        }
      }
      return presentations.present(earnerId, {
        badgeIds,
        format: body.format ?? 'ldp_vp',
        ...(body.challenge === undefined ? {} : { challenge: body.challenge }),
        ...(body.domain === undefined ? {} : { domain: body.domain }),
        ...(body.holderDid === undefined ? {} : { holderDid: body.holderDid }),
      });
    },
  };
}
