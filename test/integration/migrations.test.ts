import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { diffModelsAgainstMigrations } from '../../scripts/lib/migration-authoring.ts';
import { applyMigrations, listMigrations, type Provider, parseDatabaseUrl } from '../../src/db/migrations.ts';

const PRISMA_ROOT = fileURLToPath(new URL('../../prisma/', import.meta.url));
const POSTGRES_SERVER = inject('postgresUrl') ?? undefined;

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
  applied_steps_count: number | string;
}

/** What each provider's tests need from their database. */
interface TestDatabase {
  url: string;
  shadowServerUrl?: string;
  query<T>(sql: string): Promise<T[]>;
  tableNames(): Promise<string[]>;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'backpack-migrations-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of prisma/ that a test may change; the provider folders keep their symlinked models. */
function prismaCopy(): string {
  const root = path.join(tempDir(), 'prisma');
  cpSync(PRISMA_ROOT, root, { recursive: true, verbatimSymlinks: true });
  return root;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function migrationSql(provider: Provider, name: string, root = PRISMA_ROOT): string {
  return readFileSync(path.join(root, provider, 'migrations', name, 'migration.sql'), 'utf8');
}

function defineMigrationTests(provider: Provider, database: () => TestDatabase): void {
  it('applies every migration to an empty database and records them as Prisma does', async () => {
    const db = database();
    const migrations = listMigrations(provider);
    expect(migrations.length).toBeGreaterThan(0);

    const { applied } = await applyMigrations(db.url);

    expect(applied).toEqual(migrations);
    expect(await db.tableNames()).toEqual(expect.arrayContaining(['_prisma_migrations', 'job_leases']));
    const rows = await db.query<MigrationRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count ' +
        'FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((row) => row.migration_name)).toEqual(migrations);
    for (const row of rows) {
      expect(row.checksum).toBe(sha256(migrationSql(provider, row.migration_name)));
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(Number(row.applied_steps_count)).toBe(1);
    }
  });

  it('applies nothing the second time', async () => {
    const logged: string[] = [];
    const { applied } = await applyMigrations(database().url, { log: (msg) => logged.push(msg) });
    expect(applied).toEqual([]);
    expect(logged).toEqual([]);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const root = prismaCopy();
    const first = listMigrations(provider, root)[0]!;
    appendFileSync(path.join(root, provider, 'migrations', first, 'migration.sql'), '\n-- edited\n');
    await expect(applyMigrations(database().url, { root })).rejects.toThrow(/checksum mismatch/);
  });

  it('has migrations that match the models', async () => {
    const sql = await diffModelsAgainstMigrations(provider, {
      shadowDatabaseUrl: database().shadowServerUrl,
    });
    expect(sql).toBe('');
  });

  it('detects models that the migrations do not cover', async () => {
    const root = prismaCopy();
    const models = path.join(root, 'models.prisma');
    const original = readFileSync(models, 'utf8');
    const variant = original.replace(/^(\s*)holder(\s+)String$/m, '$1holder$2String\n$1nickname$2String?');
    expect(variant).not.toBe(original);
    writeFileSync(models, variant);

    const sql = await diffModelsAgainstMigrations(provider, {
      root,
      shadowDatabaseUrl: database().shadowServerUrl,
    });

    expect(sql).toMatch(/ALTER TABLE "job_leases" ADD COLUMN\s+"nickname" TEXT/);
  });

  // Last, because it leaves a failed migration in the database.
  it('refuses to run after a migration failed', async () => {
    const root = prismaCopy();
    const broken = path.join(root, provider, 'migrations', '99990101000000_broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'migration.sql'), 'SELECT * FROM table_that_does_not_exist;\n');
    const url = database().url;

    await expect(applyMigrations(url, { root })).rejects.toThrow();
    await expect(applyMigrations(url, { root })).rejects.toThrow(/99990101000000_broken failed earlier/);
    await expect(applyMigrations(url)).rejects.toThrow(/failed earlier/);
  });
}

describe('parseDatabaseUrl', () => {
  it('resolves SQLite paths against the working directory', () => {
    expect(parseDatabaseUrl('file:./data/x.db')).toEqual({
      provider: 'sqlite',
      file: path.resolve(process.cwd(), 'data/x.db'),
    });
    expect(parseDatabaseUrl('file:/var/lib/x.db?mode=rwc')).toEqual({
      provider: 'sqlite',
      file: '/var/lib/x.db',
    });
  });

  it('recognises PostgreSQL URLs', () => {
    for (const url of ['postgres://u@h:5432/db', 'postgresql://u@h/db']) {
      expect(parseDatabaseUrl(url)).toEqual({ provider: 'postgres', url });
    }
  });

  it('says what it expects when the URL is neither', () => {
    expect(() => parseDatabaseUrl('mysql://u@h/db')).toThrow(/expected file:<path>.*postgres:\/\//);
  });
});

describe('SQLite migrations', () => {
  let db: TestDatabase;
  beforeAll(() => {
    // A nested, missing folder: applying must create it and the file.
    const file = path.join(tempDir(), 'nested', 'backpack.db');
    const withDb = <T>(run: (sqlite: Database.Database) => T): T => {
      const sqlite = new Database(file, { readonly: true });
      try {
        return run(sqlite);
      } finally {
        sqlite.close();
      }
    };
    db = {
      url: `file:${file}`,
      query: async <T>(sql: string) => withDb((sqlite) => sqlite.prepare(sql).all() as T[]),
      tableNames: async () =>
        withDb((sqlite) =>
          (
            sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
          ).map((row) => row.name),
        ),
    };
  });

  defineMigrationTests('sqlite', () => db);
});

describe.skipIf(POSTGRES_SERVER === undefined)('PostgreSQL migrations', () => {
  const server = POSTGRES_SERVER ?? '';
  const name = `backpack_test_${randomUUID().replaceAll('-', '')}`;
  let pool: pg.Pool;
  let db: TestDatabase;

  async function admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    await admin(`CREATE DATABASE "${name}"`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    pool = new pg.Pool({ connectionString: url.toString() });
    db = {
      url: url.toString(),
      shadowServerUrl: server,
      query: async <T>(sql: string) => (await pool.query(sql)).rows as T[],
      tableNames: async () =>
        (
          await pool.query<{ table_name: string }>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
          )
        ).rows.map((row) => row.table_name),
    };
  });

  afterAll(async () => {
    await pool?.end();
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });

  defineMigrationTests('postgres', () => db);

  it('leaves no shadow database behind', async () => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `prisma_shadow_${process.pid}_%`,
      ]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
