// Compiled by `npm run typecheck`, never run: each `@ts-expect-error` below marks a handler that
// disagrees with its operation in openapi.yaml. Should the types stop refusing one of them,
// the directive is unused and the typecheck fails.
import { expectTypeOf } from 'vitest';
import type { components } from '../../src/generated/api.ts';
import type { BodyOf, OperationHandlers, ParamsOf, QueryOf, ReplyOf } from '../../src/http/operations.ts';

type Schemas = components['schemas'];

export const agreeing: OperationHandlers = {
  getHealth: async () => ({ status: 'ok' }),
  createGroup: async (request, reply) =>
    reply.code(201).send({
      id: 'g',
      name: request.body.name,
      description: request.body.description ?? '',
      badgeCount: 0,
      shared: false,
      createdAt: new Date(),
      updatedAt: new Date().toISOString(),
      badges: [],
    }),
  deleteGroup: async (_request, reply) => reply.code(204).send(),
};

export const disagreeing: OperationHandlers = {
  // @ts-expect-error the contract's only status is 'ok'
  getHealth: async () => ({ status: 'fine' }),

  getGroup: async (_request, reply) =>
    reply.send({
      id: 'g',
      name: 'n',
      description: '',
      badgeCount: 0,
      shared: false,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      badges: [],
      // @ts-expect-error a GroupDetail has no `colour`
      colour: 'red',
    }),

  // @ts-expect-error a Group needs its `badgeCount`
  updateGroup: async () => ({
    id: 'g',
    name: 'n',
    description: '',
    shared: false,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  }),

  // @ts-expect-error a 204 is sent, not returned as nothing
  deleteGroup: async () => undefined,

  createShareLink: async (request) => {
    // @ts-expect-error ShareLinkCreate has no `title`
    const title: string = request.body.title;
    return { title } as never;
  },

  getShareLink: async (request) => {
    // @ts-expect-error getShareLink's path names `shareLinkId`, not `groupId`
    const id: string = request.params.groupId;
    return { id } as never;
  },

  listGroups: async (request, reply) => {
    // @ts-expect-error listGroups has no `page` parameter
    const page: number = request.query.page;
    // @ts-expect-error a GroupList holds `items`
    return reply.send({ groups: [], page });
  },
};

export const unknownOperation: OperationHandlers = {
  // @ts-expect-error no operation is called listUnicorns
  listUnicorns: async () => ({ items: [] }),
};

expectTypeOf<QueryOf<'listGroups'>>().toEqualTypeOf<{ limit: number; offset: number }>();
expectTypeOf<ParamsOf<'removeGroupBadge'>>().toEqualTypeOf<{ groupId: string; badgeId: string }>();
expectTypeOf<BodyOf<'createGroup'>>().toEqualTypeOf<Schemas['GroupCreate']>();
expectTypeOf<BodyOf<'uploadBadge'>>().toEqualTypeOf<{ file: Buffer }>();
expectTypeOf<ReplyOf<'deleteGroup'>>().toEqualTypeOf<undefined>();
