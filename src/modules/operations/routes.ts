import type { Database } from '../../db/client.ts';
import { classifyDatabaseError } from '../../db/errors.ts';
import type { Contract } from '../../http/contract.ts';
import { sendProblem } from '../../http/errors.ts';
import { type OperationHandlers, sendSerialized } from '../../http/operations.ts';
import { pendingMigrations } from './readiness.ts';

export interface OperationsDeps {
  db: Database;
  contract: Contract;
}

export function operationsHandlers({ db, contract }: OperationsDeps): OperationHandlers {
  return {
    getHealth: {
      config: { rateLimit: false },
      handler: async () => ({ status: 'ok' }),
    },
    getReadiness: {
      config: { rateLimit: false },
      handler: async (request, reply) => {
        const database = { provider: db.provider, reachable: false, pendingMigrations: [] as string[] };
        try {
          await db.ping();
          database.reachable = true;
          database.pendingMigrations = await pendingMigrations(db);
        } catch (err) {
          if (classifyDatabaseError(err) !== 'database_unavailable')
            request.log.error({ err }, 'readiness check failed');
          return sendProblem(request, reply, 'database_unavailable', 'The database cannot be reached.', {
            database,
          });
        }
        if (database.pendingMigrations.length > 0) {
          return sendProblem(
            request,
            reply,
            'database_unavailable',
            `${database.pendingMigrations.length} migration(s) not applied; run npm run db:migrate.`,
            { database },
          );
        }
        return { status: 'ready', database };
      },
    },
    getOpenApiJson: async (_request, reply) => sendSerialized(reply, 'application/json', contract.json),
    getOpenApiYaml: async (_request, reply) => reply.type('application/yaml').send(contract.yaml),
  };
}
