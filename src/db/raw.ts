// Hand-written reads for the hot paths (resolving a session, checking a cached list is still
// current). Prisma's query compiler costs more than these one-row lookups themselves; here a
// statement is prepared once and reused. Writes always go through Prisma.
//
// SQL is written once for both providers: `?` placeholders and double-quoted identifiers.
import { createHash } from 'node:crypto';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { parseDatabaseUrl } from './url.ts';

export interface RawReader {
  get<T>(sql: string, params: unknown[]): Promise<T | undefined>;
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * A date as a parameter of a prepared read, compared with stored dates the same way on both
 * databases: SQLite keeps Prisma's ISO text (`...T12:00:00.000+00:00`, compared as text), and
 * PostgreSQL's `timestamp(3)` columns hold UTC, which this text is read as.
 */
export function timeParam(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

/** Dates come back as ISO strings from SQLite and as Date from PostgreSQL; this takes both. */
export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

function sqliteReader(file: string): RawReader {
  // A connection of its own: in WAL mode it reads the last committed state without waiting
  // for the writer, and its prepared statements live as long as it does.
  const db = new Sqlite(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  const statements = new Map<string, Sqlite.Statement>();
  const statement = (sql: string) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  return {
    get: async <T>(sql: string, params: unknown[]) => statement(sql).get(...params) as T | undefined,
    all: async <T>(sql: string, params: unknown[]) => statement(sql).all(...params) as T[],
    close: async () => {
      db.close();
    },
  };
}

const TIMESTAMP_OID = 1114;

function postgresReader(url: string, poolSize: number, connectTimeoutMs: number): RawReader {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    // Prisma stores DateTime as `timestamp(3)` in UTC; read it as UTC, whatever the process TZ.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === TIMESTAMP_OID
          ? (value: string) => new Date(`${value.replace(' ', 'T')}Z`)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that dies (the server restarts) must not take the process with it.
  pool.on('error', () => undefined);
  const names = new Map<string, { name: string; text: string }>();
  const prepared = (sql: string) => {
    let p = names.get(sql);
    if (!p) {
      let n = 0;
      const text = sql.replace(/\?/g, () => `$${++n}`);
      p = { name: `r_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`, text };
      names.set(sql, p);
    }
    return p;
  };
  return {
    get: async <T>(sql: string, params: unknown[]) =>
      (await pool.query({ ...prepared(sql), values: params })).rows[0] as T | undefined,
    all: async <T>(sql: string, params: unknown[]) =>
      (await pool.query({ ...prepared(sql), values: params })).rows as T[],
    close: () => pool.end(),
  };
}

export function openRawReader(
  url: string,
  options: { poolSize?: number; connectTimeoutMs?: number } = {},
): RawReader {
  const target = parseDatabaseUrl(url);
  return target.provider === 'sqlite'
    ? sqliteReader(target.file)
    : postgresReader(target.url, options.poolSize ?? 4, options.connectTimeoutMs ?? 3000);
}
