// Imports: an account export from this or another backpack, loaded into the signed-in earner's
// backpack. Badges go through the badges module's ingestion, groups through the groups module;
// share links and sign-in data are never carried over.
import type { FastifyRequest } from 'fastify';
import { principalOf } from '../../http/auth.ts';
import type { ContractScope, OperationHandlers } from '../../http/contract.ts';
import { Problem } from '../../http/problems.ts';
import type { BadgesService } from '../badges/index.ts';
import type { GroupsService } from '../groups/index.ts';
import { ImportService, type SpooledExport } from './service.ts';

export { type ImportReport, ImportService } from './service.ts';

export interface ImportsModule {
  service: ImportService;
  handlers: OperationHandlers;
  /** The import reads its body as a stream, with a parser and a size limit of its own. */
  scope: ContractScope;
}

const spooledBodies = new WeakMap<FastifyRequest, SpooledExport>();

export function createImports(deps: {
  badges: BadgesService;
  groups: GroupsService;
  maxBytes: number;
  connectionTimeoutMs: number;
  log?: import('fastify').FastifyBaseLogger;
}): ImportsModule {
  const service = new ImportService(deps);
  return {
    service,
    handlers: {
      importAccount: async (request, reply) => {
        const { earnerId } = principalOf(request);
        const spooled = spooledBodies.get(request);
        if (!spooled) throw new Problem('malformed_body', 'The body is not an account export.');
        // Importing many badges can outlast the idle timeout while nothing is sent.
        const socket: { setTimeout?: (ms: number) => unknown } | undefined = request.raw.socket;
        socket?.setTimeout?.(0);
        try {
          return reply.code(200).send(await service.run(earnerId, spooled));
        } finally {
          socket?.setTimeout?.(deps.connectionTimeoutMs);
        }
      },
    },
    scope: {
      operationIds: ['importAccount'],
      setup: async (scope) => {
        scope.removeAllContentTypeParsers();
        // The body is checked as it streams in, never parsed whole: the route has no body schema.
        scope.addHook('onRoute', (route) => {
          if (route.schema) delete route.schema.body;
        });
        scope.addContentTypeParser(
          'application/json',
          async (request: FastifyRequest, payload: AsyncIterable<Buffer>) => {
            const declared = Number(request.headers['content-length']);
            if (Number.isFinite(declared) && declared > deps.maxBytes) {
              throw new Problem('body_too_large', `An export may be at most ${deps.maxBytes} bytes.`);
            }
            const spooled = await service.spool(payload);
            spooledBodies.set(request, spooled);
            return { bytes: spooled.bytes };
          },
        );
        // Whatever happens to the request, its file is let go.
        scope.addHook('onResponse', async (request) => {
          await spooledBodies.get(request)?.close();
        });
      },
    },
  };
}
