// HTTP handlers for the wallet operations of openapi.yaml.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { components } from '../../generated/api.ts';
import { principalOf } from '../../http/auth.ts';
import type { OperationHandlers } from '../../http/contract.ts';
import type { HolderKeys } from './holder-keys.ts';

type Schemas = components['schemas'];

export function walletHandlers(keys: HolderKeys): OperationHandlers {
  return {
    listHolderDids: async (request: FastifyRequest) => ({
      items: await keys.list(principalOf(request).earnerId),
    }),
    createHolderDid: async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body as Schemas['HolderDidCreate'];
      const created = await keys.create(principalOf(request).earnerId, body.method ?? 'did:key');
      return reply.code(201).send(created);
    },
  };
}
