// Decides once per run whether the PostgreSQL suite runs. TEST_POSTGRES_URL names the server
// (a database on it to connect to for CREATE/DROP DATABASE); without it the local default is
// tried. REQUIRE_POSTGRES=1 (set by CI) turns "unreachable" into a failure instead of a skip.
import pg from 'pg';
import type { TestProject } from 'vitest/node';

const LOCAL_DEFAULT = 'postgres://postgres@127.0.0.1:5432/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
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
  const notice = ok
    ? `PostgreSQL suite: ON (${url.replace(/\/\/[^@]*@/, '//')})`
    : `PostgreSQL suite: SKIPPED (no server at ${url}; set TEST_POSTGRES_URL)`;
  console.log(`\n${notice}\n`);
  return () => {
    console.log(`\n${notice}\n`);
  };
}
