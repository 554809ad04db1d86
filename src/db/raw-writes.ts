// Hand-written writes for hot paths (storing a pushed badge): statements that Prisma runs as
// given, without compiling a query per call, in one transaction. They go through Prisma's own
// connection on purpose: SQLite has one writer, and a second connection in the same process
// would wait for it in a busy loop that blocks the very event loop Prisma needs to finish.
//
// SQL is written once for both providers, like the prepared reads: `?` placeholders and
// double-quoted identifiers. Dates and bytes are passed as Date and Uint8Array, so they are
// stored exactly as Prisma stores them.
// The client type `Db` names in client.ts, taken from where it is generated (client.ts builds a
// writer, so this file does not import it back).
import type { PrismaClient as Db } from '../generated/prisma-sqlite/client.ts';
import type { Provider } from './url.ts';

export type RawStatement = ReturnType<Db['$executeRawUnsafe']>;

export interface RawWriter {
  /** A statement, to run on its own (await it) or with others in `transaction`. */
  statement(sql: string, params: unknown[]): RawStatement;
  /** Runs the statements in order in one transaction; the counts of rows each changed. */
  transaction(statements: RawStatement[]): Promise<number[]>;
}

export function rawWriter(prisma: Db, provider: Provider): RawWriter {
  const texts = new Map<string, string>();
  const text = (sql: string) => {
    if (provider === 'sqlite') return sql;
    let t = texts.get(sql);
    if (t === undefined) {
      let n = 0;
      t = sql.replace(/\?/g, () => `$${++n}`);
      texts.set(sql, t);
    }
    return t;
  };
  return {
    statement: (sql, params) => prisma.$executeRawUnsafe(text(sql), ...params),
    transaction: (statements) => prisma.$transaction(statements),
  };
}
