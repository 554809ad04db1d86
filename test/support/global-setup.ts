// Decides once per run whether the PostgreSQL suite runs. TEST_POSTGRES_URL names the server
// (a database on it to connect to for CREATE/DROP DATABASE); without it the local default is
// tried. REQUIRE_POSTGRES=1 (set by CI) turns "unreachable" into a failure instead of a skip.
// The migrations are applied once per run, to a template on each database, which every suite
// then copies instead of migrating its own database.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../../src/db/migrations.ts';

const LOCAL_DEFAULT = 'postgres://postgres@127.0.0.1:5432/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
    /** A migrated SQLite file that suites copy. */
    sqliteTemplate: string;
    /** A migrated PostgreSQL database that suites create theirs from; null without a server. */
    postgresTemplate: string | null;
  }
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
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

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const required = process.env.REQUIRE_POSTGRES === '1';
  const url = process.env.TEST_POSTGRES_URL || LOCAL_DEFAULT;
  const ok = await reachable(url);
  if (!ok && required) {
    throw new Error(
      `REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at ${url}: the PostgreSQL suite would be skipped.`,
    );
  }
  project.provide('postgresUrl', ok ? url : null);

  const templateDir = mkdtempSync(join(tmpdir(), 'backpack-template-'));
  const sqliteTemplate = join(templateDir, 'template.db');
  await applyMigrations(`file:${sqliteTemplate}`);
  // Everything in the one file, so that a copy of it is the whole database.
  const file = new BetterSqlite3(sqliteTemplate);
  file.pragma('journal_mode = DELETE');
  file.close();
  project.provide('sqliteTemplate', sqliteTemplate);
  const postgresTemplate = ok ? `backpack_template_${randomBytes(6).toString('hex')}` : null;
  if (postgresTemplate) {
    await adminQuery(url, `CREATE DATABASE ${postgresTemplate}`);
    await applyMigrations(withDatabase(url, postgresTemplate));
  }
  project.provide('postgresTemplate', postgresTemplate);

  const notice = ok
    ? `PostgreSQL suite: ON (${url.replace(/\/\/[^@]*@/, '//')})`
    : `PostgreSQL suite: SKIPPED (no server at ${url}; set TEST_POSTGRES_URL)`;
  console.log(`\n${notice}\n`);
  return async () => {
    rmSync(templateDir, { recursive: true, force: true });
    if (postgresTemplate) {
      await adminQuery(url, `DROP DATABASE IF EXISTS ${postgresTemplate} WITH (FORCE)`);
    }
    console.log(`\n${notice}\n`);
  };
}
