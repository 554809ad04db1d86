// Several instances starting at once against a new database (MIGRATE_ON_START in a container
// scaled to three, or `npm run db:migrate` beside a starting server): every run succeeds, each
// migration is applied once, and the history holds one row per migration.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { applyMigrations, listMigrations } from '../../src/db/migrations.ts';
import { createEmptyDatabase, postgresServerUrl } from '../support/databases.ts';
import { PROJECT_ROOT } from '../support/server.ts';

async function history(url: string): Promise<string[]> {
  const db = await openDatabase(url);
  try {
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name',
    );
    return rows.map((r) => r.migration_name);
  } finally {
    await db.close();
  }
}

/** `npm run db:migrate` in a process of its own. */
function migrateProcess(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/db-migrate.ts'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: url },
      stdio: 'ignore',
    });
    child.once('exit', resolve);
  });
}

for (const provider of ['sqlite', 'postgres'] as const) {
  const skip = provider === 'postgres' && !postgresServerUrl();
  describe.skipIf(skip)(`concurrent migrations [${provider}]`, () => {
    it('applies each migration once when several runs start together in one process', async () => {
      const { url, drop } = await createEmptyDatabase(provider);
      try {
        const runs = await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
        expect(runs.flatMap((r) => r.applied).sort()).toEqual([...listMigrations(provider)].sort());
        expect(await history(url)).toEqual([...listMigrations(provider)].sort());
      } finally {
        await drop();
      }
    });

    it('applies each migration once when three processes migrate together', async () => {
      const { url, drop } = await createEmptyDatabase(provider);
      try {
        expect(await Promise.all([migrateProcess(url), migrateProcess(url), migrateProcess(url)])).toEqual([
          0, 0, 0,
        ]);
        expect(await history(url)).toEqual([...listMigrations(provider)].sort());
        // A further run finds nothing to do and nothing marked as failed.
        expect(await applyMigrations(url)).toEqual({ applied: [] });
      } finally {
        await drop();
      }
    }, 60_000);
  });
}
