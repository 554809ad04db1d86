// HTTP handlers for share links (the earner's side) and for the public views: the shared
// page (HTML or JSON), its images, the address check, oEmbed, the displayer API and the
// statistics.
import type { FastifyReply } from 'fastify';
import type { RawReader } from '../../db/raw.ts';
import { nextExpiry, type RenderedCache } from '../../db/revisions.ts';
import { principalOf } from '../../http/auth.ts';
import type { OperationHandlers } from '../../http/operations.ts';
import { pageLinks } from '../../http/paging.ts';
import { Problem } from '../../http/problems.ts';
import { IMAGE_CSP } from '../../http/security.ts';
import type { PublicHandles } from '../accounts/index.ts';
import { negotiate } from './negotiate.ts';
import { oembedHtml, PAGE_CSP, renderCheckResult, renderPage } from './page.ts';
import type { SharingService } from './service.ts';
import type { Statistics } from './statistics.ts';

/** Checks of an address per client and minute: enough for a person, too few to guess with. */
export const RECIPIENT_CHECKS_PER_MINUTE = 10;

const PAGE_TYPES = ['text/html', 'application/json'] as const;
const OEMBED_WIDTH = 400;
const OEMBED_HEIGHT = 120;

export interface SharingRouteDeps {
  sharing: SharingService;
  statistics: Statistics;
  handles: PublicHandles;
  publicUrl: URL;
  /** Rendered pages, reused while the earner's revision stands. */
  pages?: { cache: RenderedCache; raw: RawReader; now: () => Date };
}

/** The link's earner and that earner's revision, in one read; undefined for no such link. */
async function linkRevision(
  raw: RawReader,
  token: string,
): Promise<{ earnerId: string; revision: number } | undefined> {
  const row = await raw.get<{ earnerId: string; revision: number | bigint }>(
    'SELECT l."earnerId", r."revision" FROM "share_links" l JOIN "earner_revisions" r ON r."earnerId" = l."earnerId" WHERE l."token" = ?',
    [token],
  );
  return row ? { earnerId: row.earnerId, revision: Number(row.revision) } : undefined;
}

function publicJson<Reply extends FastifyReply>(reply: Reply): Reply {
  // Anyone may read public views from any site; no credentials are involved.
  reply.header('access-control-allow-origin', '*').type('application/json; charset=utf-8');
  return reply;
}

export function sharingHandlers({
  sharing,
  statistics,
  handles,
  publicUrl,
  pages,
}: SharingRouteDeps): OperationHandlers {
  const oembedUrl = (pageUrl: string) => {
    const url = new URL('/oembed', publicUrl);
    url.searchParams.set('url', pageUrl);
    url.searchParams.set('format', 'json');
    return url.toString();
  };

  /**
   * A shared page in one of its forms, reused while nothing it shows has changed. The text is
   * the operation's own rendering (its serializer's JSON, or the HTML page) and is sent as it is.
   */
  const sendPage = async (reply: FastifyReply, token: string, type: (typeof PAGE_TYPES)[number]) => {
    // Revocation must take effect at once, so no cache may keep a copy.
    reply.header('cache-control', 'no-store');
    // The link is looked up on every request, so revoking it takes effect at once; what it
    // shows is reused while nothing the page depends on has changed.
    const current = pages ? await linkRevision(pages.raw, token) : undefined;
    if (pages && !current) throw new Problem('not_found', 'No such shared page.');
    const key = `${token}\u0000${type}`;
    const hit = pages && current ? pages.cache.get(key, current.revision, pages.now().getTime()) : undefined;
    if (hit) return reply.headers(hit.headers).send(hit.body);

    const page = await sharing.pageView(await sharing.resolve(token));
    const headers: Record<string, string> =
      type === 'application/json'
        ? { 'access-control-allow-origin': '*', 'content-type': 'application/json; charset=utf-8' }
        : { 'content-security-policy': PAGE_CSP, 'content-type': 'text/html; charset=utf-8' };
    let body: string;
    if (type === 'application/json') {
      const serialize = reply.getSerializationFunction('200', 'application/json');
      body = serialize ? serialize(page) : JSON.stringify(page);
    } else {
      body = renderPage(page, oembedUrl(page.url));
    }
    if (pages && current) {
      const now = pages.now();
      pages.cache.set(
        key,
        { revision: current.revision, body, headers },
        now.getTime(),
        await nextExpiry(pages.raw, current.earnerId, now),
      );
    }
    return reply.headers(headers).send(body);
  };

  return {
    listShareLinks: async (request, reply) => {
      const page = request.query;
      const { items, total } = await sharing.list(principalOf(request).earnerId, page);
      reply.header('x-total-count', String(total)).header('link', pageLinks('/v1/share-links', page, total));
      return { items };
    },
    createShareLink: async (request, reply) => {
      const link = await sharing.create(principalOf(request).earnerId, request.body);
      return reply.code(201).header('location', `/v1/share-links/${link.id}`).send(link);
    },
    getShareLink: async (request) => {
      const { shareLinkId } = request.params;
      return sharing.get(principalOf(request).earnerId, shareLinkId);
    },
    deleteShareLink: async (request, reply) => {
      const { shareLinkId } = request.params;
      await sharing.delete(principalOf(request).earnerId, shareLinkId);
      return reply.code(204).send();
    },

    getSharedPage: {
      // Links shared on social networks come back with their tracking parameters appended.
      config: { ignoreUnknownQuery: true },
      handler: async (request, reply) => {
        const { token } = request.params;
        const { format } = request.query;
        reply.header('vary', 'Accept');
        const type =
          format === 'json'
            ? 'application/json'
            : format === 'html'
              ? 'text/html'
              : negotiate(request.headers.accept, PAGE_TYPES);
        if (!type)
          throw new Problem('not_acceptable', 'This page is available as text/html or application/json.');
        return sendPage(reply, token, type);
      },
    },

    getSharedPageJson: async (request, reply) => sendPage(reply, request.params.token, 'application/json'),

    getSharedImage: async (request, reply) => {
      const { token, position } = request.params;
      const image = await sharing.image(token, position);
      return reply
        .header('content-security-policy', IMAGE_CSP)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-resource-policy', 'cross-origin')
        .type(image.contentType)
        .send(Buffer.from(image.bytes));
    },

    checkSharedRecipient: {
      config: { rateLimit: { max: RECIPIENT_CHECKS_PER_MINUTE, timeWindow: 60_000 } },
      handler: async (request, reply) => {
        const { token } = request.params;
        const { email } = request.body;
        const fromForm = (request.headers['content-type'] ?? '').startsWith(
          'application/x-www-form-urlencoded',
        );
        const type =
          negotiate(
            request.headers.accept,
            fromForm ? PAGE_TYPES : ([...PAGE_TYPES].reverse() as string[]),
          ) ?? 'application/json';
        const share = await sharing.resolve(token);
        const result = sharing.checkRecipient(share, email);
        reply.header('cache-control', 'no-store');
        if (type === 'application/json') return publicJson(reply).send(result);
        return reply
          .header('content-security-policy', PAGE_CSP)
          .type('text/html; charset=utf-8')
          .send(renderCheckResult({ title: share.title, url: sharing.shareUrl(token) }, result));
      },
    },

    getOembed: async (request, reply) => {
      const query = request.query;
      if (query.format === 'xml') throw new Problem('not_implemented', 'Only format=json is offered.');
      const token = sharing.tokenFromUrl(query.url);
      if (!token) throw new Problem('not_found', 'That URL is not a shared page of this service.');
      const page = await sharing.pageView(await sharing.resolve(token));
      reply.header('cache-control', 'no-store');
      return publicJson(reply).send({
        version: '1.0',
        type: 'rich',
        title: page.title,
        provider_name: 'Badge Backpack',
        provider_url: new URL('/', publicUrl).toString(),
        html: oembedHtml(page),
        width: Math.min(query.maxwidth ?? OEMBED_WIDTH, OEMBED_WIDTH),
        height: Math.min(query.maxheight ?? OEMBED_HEIGHT, OEMBED_HEIGHT),
      });
    },

    listDisplayerGroups: async (request, reply) => {
      const { handle } = request.params;
      const earnerId = await handles.earnerIdForHandle(handle);
      // An unpublished handle and one nobody chose answer alike.
      if (!earnerId) throw new Problem('not_found', 'No one has published this handle.');
      reply.header('cache-control', 'no-store');
      return publicJson(reply).send({ handle, items: await sharing.publishedGroups(earnerId) });
    },

    getStatistics: async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return publicJson(reply).send(await statistics.current());
    },
  };
}
