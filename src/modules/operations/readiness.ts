import type { Database } from '../../db/client.ts';
import { listMigrations } from '../../db/migrations.ts';

interface AppliedRow {
  migration_name: string;
}

/** Migrations shipped with this version that the database has not applied (or not finished). */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const shipped = listMigrations(db.provider);
  let rows: AppliedRow[];
  try {
    rows = await db.prisma.$queryRawUnsafe<AppliedRow[]>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
  } catch (err) {
    // A reachable database without the bookkeeping table has had no migration at all.
    if (/_prisma_migrations/.test(String((err as Error).message))) return shipped;
    throw err;
  }
  const applied = new Set(rows.map((r) => r.migration_name));
  return shipped.filter((name) => !applied.has(name));
}
