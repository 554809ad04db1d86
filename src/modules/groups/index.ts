// Groups: the earner's collections of badges, in the order the earner chose. The sharing
// module publishes them; the badges module's detail and list can ask which groups hold a
// badge and which badges a group holds, through GroupsService.
import type { Db } from '../../db/client.ts';
import type { OperationHandlers } from '../../http/operations.ts';
import type { SharedBadgeViews } from '../badges/index.ts';
import { groupsHandlers } from './routes.ts';
import { GroupsService } from './service.ts';

export { GroupsService, type ShareLookup } from './service.ts';

export interface GroupsModule {
  service: GroupsService;
  handlers: OperationHandlers;
}

export function createGroups(deps: {
  prisma: Db;
  badges: SharedBadgeViews;
  now: () => Date;
  maxGroups?: number;
}): GroupsModule {
  const service = new GroupsService(deps.prisma, deps.badges, deps.now, deps.maxGroups);
  return { service, handlers: groupsHandlers(service) };
}
