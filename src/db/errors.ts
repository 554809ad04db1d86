// What a database error means, whichever database and driver raised it: a conflict with a
// row that exists (or no longer does), a missing row, input the database cannot store, a full
// disk, or a database out of reach. Callers decide what to do; the HTTP error handler answers
// each condition as the problem code of the same name.

/** The conditions a database error can mean; each is also a problem code. */
export type DatabaseCondition =
  | 'conflict'
  | 'not_found'
  | 'validation_failed'
  | 'storage_full'
  | 'database_unavailable';

/** Errors that mean the database cannot be reached right now (as opposed to a bad query). */
const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'DatabaseAccessDenied',
  'ConnectionClosed',
  'TlsConnectionError',
  'AuthenticationFailed',
  'TooManyConnections',
  'SocketTimeout',
]);
const UNAVAILABLE_CODES = new Set([
  'P1001',
  'P1002',
  'P1003',
  'P1008',
  'P1010',
  'P1017',
  'P2024',
  // No connection for a transaction within its wait (a pool busy with other transactions).
  'P2028',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '57P01',
  '57P03',
  '53300',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
]);

// node-postgres reports a connection lost mid-query as a plain Error with one of these messages.
const CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Connection terminated due to connection timeout)/;

/**
 * Every object that may describe a database failure: the error, its `cause` chain, and the
 * driver adapter's error that Prisma keeps in `meta.driverAdapterError`.
 */
function errorParts(err: unknown): Record<string, unknown>[] {
  const parts: Record<string, unknown>[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && parts.length < 12) {
    const e = queue.shift();
    if (!e || typeof e !== 'object') continue;
    const part = e as Record<string, unknown>;
    parts.push(part);
    queue.push(part.cause);
    const meta = part.meta as Record<string, unknown> | undefined;
    if (meta && typeof meta === 'object') queue.push(meta.driverAdapterError);
  }
  return parts;
}

/** Maps a database error to the condition it means, or null when it is not a known one. */
export function classifyDatabaseError(err: unknown): DatabaseCondition | null {
  for (const e of errorParts(err)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const original = typeof e.originalCode === 'string' ? e.originalCode : undefined;
    const kind = typeof e.kind === 'string' ? e.kind : undefined;
    if (code === 'P2002' || kind === 'UniqueConstraintViolation' || code === '23505') return 'conflict';
    // A row this write refers to was deleted meanwhile (an account deleted mid-request).
    if (
      code === 'P2003' ||
      kind === 'ForeignKeyConstraintViolation' ||
      code === '23503' ||
      original === 'SQLITE_CONSTRAINT_FOREIGNKEY'
    ) {
      return 'conflict';
    }
    if (code === 'P2025') return 'not_found';
    // Text PostgreSQL cannot store (a NUL that got past validation): the client's input.
    if (code === '22021' || code === '22P05') return 'validation_failed';
    if (original === 'SQLITE_FULL' || code === 'SQLITE_FULL' || code === '53100') return 'storage_full';
    if (
      (code && UNAVAILABLE_CODES.has(code)) ||
      (original && UNAVAILABLE_CODES.has(original)) ||
      (kind && UNAVAILABLE_KINDS.has(kind))
    ) {
      return 'database_unavailable';
    }
    if (e.name === 'PrismaClientInitializationError' || e.name === 'AggregateError')
      return 'database_unavailable';
    if (typeof e.message === 'string' && CONNECTION_LOST.test(e.message)) return 'database_unavailable';
  }
  return null;
}
