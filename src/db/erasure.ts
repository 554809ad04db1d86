// Deleted rows must not survive in the database files. Deleting a row only marks its space
// free: SQLite keeps the old bytes in the page and in the write-ahead log, PostgreSQL keeps
// the dead tuple in its page until the space is reused. The write connection runs SQLite with
// `secure_delete` (freed space is zeroed as it is freed); what is left is done here, after the
// deleting transaction has committed:
// - SQLite: a TRUNCATE checkpoint copies the zeroed pages into the main file and empties the
//   write-ahead log, which still holds the pages as they were before the deletion.
// - PostgreSQL: `VACUUM FULL` of each table the deletion touched rewrites it (and its indexes
//   and TOAST table) into new files without the dead tuples; a plain VACUUM only marks their
//   space reusable and leaves their bytes in place. VACUUM cannot run in a transaction, and
//   VACUUM FULL locks its table while it rewrites it, so it runs on a connection of its own
//   with a short lock timeout (never queueing every other query behind it), one table at a time.
//
// Requests are coalesced: while an erasure runs, later requests are merged into the next run.
// A table that cannot be locked or checkpointed now is tried again a little later.
import Sqlite from 'better-sqlite3';
import pg from 'pg';

export interface Erasure {
  /** Rows were deleted from these tables (SQLite ignores the names: it erases the whole log). */
  request(tables: readonly string[]): void;
  /**
   * Resolves when every requested erasure has run; rejects with the first failure since the
   * last call when one gave up (the failure has also gone to `onError`).
   */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface ErasureOptions {
  /** Called when an erasure fails for good; the rows are gone, their bytes may not be yet. */
  onError?: (err: unknown) => void;
  /** How many times a busy checkpoint or a locked table is tried before giving up. */
  attempts?: number;
  retryDelayMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Step = (tables: Set<string>) => Promise<Set<string>>;

/** Runs `step` on the pending tables, one run at a time; what it hands back is retried. */
function coalesced(step: Step, options: ErasureOptions): Omit<Erasure, 'close'> {
  const attempts = options.attempts ?? 50;
  const retryDelayMs = options.retryDelayMs ?? 100;
  let pending = new Set<string>();
  let requested = false;
  let running: Promise<void> | null = null;
  let failures: unknown[] = [];
  const fail = (err: unknown) => {
    failures.push(err);
    options.onError?.(err);
  };

  const run = async () => {
    let tries = 0;
    while (requested) {
      requested = false;
      const tables = pending;
      pending = new Set();
      let left: Set<string>;
      try {
        left = await step(tables);
      } catch (err) {
        fail(err);
        left = new Set();
      }
      if (left.size > 0) {
        tries++;
        if (tries >= attempts) {
          fail(new Error(`erasure gave up after ${tries} tries: ${[...left].join(', ')}`));
          continue;
        }
        for (const table of left) pending.add(table);
        requested = true;
        await sleep(retryDelayMs);
      } else {
        tries = 0;
      }
    }
  };

  return {
    request(tables) {
      for (const table of tables) pending.add(table);
      requested = true;
      if (!running) {
        running = run().finally(() => {
          running = null;
        });
      }
    },
    async settled() {
      while (running) await running;
      const [first] = failures;
      failures = [];
      if (first !== undefined) throw first;
    },
  };
}

/** The marker a SQLite step hands back when its checkpoint must be tried again. */
const AGAIN = '';

export function sqliteErasure(file: string, options: ErasureOptions = {}): Erasure {
  let db: Sqlite.Database | null = null;
  const connection = () => {
    // Its own connection with no busy timeout: better-sqlite3 waits synchronously, and waiting
    // here would stop the event loop that must finish the transaction it waits for.
    db ??= new Sqlite(file, { fileMustExist: true, timeout: 0 });
    return db;
  };
  const erasure = coalesced(async () => {
    const [result] = connection().pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    return result && result.busy !== 0 ? new Set([AGAIN]) : new Set();
  }, options);
  return {
    ...erasure,
    close: async () => {
      await erasure.settled().catch(() => undefined);
      db?.close();
      db = null;
    },
  };
}

const LOCK_NOT_AVAILABLE = '55P03';

export function postgresErasure(url: string, options: ErasureOptions = {}): Erasure {
  const erasure = coalesced(
    async (tables) => {
      const left = new Set<string>();
      if (tables.size === 0) return left;
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      // VERBOSE reports, in the detail of its summary, how many dead row versions could not be
      // removed yet because a transaction older than the deletion (an ANALYZE, a long read)
      // may still see them; that number comes first in every translation of the message. Such a
      // table is rewritten again once that transaction is over.
      let kept = 0;
      client.on('notice', (notice) => {
        const count = notice.detail ? /\d+/.exec(notice.detail) : null;
        if (count) kept += Number(count[0]);
      });
      await client.connect();
      try {
        // Waiting for a lock past deadlock_timeout (1 s by default) makes autovacuum give way.
        await client.query(`SET lock_timeout = '1500ms'`);
        for (const table of tables) {
          kept = 0;
          try {
            await client.query(`VACUUM (FULL, VERBOSE) ${quoteIdentifier(table)}`);
            if (kept > 0) left.add(table);
          } catch (err) {
            if ((err as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw err;
            left.add(table);
          }
        }
      } finally {
        await client.end().catch(() => undefined);
      }
      return left;
    },
    { attempts: 100, retryDelayMs: 200, ...options },
  );
  return { ...erasure, close: () => erasure.settled().catch(() => undefined) };
}

function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a table name: ${name}`);
  return `"${name}"`;
}
