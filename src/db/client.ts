// The database client for the configured provider. Both generated clients have the same model
// API (the models avoid provider-specific types), so the rest of the code is written against
// one type, `Db`, whichever provider runs underneath.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaClient as PostgresClient } from '../generated/prisma-postgres/client.ts';
import { PrismaClient as SqliteClient } from '../generated/prisma-sqlite/client.ts';
import { type Erasure, postgresErasure, sqliteErasure } from './erasure.ts';
import { openRawReader, type RawReader } from './raw.ts';
import { type RawWriter, rawWriter } from './raw-writes.ts';
import { type Provider, parseDatabaseUrl } from './url.ts';

export type Db = SqliteClient;

export interface Database {
  provider: Provider;
  prisma: Db;
  /** Prepared hand-written reads for hot paths; everything else goes through `prisma`. */
  raw: RawReader;
  /** Hand-written writes for hot paths, through `prisma`'s connection. */
  writer: RawWriter;
  /** After a deletion of personal data: makes the database files forget the deleted bytes. */
  erasure: Erasure;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL pool size per process. */
  poolSize?: number;
  /** Give up connecting to PostgreSQL after this long, so that /readyz answers promptly. */
  connectTimeoutMs?: number;
  /** Told when deleted rows could not be erased from the database files. */
  onErasureError?: (err: unknown) => void;
}

/**
 * Settings of every SQLite connection the client opens (they are per connection, so they are
 * applied as each one opens, not once after the client starts): WAL lets readers proceed during
 * a write; foreign keys are off by default in SQLite; `secure_delete` zeroes deleted content
 * as it is freed, so a deleted badge or account leaves no bytes in the file's free space.
 */
const SQLITE_CONNECTION_SETTINGS = `
  PRAGMA journal_mode = WAL;
  PRAGMA foreign_keys = ON;
  PRAGMA synchronous = NORMAL;
  PRAGMA secure_delete = ON;
`;

function withSettings(factory: SqlDriverAdapterFactory, settings: string): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const adapter = await factory.connect();
      await adapter.executeScript(settings);
      return adapter;
    },
  };
}

export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  const parsed = parseDatabaseUrl(url);
  if (parsed.provider === 'sqlite') {
    mkdirSync(dirname(parsed.file), { recursive: true });
    // `timeout` is better-sqlite3's busy timeout: a writer waits for another instead of failing.
    const adapter = withSettings(
      new PrismaBetterSqlite3({ url: parsed.file, timeout: 5000 }),
      SQLITE_CONNECTION_SETTINGS,
    );
    const prisma = new SqliteClient({ adapter });
    // Connect now, so that the file is in WAL mode before the reader opens it.
    await prisma.$connect();
    const erasure = sqliteErasure(parsed.file, { onError: options.onErasureError });
    return database('sqlite', prisma, openRawReader(url), erasure);
  }
  const adapter = new PrismaPg({
    connectionString: parsed.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    idleTimeoutMillis: 30_000,
  });
  const prisma = new PostgresClient({ adapter }) as unknown as Db;
  const raw = openRawReader(url, {
    poolSize: Math.max(2, Math.ceil((options.poolSize ?? 10) / 2)),
    connectTimeoutMs: options.connectTimeoutMs ?? 3000,
  });
  return database('postgres', prisma, raw, postgresErasure(parsed.url, { onError: options.onErasureError }));
}

function database(provider: Provider, prisma: Db, raw: RawReader, erasure: Erasure): Database {
  return {
    provider,
    prisma,
    raw,
    writer: rawWriter(prisma, provider),
    erasure,
    ping: async () => {
      await prisma.$queryRawUnsafe('SELECT 1');
    },
    close: async () => {
      await erasure.close();
      await raw.close();
      await prisma.$disconnect();
    },
  };
}
