// HTTP handlers for the groups operations of openapi.yaml.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { components } from '../../generated/api.ts';
import { principalOf } from '../../http/auth.ts';
import type { OperationHandlers } from '../../http/contract.ts';
import { pageLinks } from '../../http/paging.ts';
import type { GroupsService } from './service.ts';

type Schemas = components['schemas'];
type GroupParams = { groupId: string };
type GroupBadgeParams = { groupId: string; badgeId: string };

export function groupsHandlers(groups: GroupsService): OperationHandlers {
  return {
    listGroups: async (request: FastifyRequest, reply: FastifyReply) => {
      const page = request.query as { limit: number; offset: number };
      const { items, total } = await groups.list(principalOf(request).earnerId, page);
      reply.header('x-total-count', String(total)).header('link', pageLinks('/v1/groups', page, total));
      return { items };
    },
    createGroup: async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body as Schemas['GroupCreate'];
      const group = await groups.create(principalOf(request).earnerId, body);
      return reply.code(201).header('location', `/v1/groups/${group.id}`).send(group);
    },
    getGroup: async (request: FastifyRequest) => {
      const { groupId } = request.params as GroupParams;
      return groups.get(principalOf(request).earnerId, groupId);
    },
    updateGroup: async (request: FastifyRequest) => {
      const { groupId } = request.params as GroupParams;
      return groups.update(principalOf(request).earnerId, groupId, request.body as Schemas['GroupUpdate']);
    },
    deleteGroup: async (request: FastifyRequest, reply: FastifyReply) => {
      const { groupId } = request.params as GroupParams;
      await groups.delete(principalOf(request).earnerId, groupId);
      return reply.code(204).send();
    },
    replaceGroupBadges: async (request: FastifyRequest) => {
      const { groupId } = request.params as GroupParams;
      const { badgeIds } = request.body as Schemas['GroupBadgeList'];
      return groups.replaceBadges(principalOf(request).earnerId, groupId, badgeIds);
    },
    addGroupBadge: async (request: FastifyRequest) => {
      const { groupId, badgeId } = request.params as GroupBadgeParams;
      return groups.addBadge(principalOf(request).earnerId, groupId, badgeId);
    },
    removeGroupBadge: async (request: FastifyRequest, reply: FastifyReply) => {
      const { groupId, badgeId } = request.params as GroupBadgeParams;
      await groups.removeBadge(principalOf(request).earnerId, groupId, badgeId);
      return reply.code(204).send();
    },
  };
}
