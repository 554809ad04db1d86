// Searches what a database has on disk, not what it answers to queries: deleted rows are
// invisible to SELECT but may still sit in the files. SQLite: the main file and its
// write-ahead log. PostgreSQL: every relation file of the test database (tables, indexes,
// TOAST) when this process can read the data directory; otherwise every page of those
// relations through `pageinspect`'s `get_raw_page` (free space included), when the extension
// is installed. Which method ran is reported, so that a test can say what it proved.
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { parseDatabaseUrl } from '../../src/db/url.ts';
import type { TestDatabase } from './databases.ts';

export interface FileSearch {
  method: 'sqlite-files' | 'postgres-relation-files' | 'postgres-pageinspect';
  /** `needle in where` for each needle found. */
  hits: string[];
}

function search(haystack: Buffer, where: string, needles: string[], hits: string[]): void {
  const lower = Buffer.from(haystack.toString('latin1').toLowerCase(), 'latin1');
  for (const needle of needles) {
    if (lower.includes(Buffer.from(needle.toLowerCase(), 'utf8'))) hits.push(`${needle} in ${where}`);
  }
}

async function pgClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

const RELATIONS = `
  SELECT c.oid::regclass::text AS name, pg_relation_filepath(c.oid) AS path,
         pg_relation_size(c.oid) / current_setting('block_size')::int AS blocks
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'i', 't') AND c.relpersistence = 'p'
    AND (n.nspname = current_schema()
         OR c.oid IN (SELECT reltoastrelid FROM pg_class t JOIN pg_namespace tn ON tn.oid = t.relnamespace
                      WHERE tn.nspname = current_schema() AND t.reltoastrelid <> 0)
         OR c.oid IN (SELECT i.indexrelid FROM pg_index i JOIN pg_class t ON t.reltoastrelid = i.indrelid
                      JOIN pg_namespace tn ON tn.oid = t.relnamespace WHERE tn.nspname = current_schema()))`;

/** Whether the data directory can be read by this process (it runs as the server's owner or root). */
function readable(dir: string): boolean {
  try {
    accessSync(dir, constants.R_OK | constants.X_OK);
    readdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

export async function searchDatabaseFiles(database: TestDatabase, needles: string[]): Promise<FileSearch> {
  const hits: string[] = [];
  const target = parseDatabaseUrl(database.url);
  if (target.provider === 'sqlite') {
    for (const file of [target.file, `${target.file}-wal`]) {
      if (existsSync(file)) search(readFileSync(file), basename(file), needles, hits);
    }
    return { method: 'sqlite-files', hits };
  }
  const client = await pgClient(target.url);
  try {
    // Dirty pages reach the files at a checkpoint; after one, the files are what is kept.
    await client.query('CHECKPOINT');
    const dataDirectory =
      (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]?.data_directory ?? '';
    const relations = (await client.query<{ name: string; path: string; blocks: number }>(RELATIONS)).rows;
    if (readable(dataDirectory)) {
      for (const relation of relations) {
        const first = join(dataDirectory, relation.path);
        // Segments of a relation: the path itself, then path.1, path.2, ... (1 GB each).
        const segments = existsSync(dirname(first))
          ? readdirSync(dirname(first)).filter(
              (f) => f === basename(first) || new RegExp(`^${basename(first)}\\.\\d+$`).test(f),
            )
          : [];
        for (const segment of segments) {
          search(readFileSync(join(dirname(first), segment)), relation.name, needles, hits);
        }
      }
      return { method: 'postgres-relation-files', hits };
    }
    await client.query('CREATE EXTENSION IF NOT EXISTS pageinspect');
    for (const relation of relations) {
      for (let block = 0; block < Number(relation.blocks); block++) {
        const page = await client.query<{ p: Buffer }>('SELECT get_raw_page($1, $2) AS p', [
          relation.name,
          block,
        ]);
        const bytes = page.rows[0]?.p;
        if (bytes) search(bytes, relation.name, needles, hits);
      }
    }
    return { method: 'postgres-pageinspect', hits };
  } finally {
    await client.end();
  }
}
