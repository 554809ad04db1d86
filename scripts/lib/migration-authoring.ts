// Authoring migrations, in place of `prisma migrate diff` and `prisma migrate dev
// --create-only`: the models are compared with what the migrations build on a shadow database
// (in memory for SQLite, a temporary database on a PostgreSQL server), and a new migration is
// written for both providers at once. Development tooling; the service never loads it.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import {
  type Connection,
  LOCKFILE,
  listMigrations,
  lockfileContent,
  MIGRATION_FILE,
  migrationNamesCache,
  migrationsDir,
  NO_FILTER,
  PROVIDERS,
  postgresConnection,
  readCharColumnsAsText,
  readMigrationList,
  readSchemaFiles,
  resolveRoot,
  runScriptsOnPool,
  sqliteConnection,
  withEngine,
} from '../../src/db/schema-engine.ts';
import type { Provider } from '../../src/db/url.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface DiffOptions {
  /**
   * A PostgreSQL connection URL on the server where a temporary shadow database is created (and
   * dropped afterwards); its own database is only used to issue CREATE/DROP DATABASE. Defaults to
   * env `POSTGRES_URL`, then `postgres://postgres@127.0.0.1:5432/postgres`. Unused for SQLite.
   */
  shadowDatabaseUrl?: string;
  root?: string;
}

export interface CreateMigrationOptions {
  /** The PostgreSQL server for the shadow database, as `DiffOptions.shadowDatabaseUrl`. */
  postgresUrl?: string;
  root?: string;
  log?: (msg: string) => void;
}

const DEFAULT_POSTGRES_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  // A backend can outlive its client's disconnect by a moment, so "in use" is retried briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${database}"`);
      return;
    } catch (err) {
      const inUse = err instanceof Error && (err as Error & { code?: string }).code === '55006';
      if (!inUse || attempt >= 20) throw err;
      await sleep(100);
    }
  }
}

/** Connects to PostgreSQL at `shadowServerUrl`, whose shadow databases it creates and drops. */
function shadowedPostgresConnection(shadowServerUrl: string): Connection {
  const connectToShadowDb = async (): Promise<SqlDriverAdapter> => {
    // The process id lets a process (or a test) find what it left behind.
    const database = `prisma_shadow_${process.pid}_${randomUUID().replaceAll('-', '')}`;
    await adminQuery(shadowServerUrl, `CREATE DATABASE "${database}"`);
    const shadowPool = readCharColumnsAsText(
      new pg.Pool({ connectionString: withDatabase(shadowServerUrl, database) }),
    );
    try {
      const adapter = runScriptsOnPool(await new PrismaPg(shadowPool).connect(), shadowPool);
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        try {
          await dispose();
          await shadowPool.end();
        } finally {
          await dropDatabase(shadowServerUrl, database);
        }
      };
      return adapter;
    } catch (err) {
      await shadowPool.end().catch(() => {});
      await dropDatabase(shadowServerUrl, database).catch(() => {});
      throw err;
    }
  };
  return postgresConnection(shadowServerUrl, connectToShadowDb);
}

function shadowServerUrl(explicit: string | undefined): string {
  return explicit ?? process.env.POSTGRES_URL ?? DEFAULT_POSTGRES_SERVER;
}

export async function diffModelsAgainstMigrations(
  provider: Provider,
  opts: DiffOptions = {},
): Promise<string> {
  const root = resolveRoot(opts.root);
  const schemaFiles = readSchemaFiles(provider, root);
  const migrationsList = readMigrationList(provider, root);
  // The main connection is never written to: the migrations are replayed on the shadow database.
  const connection =
    provider === 'sqlite'
      ? sqliteConnection(':memory:')
      : shadowedPostgresConnection(shadowServerUrl(opts.shadowDatabaseUrl));
  return withEngine(connection, schemaFiles, async (engine) => {
    const result = await engine.diff({
      from: { tag: 'migrations', ...migrationsList },
      to: { tag: 'schemaDatamodel', files: schemaFiles },
      script: true,
      exitCode: true,
      filters: NO_FILTER,
    });
    // Exit code 2 means "there is a difference"; with 0 the script is only an "empty" comment.
    return result.exitCode === 0 ? '' : (result.stdout ?? '');
  });
}

function migrationSlug(name: string): string {
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (slug === '') throw new Error(`Migration name "${name}" has no letters or digits`);
  return slug;
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14);
}

export async function createMigration(
  name: string,
  opts: CreateMigrationOptions = {},
): Promise<{ sqlite?: string; postgres?: string }> {
  const slug = migrationSlug(name);
  const root = resolveRoot(opts.root);
  const scripts = new Map<Provider, string>();
  // Every diff is computed before anything is written, so a failure leaves no half-made migration.
  for (const provider of PROVIDERS) {
    const sql = await diffModelsAgainstMigrations(provider, { root, shadowDatabaseUrl: opts.postgresUrl });
    if (sql !== '') scripts.set(provider, sql);
  }
  if (scripts.size === 0) return {};

  // Migrations apply in name order, so the new one must sort after every existing one even if
  // the clock is behind or two are made within a second.
  const latest = PROVIDERS.flatMap((provider) => listMigrations(provider, root))
    .map((existing) => existing.slice(0, 14))
    .filter((prefix) => /^\d{14}$/.test(prefix))
    .sort()
    .at(-1);
  let when = new Date();
  while (latest !== undefined && timestamp(when) <= latest) when = new Date(when.getTime() + 1000);
  const migrationName = `${timestamp(when)}_${slug}`;

  const written: { sqlite?: string; postgres?: string } = {};
  for (const [provider, sql] of scripts) {
    const baseDir = migrationsDir(provider, root);
    const dir = path.join(baseDir, migrationName);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, MIGRATION_FILE);
    writeFileSync(file, sql);
    const lockPath = path.join(baseDir, LOCKFILE);
    if (!existsSync(lockPath)) writeFileSync(lockPath, lockfileContent(provider));
    migrationNamesCache.delete(baseDir);
    written[provider] = file;
    opts.log?.(`created ${path.relative(process.cwd(), file)}`);
  }
  return written;
}
