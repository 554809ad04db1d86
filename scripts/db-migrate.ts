// Applies pending migrations to DATABASE_URL (SQLite by default), in place of
// `prisma migrate deploy`, which needs a native engine that cannot be downloaded here.
import { applyMigrations, parseDatabaseUrl } from '../src/db/migrations.ts';

const databaseUrl = process.env.DATABASE_URL ?? 'file:./data/backpack.db';

function describeTarget(url: string): string {
  const target = parseDatabaseUrl(url);
  if (target.provider === 'sqlite') return `SQLite ${target.file}`;
  const parsed = new URL(target.url);
  // The URL may carry a password; it has no place in a terminal or a CI log.
  if (parsed.password !== '') parsed.password = '***';
  return `PostgreSQL ${parsed.toString()}`;
}

try {
  console.log(`Migrating ${describeTarget(databaseUrl)}`);
  const { applied } = await applyMigrations(databaseUrl, { log: (msg) => console.log(`  ${msg}`) });
  console.log(
    applied.length === 0
      ? 'Nothing to apply: the database is up to date.'
      : `Applied ${applied.length} migration(s).`,
  );
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
