// Share links: the earner publishes a group or one badge at an unguessable URL. Public views
// are built here from the groups and badges services (never their tables); the earner shows
// only as a salted hash of the address each badge was awarded to, with the link's own salt.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/client.ts';
import type { components } from '../../generated/api.ts';
import { Problem } from '../../http/problems.ts';
import { type AccountsService, newId, newSecret, type Tx } from '../accounts/index.ts';
import type { BadgePublicDetail, SharedBadgeViews } from '../badges/index.ts';
import type { GroupsService } from '../groups/index.ts';
import { hashRecipient } from '../openbadges/index.ts';
import { publicImage } from './public-image.ts';
import { addressMatcher, redact, safeLink } from './redact.ts';

type Schemas = components['schemas'];
export type ShareLinkView = Schemas['ShareLink'];
export type SharedBadgeView = Schemas['SharedBadge'];
export type SharedPageView = Schemas['SharedPage'];

interface LinkRow {
  id: string;
  token: string;
  earnerId: string;
  groupId: string | null;
  itemId: string | null;
  salt: string;
  createdAt: Date;
}

/** A resolved public link: what its page shows, in order. */
export interface PublicShare {
  link: LinkRow;
  kind: 'group' | 'badge';
  title: string;
  description: string;
  badges: (BadgePublicDetail & { position: number })[];
}

/** `sha256$hex` of the lower-case address followed by the salt, as Open Badges 2.0 hashes. */
export function hashedIdentity(address: string, salt: string): string {
  return hashRecipient(address.trim().toLowerCase(), 'sha256', salt);
}

export class SharingService {
  constructor(
    private readonly prisma: Db,
    private readonly groups: GroupsService,
    private readonly badges: SharedBadgeViews,
    private readonly accounts: AccountsService,
    private readonly publicUrl: URL,
    private readonly now: () => Date,
    /** Links one account may hold at once: enough to share everything, not to fill the database. */
    private readonly maxShareLinks = Number.POSITIVE_INFINITY,
  ) {}

  shareUrl(token: string): string {
    return new URL(`/share/${token}`, this.publicUrl).toString();
  }

  /** The token from a URL of one of this service's share pages, or null. */
  tokenFromUrl(raw: string): string | null {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return null;
    }
    if (url.origin !== this.publicUrl.origin) return null;
    const match = /^\/share\/([A-Za-z0-9_-]{20,100})$/.exec(url.pathname);
    return match?.[1] ?? null;
  }

  async create(earnerId: string, input: { groupId?: string; badgeId?: string }): Promise<ShareLinkView> {
    if (input.groupId !== undefined) {
      if (!(await this.groups.find(earnerId, input.groupId)))
        throw new Problem('not_found', 'No such group.');
    } else if (input.badgeId !== undefined) {
      const owned = await this.badges.ownedIds(earnerId, [input.badgeId]);
      if (!owned.has(input.badgeId)) throw new Problem('not_found', 'No such badge in this backpack.');
    }
    if ((await this.prisma.shareLink.count({ where: { earnerId } })) >= this.maxShareLinks) {
      throw new Problem('limit_reached', `An account can hold at most ${this.maxShareLinks} share links.`);
    }
    const row = await this.prisma.shareLink.create({
      data: {
        id: newId(),
        // 256 random bits: the link is the only secret between the earner and its viewers.
        token: newSecret(32),
        earnerId,
        groupId: input.groupId ?? null,
        itemId: input.groupId === undefined ? (input.badgeId ?? null) : null,
        salt: randomBytes(16).toString('hex'),
        createdAt: this.now(),
      },
    });
    return this.view(row);
  }

  /**
   * Ends every share link of the earner, inside `tx`: called as all their badges go, when
   * every group is left empty and every single-badge link without its badge.
   */
  async endAll(earnerId: string, tx: Tx): Promise<number> {
    const { count } = await tx.shareLink.deleteMany({ where: { earnerId } });
    return count;
  }

  /** One page of the earner's share links, newest first, with how many there are in all. */
  async list(
    earnerId: string,
    page: { limit: number; offset: number },
  ): Promise<{ items: ShareLinkView[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.prisma.shareLink.findMany({
        where: { earnerId },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        take: page.limit,
        skip: page.offset,
      }),
      this.prisma.shareLink.count({ where: { earnerId } }),
    ]);
    return { items: rows.map((r) => this.view(r)), total };
  }

  async get(earnerId: string, id: string): Promise<ShareLinkView> {
    const row = await this.prisma.shareLink.findFirst({ where: { id, earnerId } });
    if (!row) throw new Problem('not_found', 'No such share link.');
    return this.view(row);
  }

  /** The badges the earner's link publishes, in its order, or a 404 problem for another's link. */
  async badgeIdsOf(earnerId: string, id: string): Promise<string[]> {
    const row = await this.prisma.shareLink.findFirst({ where: { id, earnerId } });
    if (!row) throw new Problem('not_found', 'No such share link.');
    if (row.groupId) return (await this.groups.badgeIds(earnerId, row.groupId)) ?? [];
    return row.itemId ? [row.itemId] : [];
  }

  async delete(earnerId: string, id: string): Promise<void> {
    const { count } = await this.prisma.shareLink.deleteMany({ where: { id, earnerId } });
    if (count === 0) throw new Problem('not_found', 'No such share link.');
  }

  /** Which of the earner's groups have at least one link. */
  async sharedGroupIds(earnerId: string, groupIds: string[]): Promise<Set<string>> {
    if (groupIds.length === 0) return new Set();
    const rows = await this.prisma.shareLink.findMany({
      where: { earnerId, groupId: { in: groupIds } },
      select: { groupId: true },
    });
    return new Set(rows.flatMap((r) => (r.groupId ? [r.groupId] : [])));
  }

  /** The page behind a token, or a 404 problem: unknown and revoked links look the same. */
  async resolve(token: string): Promise<PublicShare> {
    const link = await this.prisma.shareLink.findUnique({ where: { token } });
    if (!link) throw new Problem('not_found', 'No such shared page.');
    if (link.groupId) {
      const group = await this.groups.find(link.earnerId, link.groupId);
      const ids = (await this.groups.badgeIds(link.earnerId, link.groupId)) ?? [];
      if (!group) throw new Problem('not_found', 'No such shared page.');
      const details = await this.badges.publicDetails(link.earnerId, ids);
      const badges = ids.flatMap((id) => {
        const d = details.get(id);
        return d ? [d] : [];
      });
      return {
        link,
        kind: 'group',
        title: group.name,
        description: group.description,
        badges: badges.map((b, position) => ({ ...b, position })),
      };
    }
    const details = await this.badges.publicDetails(link.earnerId, link.itemId ? [link.itemId] : []);
    const badge = link.itemId ? details.get(link.itemId) : undefined;
    if (!badge) throw new Problem('not_found', 'No such shared page.');
    return {
      link,
      kind: 'badge',
      title: badge.name,
      description: badge.description,
      badges: [{ ...badge, position: 0 }],
    };
  }

  /** Every address that must never appear in public: the earner's and each badge's recipient. */
  async privateAddresses(share: PublicShare): Promise<string[]> {
    const held = await this.accounts.addresses(share.link.earnerId);
    return [...new Set([...held.map((a) => a.address), ...share.badges.map((b) => b.recipientAddress)])];
  }

  async pageView(share: PublicShare): Promise<SharedPageView> {
    const matcher = addressMatcher(await this.privateAddresses(share));
    return {
      url: this.shareUrl(share.link.token),
      kind: share.kind,
      title: redact(share.title, matcher),
      description: redact(share.description, matcher),
      recipientCheckUrl: new URL(`/share/${share.link.token}/recipient-checks`, this.publicUrl).toString(),
      badges: share.badges.map((b) => this.badgeView(share.link, b, matcher)),
    };
  }

  /**
   * What anyone sees of one badge. Not the recipient in any form (no address, no hash of it,
   * no salt: a hash with its salt lets anyone test guesses offline, past the rate-limited
   * check), and not the assertion as issued, its id or its hosted URL, which all carry the
   * recipient (in clear, or hashed so that a guess can be tested, or unsalted so that the same
   * earner is recognized on every link).
   */
  badgeView(
    link: LinkRow,
    b: BadgePublicDetail & { position: number },
    matcher: RegExp | null,
  ): SharedBadgeView {
    return {
      position: b.position,
      name: redact(b.name, matcher),
      description: redact(b.description, matcher),
      issuer: { name: redact(b.issuerName, matcher), url: safeLink(b.issuerUrl, matcher) },
      issuedOn: b.issuedOn.toISOString(),
      expiresAt: b.expiresAt?.toISOString() ?? null,
      status: b.status,
      statusReason: b.statusReason,
      imageUrl: b.hasImage
        ? new URL(`/share/${link.token}/images/${b.position}`, this.publicUrl).toString()
        : null,
      criteriaUrl: safeLink(b.criteriaUrl, matcher),
    };
  }

  async image(token: string, position: number): Promise<{ contentType: string; bytes: Uint8Array }> {
    const share = await this.resolve(token);
    const badge = share.badges[position];
    const stored = badge?.hasImage ? await this.badges.image(share.link.earnerId, badge.id) : null;
    const image = stored ? publicImage(stored, await this.privateAddresses(share)) : null;
    if (!image) throw new Problem('not_found', 'No such image.');
    return image;
  }

  checkRecipient(share: PublicShare, email: string): Schemas['RecipientCheckResult'] {
    const claimed = hashedIdentity(email, share.link.salt);
    const matching = share.badges.filter(
      (b) => hashedIdentity(b.recipientAddress, share.link.salt) === claimed,
    ).length;
    return {
      awarded: share.badges.length > 0 && matching === share.badges.length,
      matchingBadges: matching,
      totalBadges: share.badges.length,
    };
  }

  /** The earner's published groups (one page each: the oldest link), for the displayer API. */
  async publishedGroups(earnerId: string): Promise<Schemas['DisplayerGroups']['items']> {
    const links = await this.prisma.shareLink.findMany({
      where: { earnerId, groupId: { not: null } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { token: true, groupId: true },
    });
    const seen = new Set<string>();
    const groups: Schemas['DisplayerGroups']['items'] = [];
    for (const link of links) {
      if (!link.groupId || seen.has(link.groupId)) continue;
      seen.add(link.groupId);
      const share = await this.resolve(link.token);
      const page = await this.pageView(share);
      groups.push({ name: page.title, description: page.description, url: page.url, badges: page.badges });
    }
    return groups;
  }

  async exportSection(earnerId: string): Promise<Record<string, unknown>[]> {
    const rows = await this.prisma.shareLink.findMany({ where: { earnerId }, orderBy: { createdAt: 'asc' } });
    return rows.map((r) => ({ ...this.view(r), salt: r.salt }));
  }

  private view(row: LinkRow): ShareLinkView {
    return {
      id: row.id,
      kind: row.groupId ? 'group' : 'badge',
      groupId: row.groupId,
      badgeId: row.itemId,
      token: row.token,
      url: this.shareUrl(row.token),
      createdAt: row.createdAt.toISOString(),
    };
  }
}
