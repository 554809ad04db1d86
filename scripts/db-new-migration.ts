// Creates a migration for both providers from the difference between prisma/models.prisma and
// the existing migrations, in place of `prisma migrate dev --create-only`.
import { createMigration } from './lib/migration-authoring.ts';

const name = process.argv[2];
if (name === undefined || name.trim() === '') {
  console.error('Usage: npm run db:new-migration -- <name>   (e.g. add_badges)');
  process.exit(2);
}

// PostgreSQL migrations are computed on a temporary database created on this server.
const postgresUrl = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

try {
  const created = await createMigration(name, { postgresUrl, log: (msg) => console.log(msg) });
  if (created.sqlite === undefined && created.postgres === undefined) {
    console.log('No changes: the migrations already match the models.');
  } else {
    console.log('Review the SQL before committing it.');
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
