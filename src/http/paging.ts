// Offset paging as every list answers it: the page's place in RFC 8288 `Link` relations
// (first, prev, next, last) and the whole count in `X-Total-Count`, so a client can walk a
// list without knowing how the service counts.
import type { FastifyReply } from 'fastify';

export interface Page {
  limit: number;
  offset: number;
}

/**
 * RFC 8288 links to the first, previous, next and last pages of the list at `path`. The list's
 * `filters` travel in every link (unset ones are left out), before `limit` and `offset`.
 */
export function pageLinks(
  path: string,
  page: Page,
  total: number,
  filters: Record<string, string | undefined> = {},
): string {
  const link = (offset: number, rel: string) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) {
      if (value !== undefined) params.set(key, value);
    }
    params.set('limit', String(page.limit));
    params.set('offset', String(offset));
    return `<${path}?${params.toString()}>; rel="${rel}"`;
  };
  const links = [link(0, 'first')];
  if (page.offset > 0) links.push(link(Math.max(0, page.offset - page.limit), 'prev'));
  if (page.offset + page.limit < total) links.push(link(page.offset + page.limit, 'next'));
  const last = total > 0 ? Math.floor((total - 1) / page.limit) * page.limit : 0;
  links.push(link(last, 'last'));
  return links.join(', ');
}

/** Puts a page's `X-Total-Count` and `Link` on the reply. */
export function sendPageHeaders(
  reply: FastifyReply,
  path: string,
  page: Page,
  total: number,
  filters: Record<string, string | undefined> = {},
): FastifyReply {
  return reply.header('x-total-count', String(total)).header('link', pageLinks(path, page, total, filters));
}
