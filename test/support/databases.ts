// Runs a suite once per database: SQLite always, PostgreSQL when the run has a server. Each
// suite gets its own freshly migrated database (a temp file, or a randomly named PostgreSQL
// database dropped afterwards), so no test depends on another's state. Suites copy the
// template the global setup migrated once per run, which is much faster than migrating.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  url: string;
  db: Database;
}

export function postgresServerUrl(): string | null {
  return inject('postgresUrl');
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A new empty database URL for the provider, and a function that removes it. */
export async function createEmptyDatabase(
  name: 'sqlite' | 'postgres',
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'backpack-test-'));
    return {
      url: `file:${join(dir, 'test.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const server = postgresServerUrl();
  if (!server) throw new Error('no PostgreSQL server for this run');
  const database = `backpack_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  return {
    url: withDatabase(server, database),
    drop: async () => {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A new database for the provider, migrated (a copy of the run's template), and its removal. */
export async function createMigratedDatabase(
  name: 'sqlite' | 'postgres',
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'backpack-test-'));
    const file = join(dir, 'test.db');
    copyFileSync(inject('sqliteTemplate'), file);
    return { url: `file:${file}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const server = postgresServerUrl();
  const template = inject('postgresTemplate');
  if (!server || !template) throw new Error('no PostgreSQL server for this run');
  const database = `backpack_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database} TEMPLATE ${template}`);
  await admin.end();
  return {
    url: withDatabase(server, database),
    drop: async () => {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * `describe` once per database. `fn` receives a getter: the database is created in beforeAll,
 * so read it inside hooks and tests, not while collecting.
 */
export function describeEachDatabase(title: string, fn: (current: () => TestDatabase) => void): void {
  for (const name of ['sqlite', 'postgres'] as const) {
    const skip = name === 'postgres' && !postgresServerUrl();
    describe.skipIf(skip)(`${title} [${name}]`, () => {
      let current: TestDatabase | undefined;
      let drop: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        const created = await createMigratedDatabase(name);
        drop = created.drop;
        current = { name, url: created.url, db: await openDatabase(created.url, { poolSize: 4 }) };
      });
      afterAll(async () => {
        await current?.db.close();
        await drop?.();
      });
      fn(() => {
        if (!current) throw new Error('the database is created in beforeAll; read it inside hooks or tests');
        return current;
      });
    });
  }
}
