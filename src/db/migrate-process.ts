// Applies pending migrations in a process of its own: the schema engine is WebAssembly whose
// memory is never handed back, so the server runs it in a child that exits when done.
// Reads DATABASE_URL; reports { applied } or { error } to the parent over IPC.
import { fork } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMigrations } from './migrations.ts';

type Report = { applied: string[] } | { error: string };

/** Runs the migrations in a child process; resolves with what was applied. */
export function migrateInChildProcess(databaseUrl: string): Promise<string[]> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = fork(self, [], {
      env: { ...process.env, DATABASE_URL: databaseUrl, BACKPACK_MIGRATE_CHILD: '1' },
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: Report | undefined;
    child.on('message', (message) => {
      report = message as Report;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (report && 'applied' in report) resolve(report.applied);
      else
        reject(
          new Error(report && 'error' in report ? report.error : `migration process exited with ${code}`),
        );
    });
  });
}

// Started by migrateInChildProcess: the same file, told apart by its environment.
if (process.env.BACKPACK_MIGRATE_CHILD === '1' && process.send && extname(fileURLToPath(import.meta.url))) {
  const send = (report: Report) =>
    new Promise<void>((resolve) => process.send?.(report, undefined, undefined, () => resolve()));
  try {
    const { applied } = await applyMigrations(String(process.env.DATABASE_URL));
    await send({ applied });
    process.exit(0);
  } catch (err) {
    await send({ error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
}
