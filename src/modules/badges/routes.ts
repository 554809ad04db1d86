// HTTP handlers of the backpack, named by the contract's operationIds. Requests are validated
// and responses serialized by the contract's schemas; the logic is in BadgesService.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RawReader } from '../../db/raw.ts';
import { earnerRevision, nextExpiry, type RenderedCache } from '../../db/revisions.ts';
import { type Principal, principalOf } from '../../http/auth.ts';
import { type BodyOf, type OperationHandlers, sendSerialized } from '../../http/operations.ts';
import { pageLinks } from '../../http/paging.ts';
import { Problem } from '../../http/problems.ts';
import { IMAGE_CSP } from '../../http/security.ts';
import type { BadgeInput } from '../openbadges/index.ts';
import type { BadgesService, ListQuery } from './service.ts';

/** What the list needs to answer repeated requests from its cache. */
export interface ListCaching {
  cache: RenderedCache;
  raw: RawReader;
  now: () => Date;
}

/** The list's filters, as its page links carry them. */
function filtersOf(query: ListQuery): Record<string, string | undefined> {
  const { issuerId, status, groupId, q, sort } = query;
  return { issuerId, status, groupId, q, sort };
}

/** An added badge in the contract's one of its forms: a URL, a JWS, JSON or an uploaded file. */
function inputOf(body: BodyOf<'addBadge'>): BadgeInput {
  if ('file' in body) return { kind: 'image', bytes: new Uint8Array(body.file) };
  if ('url' in body) return { kind: 'url', url: body.url };
  if ('jws' in body) return { kind: 'jws', jws: body.jws };
  return { kind: 'json', json: body.json };
}

/**
 * Reads a multipart upload before validation, so that the contract's schema sees `{ file }`:
 * one part named `file` and nothing else.
 */
async function readUpload(request: FastifyRequest, maxBytes: number): Promise<void> {
  if (!request.isMultipart()) return;
  const body: Record<string, Buffer> = {};
  const parts = request.parts({
    limits: { files: 1, fields: 1, parts: 2, fileSize: maxBytes, headerPairs: 50 },
  });
  for await (const part of parts) {
    if (part.type !== 'file' || part.fieldname !== 'file') {
      if (part.type === 'file') part.file.resume();
      throw new Problem('validation_failed', 'Send one part, named file, holding the baked image.', {
        errors: [{ in: 'body', pointer: `/${part.fieldname}`, message: 'is not a known field' }],
      });
    }
    body.file = await part.toBuffer();
  }
  request.body = body;
}

function listKey(earnerId: string, q: ListQuery): string {
  return [earnerId, q.issuerId ?? '', q.status ?? '', q.q ?? '', q.sort, q.limit, q.offset].join('\u0000');
}

export function badgesHandlers(
  service: BadgesService,
  uploadMaxBytes: number,
  confirmDeletion: (principal: Principal, confirmationCode: string | undefined) => Promise<void>,
  caching?: ListCaching,
): OperationHandlers {
  const readMultipart = async (request: FastifyRequest) => readUpload(request, uploadMaxBytes);
  /** Adds a badge in any form; uploadBadge is addBadge's multipart form alone, answered alike. */
  const add = async (request: FastifyRequest, reply: FastifyReply, body: BodyOf<'addBadge'>) => {
    const { earnerId } = principalOf(request);
    const { created, badge } = await service.add(earnerId, inputOf(body));
    if (created) reply.code(201).header('location', `/v1/badges/${badge.id}`);
    return badge;
  };

  return {
    listBadges: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const query = request.query;
      // Group filters depend on another module's tables; those pages are not cached.
      const cacheable = caching?.cache.enabled === true && query.groupId === undefined;
      let revision: number | null = null;
      const key = listKey(earnerId, query);
      if (caching && cacheable) {
        // Read before the page is computed: a change made meanwhile moves it past this value.
        revision = await earnerRevision(caching.raw, earnerId);
        const hit = revision === null ? undefined : caching.cache.get(key, revision, caching.now().getTime());
        if (hit) {
          reply.headers(hit.headers).header('etag', hit.etag).header('cache-control', 'private, no-cache');
          if (request.headers['if-none-match'] === hit.etag) return reply.code(304).send(undefined);
          return sendSerialized(reply, 'application/json; charset=utf-8', hit.body);
        }
      }
      const { items, total } = await service.list(earnerId, { ...query });
      const headers = {
        'x-total-count': String(total),
        link: pageLinks('/v1/badges', query, total, filtersOf(query)),
      };
      reply.headers(headers).header('cache-control', 'private, no-cache');
      const payload = { items, total, limit: query.limit, offset: query.offset };
      if (!caching || !cacheable || revision === null) return payload;
      const now = caching.now();
      // The route's own serializer for this answer, so the cached text is what it would send.
      const serialize = reply.getSerializationFunction('200', 'application/json');
      const body = serialize ? serialize(payload) : JSON.stringify(payload);
      const entry = caching.cache.set(
        key,
        { revision, body, headers },
        now.getTime(),
        await nextExpiry(caching.raw, earnerId, now),
      );
      reply.header('etag', entry.etag);
      return sendSerialized(reply, 'application/json; charset=utf-8', body);
    },

    addBadge: {
      preValidation: readMultipart,
      handler: async (request, reply) => add(request, reply, request.body),
    },
    uploadBadge: {
      preValidation: readMultipart,
      handler: async (request, reply) => add(request, reply, request.body),
    },

    deleteAllBadges: async (request) => {
      const principal = principalOf(request);
      await confirmDeletion(principal, request.body?.confirmationCode);
      return service.removeAll(principal.earnerId);
    },

    getBadge: async (request) => {
      const { earnerId } = principalOf(request);
      return service.get(earnerId, request.params.badgeId);
    },

    deleteBadge: async (request, reply) => {
      const { earnerId } = principalOf(request);
      await service.remove(earnerId, request.params.badgeId);
      return reply.code(204).send();
    },

    getBadgeImage: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const image = await service.image(earnerId, request.params.badgeId);
      // SVG can carry script; even sanitized, it is served so that a browser runs nothing in it.
      reply.header('content-security-policy', IMAGE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('cache-control', 'private, no-cache');
      return reply.type(image.contentType).send(Buffer.from(image.bytes));
    },

    getBakedBadge: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const { format } = request.query;
      const accept = request.headers.accept ?? '';
      const chosen =
        format ?? (accept.includes('image/svg+xml') && !accept.includes('image/png') ? 'svg' : 'png');
      const baked = await service.baked(earnerId, request.params.badgeId, chosen);
      reply.header('content-security-policy', IMAGE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('cache-control', 'private, no-store');
      reply.header('vary', 'accept');
      reply.header('content-disposition', `attachment; filename="${baked.fileName}"`);
      return reply.type(baked.contentType).send(Buffer.from(baked.bytes));
    },

    reverifyBadge: async (request) => {
      const { earnerId } = principalOf(request);
      return service.reverify(earnerId, request.params.badgeId);
    },
  };
}
