// HTTP handlers for the groups operations of openapi.yaml.
import { principalOf } from '../../http/auth.ts';
import type { OperationHandlers } from '../../http/operations.ts';
import { pageLinks } from '../../http/paging.ts';
import type { GroupsService } from './service.ts';

export function groupsHandlers(groups: GroupsService): OperationHandlers {
  return {
    listGroups: async (request, reply) => {
      const page = request.query;
      const { items, total } = await groups.list(principalOf(request).earnerId, page);
      reply.header('x-total-count', String(total)).header('link', pageLinks('/v1/groups', page, total));
      return { items };
    },
    createGroup: async (request, reply) => {
      const group = await groups.create(principalOf(request).earnerId, request.body);
      return reply.code(201).header('location', `/v1/groups/${group.id}`).send(group);
    },
    getGroup: async (request) => {
      const { groupId } = request.params;
      return groups.get(principalOf(request).earnerId, groupId);
    },
    updateGroup: async (request) => {
      const { groupId } = request.params;
      return groups.update(principalOf(request).earnerId, groupId, request.body);
    },
    deleteGroup: async (request, reply) => {
      const { groupId } = request.params;
      await groups.delete(principalOf(request).earnerId, groupId);
      return reply.code(204).send();
    },
    replaceGroupBadges: async (request) => {
      const { groupId } = request.params;
      const { badgeIds } = request.body;
      return groups.replaceBadges(principalOf(request).earnerId, groupId, badgeIds);
    },
    addGroupBadge: async (request) => {
      const { groupId, badgeId } = request.params;
      return groups.addBadge(principalOf(request).earnerId, groupId, badgeId);
    },
    removeGroupBadge: async (request, reply) => {
      const { groupId, badgeId } = request.params;
      await groups.removeBadge(principalOf(request).earnerId, groupId, badgeId);
      return reply.code(204).send();
    },
  };
}
