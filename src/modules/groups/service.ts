// Groups: the earner's named collections of badges, each badge at a position. A badge may be
// in several groups; deleting a badge removes it from them through the foreign key.

import { randomUUID as newId } from 'node:crypto';
import type { Db } from '../../db/client.ts';
import type { components } from '../../generated/api.ts';
import { Problem } from '../../http/problems.ts';
import type { SharedBadgeViews } from '../badges/index.ts';

type Schemas = components['schemas'];
export type GroupView = Schemas['Group'];
export type GroupDetailView = Schemas['GroupDetail'];

/** Tells which of the earner's groups are published; the sharing module provides it. */
export type ShareLookup = (earnerId: string, groupIds: string[]) => Promise<Set<string>>;

interface GroupRow {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

export class GroupsService {
  private shareLookup: ShareLookup = async () => new Set();

  constructor(
    private readonly prisma: Db,
    private readonly badges: SharedBadgeViews,
    private readonly now: () => Date,
    /** Groups one account may hold: enough for any collection, not for filling the database. */
    private readonly maxGroups = Number.POSITIVE_INFINITY,
  ) {}

  useShareLookup(lookup: ShareLookup): void {
    this.shareLookup = lookup;
  }

  /** One page of the earner's groups, newest first, with how many there are in all. */
  async list(
    earnerId: string,
    page: { limit: number; offset: number },
  ): Promise<{ items: GroupView[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.prisma.group.findMany({
        where: { earnerId },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        include: { _count: { select: { members: true } } },
        take: page.limit,
        skip: page.offset,
      }),
      this.prisma.group.count({ where: { earnerId } }),
    ]);
    const shared = await this.shareLookup(
      earnerId,
      rows.map((r) => r.id),
    );
    return { items: rows.map((r) => view(r, r._count.members, shared.has(r.id))), total };
  }

  async get(earnerId: string, groupId: string): Promise<GroupDetailView> {
    const group = await this.owned(earnerId, groupId);
    const ids = await this.badgeIds(earnerId, groupId);
    const summaries = await this.badges.summaries(earnerId, ids ?? []);
    const badges = (ids ?? []).flatMap((id, position) => {
      const s = summaries.get(id);
      return s
        ? [
            {
              id: s.id,
              position,
              name: s.name,
              issuerName: s.issuerName,
              issuedOn: s.issuedOn.toISOString(),
              expiresAt: s.expiresAt?.toISOString() ?? null,
              status: s.status,
            },
          ]
        : [];
    });
    const shared = await this.shareLookup(earnerId, [groupId]);
    return { ...view(group, badges.length, shared.has(groupId)), badges };
  }

  async create(
    earnerId: string,
    input: { name: string; description?: string; badgeIds?: string[] },
  ): Promise<GroupDetailView> {
    const badgeIds = input.badgeIds ?? [];
    if ((await this.prisma.group.count({ where: { earnerId } })) >= this.maxGroups) {
      throw new Problem('limit_reached', `An account can hold at most ${this.maxGroups} groups.`);
    }
    await this.requireOwnedBadges(earnerId, badgeIds);
    const id = newId();
    const now = this.now();
    await this.prisma.group.create({
      data: {
        id,
        earnerId,
        name: input.name,
        description: input.description ?? '',
        createdAt: now,
        updatedAt: now,
        members: { create: badgeIds.map((itemId, position) => ({ itemId, position })) },
      },
    });
    return this.get(earnerId, id);
  }

  async update(
    earnerId: string,
    groupId: string,
    patch: { name?: string; description?: string },
  ): Promise<GroupDetailView> {
    await this.owned(earnerId, groupId);
    await this.prisma.group.updateMany({
      where: { id: groupId, earnerId },
      data: { ...patch, updatedAt: this.now() },
    });
    return this.get(earnerId, groupId);
  }

  async delete(earnerId: string, groupId: string): Promise<void> {
    const { count } = await this.prisma.group.deleteMany({ where: { id: groupId, earnerId } });
    if (count === 0) throw notFound();
  }

  async replaceBadges(earnerId: string, groupId: string, badgeIds: string[]): Promise<GroupDetailView> {
    await this.owned(earnerId, groupId);
    await this.requireOwnedBadges(earnerId, badgeIds);
    await this.prisma.$transaction([
      this.prisma.groupMember.deleteMany({ where: { groupId } }),
      this.prisma.groupMember.createMany({
        data: badgeIds.map((itemId, position) => ({ groupId, itemId, position })),
      }),
      this.prisma.group.updateMany({ where: { id: groupId, earnerId }, data: { updatedAt: this.now() } }),
    ]);
    return this.get(earnerId, groupId);
  }

  async addBadge(earnerId: string, groupId: string, badgeId: string): Promise<GroupDetailView> {
    await this.owned(earnerId, groupId);
    const owned = await this.badges.ownedIds(earnerId, [badgeId]);
    if (!owned.has(badgeId)) throw notFound('No such badge in this backpack.');
    const existing = await this.prisma.groupMember.findUnique({
      where: { groupId_itemId: { groupId, itemId: badgeId } },
    });
    if (!existing) {
      const last = await this.prisma.groupMember.aggregate({ where: { groupId }, _max: { position: true } });
      try {
        await this.prisma.groupMember.create({
          data: { groupId, itemId: badgeId, position: (last._max.position ?? -1) + 1 },
        });
      } catch (err) {
        // Added concurrently by another request: the badge is in the group, as asked.
        if ((err as { code?: string }).code !== 'P2002') throw err;
      }
      await this.prisma.group.updateMany({
        where: { id: groupId, earnerId },
        data: { updatedAt: this.now() },
      });
    }
    return this.get(earnerId, groupId);
  }

  async removeBadge(earnerId: string, groupId: string, badgeId: string): Promise<void> {
    await this.owned(earnerId, groupId);
    const { count } = await this.prisma.groupMember.deleteMany({ where: { groupId, itemId: badgeId } });
    if (count === 0) throw notFound('This badge is not in the group.');
    await this.prisma.group.updateMany({ where: { id: groupId, earnerId }, data: { updatedAt: this.now() } });
  }

  // --- for other modules ----------------------------------------------------------------------

  /**
   * Brings a group from an account export: the earner's group of the same name (the first
   * made) takes the badges it lacks, at its end; otherwise a new group is made, within the cap.
   * Ids that are not the earner's badges are left out. Importing twice changes nothing more.
   */
  async importGroup(
    earnerId: string,
    input: { name: string; description: string; badgeIds: string[] },
  ): Promise<{ created: boolean; added: number }> {
    const owned = await this.badges.ownedIds(earnerId, input.badgeIds);
    const wanted = [...new Set(input.badgeIds)].filter((id) => owned.has(id));
    const held = await this.prisma.group.findFirst({
      where: { earnerId, name: input.name },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true, members: { select: { itemId: true, position: true } } },
    });
    const now = this.now();
    if (!held) {
      if ((await this.prisma.group.count({ where: { earnerId } })) >= this.maxGroups) {
        throw new Problem('limit_reached', `An account can hold at most ${this.maxGroups} groups.`);
      }
      await this.prisma.group.create({
        data: {
          id: newId(),
          earnerId,
          name: input.name,
          description: input.description,
          createdAt: now,
          updatedAt: now,
          members: { create: wanted.map((itemId, position) => ({ itemId, position })) },
        },
      });
      return { created: true, added: wanted.length };
    }
    const present = new Set(held.members.map((m) => m.itemId));
    const missing = wanted.filter((id) => !present.has(id));
    if (missing.length === 0) return { created: false, added: 0 };
    const next = held.members.reduce((max, m) => Math.max(max, m.position), -1) + 1;
    await this.prisma.$transaction([
      this.prisma.groupMember.createMany({
        data: missing.map((itemId, i) => ({ groupId: held.id, itemId, position: next + i })),
      }),
      this.prisma.group.updateMany({ where: { id: held.id, earnerId }, data: { updatedAt: now } }),
    ]);
    return { created: false, added: missing.length };
  }

  /** The group's name and description when it is the earner's, else null. */
  async find(
    earnerId: string,
    groupId: string,
  ): Promise<{ id: string; name: string; description: string } | null> {
    return this.prisma.group.findFirst({
      where: { id: groupId, earnerId },
      select: { id: true, name: true, description: true },
    });
  }

  /** The group's badge ids in order, or null when the group is not the earner's. */
  async badgeIds(earnerId: string, groupId: string): Promise<string[] | null> {
    const group = await this.prisma.group.findFirst({
      where: { id: groupId, earnerId },
      select: { members: { select: { itemId: true }, orderBy: [{ position: 'asc' }, { itemId: 'asc' }] } },
    });
    return group ? group.members.map((m) => m.itemId) : null;
  }

  /** The earner's groups that hold the badge (for the badge's detail). */
  async groupsOfBadge(earnerId: string, badgeId: string): Promise<{ id: string; name: string }[]> {
    return this.prisma.group.findMany({
      where: { earnerId, members: { some: { itemId: badgeId } } },
      select: { id: true, name: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /** Everything held about the earner's groups, for the account export. */
  async exportSection(earnerId: string): Promise<Record<string, unknown>[]> {
    const rows = await this.prisma.group.findMany({
      where: { earnerId },
      orderBy: { createdAt: 'asc' },
      include: { members: { select: { itemId: true, position: true }, orderBy: { position: 'asc' } } },
    });
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
      badgeIds: r.members.map((m) => m.itemId),
    }));
  }

  private async owned(earnerId: string, groupId: string): Promise<GroupRow> {
    const group = await this.prisma.group.findFirst({
      where: { id: groupId, earnerId },
      select: { id: true, name: true, description: true, createdAt: true, updatedAt: true },
    });
    if (!group) throw notFound();
    return group;
  }

  private async requireOwnedBadges(earnerId: string, badgeIds: string[]): Promise<void> {
    const owned = await this.badges.ownedIds(earnerId, badgeIds);
    const unknown = badgeIds.filter((id) => !owned.has(id));
    if (unknown.length > 0) {
      throw new Problem('unknown_badges', 'These ids are not badges in this backpack.', {
        badgeIds: unknown,
      });
    }
  }
}

function notFound(detail = 'No such group.'): Problem {
  return new Problem('not_found', detail);
}

function view(row: GroupRow, badgeCount: number, shared: boolean): GroupView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    badgeCount,
    shared,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
