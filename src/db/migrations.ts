// Pending migrations applied at run time (`npm run db:migrate`, or at start on SQLite), in place
// of `prisma migrate deploy`, writing the same `_prisma_migrations` history as the CLI would.
// Runs that start together take turns: an advisory lock on PostgreSQL, the file on SQLite.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { DiagnoseMigrationHistoryOutput, MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import {
  connectionFor,
  NO_FILTER,
  readMigrationList,
  readSchemaFiles,
  resolveRoot,
  withEngine,
} from './schema-engine.ts';
import { parseDatabaseUrl } from './url.ts';

export { listMigrations } from './schema-engine.ts';
export { type DatabaseTarget, type Provider, parseDatabaseUrl } from './url.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ApplyOptions {
  log?: (msg: string) => void;
  /** Folder holding `models.prisma` and the provider folders; defaults to the project's `prisma/`. */
  root?: string;
}

/** `undefined` when the database has no `_prisma_migrations` table yet. */
async function diagnoseHistory(
  engine: SchemaEngine,
  migrationsList: MigrationList,
): Promise<DiagnoseMigrationHistoryOutput | undefined> {
  try {
    return await engine.diagnoseMigrationHistory({
      migrationsList,
      optInToShadowDatabase: false,
      filters: NO_FILTER,
    });
  } catch (err) {
    // Through the SQLite adapter a missing table arrives as a mapped "table does not exist" error
    // (P1014), which the engine's diagnosis does not take for an empty history as it does with
    // the native driver. `applyMigrations` itself creates the table first and is unaffected.
    if (
      err instanceof Error &&
      (err as Error & { code?: unknown }).code === 'P1014' &&
      err.message.includes('_prisma_migrations')
    ) {
      return undefined;
    }
    throw err;
  }
}

function checkHistory(
  diagnosis: DiagnoseMigrationHistoryOutput,
  baseDir: string,
  log: (msg: string) => void,
): void {
  if (diagnosis.failedMigrationNames.length > 0) {
    throw new Error(
      `Refusing to migrate: migration(s) ${diagnosis.failedMigrationNames.join(', ')} failed earlier on this ` +
        'database (see _prisma_migrations). Repair the database by hand, then mark the migration rolled back ' +
        'or applied.',
    );
  }
  if (diagnosis.editedMigrationNames.length > 0) {
    throw new Error(
      `Refusing to migrate: migration(s) ${diagnosis.editedMigrationNames.join(', ')} changed after they were ` +
        'applied (checksum mismatch with _prisma_migrations). Restore the applied migration.sql and put the ' +
        'change in a new migration.',
    );
  }
  const history = diagnosis.history;
  // Like `prisma migrate deploy`, migrations that exist only in the database do not stop the rest.
  if (history !== null && history.diagnostic !== 'databaseIsBehind') {
    log(
      `warning: the database has migrations that are not in ${baseDir}: ${history.unpersistedMigrationNames.join(', ')}`,
    );
  }
}

// Any fixed number: it names the lock that migration runs on one PostgreSQL database share.
const MIGRATION_LOCK = 7_263_541_912;

/** Runs `fn` holding a session-level advisory lock on the database, so runs take turns. */
async function withAdvisoryLock<T>(url: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }
}

// One run at a time per SQLite file within a process; other processes are waited for below.
const sqliteRuns = new Map<string, Promise<unknown>>();

const BUSY = /SocketTimeout|SQLITE_BUSY|database is locked/;

/**
 * Applies pending migrations. Several runs may start together (instances starting at once):
 * on PostgreSQL they take turns on an advisory lock; on SQLite a run waits for another one
 * holding the file. Either way the later runs find nothing left to apply.
 */
export async function applyMigrations(
  databaseUrl: string,
  opts: ApplyOptions = {},
): Promise<{ applied: string[] }> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.provider === 'postgres')
    return withAdvisoryLock(target.url, () => applyMigrationsOnce(databaseUrl, opts));
  const previous = sqliteRuns.get(target.file) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await applyMigrationsOnce(databaseUrl, opts);
        } catch (err) {
          if (attempt >= 100 || !BUSY.test(String((err as Error).message))) throw err;
          await sleep(100);
        }
      }
    });
  sqliteRuns.set(target.file, run);
  try {
    return await run;
  } finally {
    if (sqliteRuns.get(target.file) === run) sqliteRuns.delete(target.file);
  }
}

async function applyMigrationsOnce(databaseUrl: string, opts: ApplyOptions): Promise<{ applied: string[] }> {
  const target = parseDatabaseUrl(databaseUrl);
  const root = resolveRoot(opts.root);
  const log = opts.log ?? (() => {});
  if (target.provider === 'sqlite') mkdirSync(path.dirname(target.file), { recursive: true });
  const migrationsList = readMigrationList(target.provider, root);
  return withEngine(connectionFor(target), readSchemaFiles(target.provider, root), async (engine) => {
    const diagnosis = await diagnoseHistory(engine, migrationsList);
    if (diagnosis === undefined) log('no migration history yet: applying every migration');
    else checkHistory(diagnosis, migrationsList.baseDir, log);
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    for (const name of appliedMigrationNames) log(`applied ${name}`);
    return { applied: appliedMigrationNames };
  });
}
