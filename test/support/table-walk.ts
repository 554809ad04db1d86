// Reads every row of every table and reports where any of the given strings (an earner's id,
// their addresses) still appears. Deletion tests of every module use it to prove that nothing
// personal is left behind, without knowing which tables exist.
import type { Database } from '../../src/db/client.ts';

export interface Trace {
  table: string;
  needle: string;
  row: string;
}

async function tableNames(db: Database): Promise<string[]> {
  if (db.provider === 'sqlite') {
    const rows = await db.prisma.$queryRawUnsafe<{ name: string }[]>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    return rows.map((r) => r.name);
  }
  const rows = await db.prisma.$queryRawUnsafe<{ name: string }[]>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  return rows.map((r) => r.name);
}

function textOf(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
      return Buffer.from((v as { data: number[] }).data).toString('latin1');
    }
    return v;
  });
}

/** Every row, in every table, that contains one of the needles (compared without case). */
export async function findTraces(db: Database, needles: string[]): Promise<Trace[]> {
  const wanted = needles.filter((n) => n.length > 0).map((n) => n.toLowerCase());
  const traces: Trace[] = [];
  for (const table of await tableNames(db)) {
    const rows = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM "${table}"`);
    for (const row of rows) {
      const text = textOf(row).toLowerCase();
      for (const needle of wanted) {
        if (text.includes(needle)) traces.push({ table, needle, row: text.slice(0, 300) });
      }
    }
  }
  return traces;
}

/** The number of rows per table, to show that a refused request changed nothing. */
export async function rowCounts(db: Database): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await tableNames(db)) {
    const rows = await db.prisma.$queryRawUnsafe<{ n: number | bigint }[]>(
      `SELECT COUNT(*) AS n FROM "${table}"`,
    );
    counts[table] = Number(rows[0]?.n ?? 0);
  }
  return counts;
}
