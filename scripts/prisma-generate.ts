// Generates the SQLite and the PostgreSQL clients. Runs as `postinstall`, so it must work where
// Prisma's CDN is unreachable: the CLI tries to download its native schema engine unless
// PRISMA_SCHEMA_ENGINE_BINARY names an existing file, and `generate` never runs that file.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function placeholderEngine(): string {
  const file = path.join(projectRoot, 'node_modules', '.cache', 'prisma', 'schema-engine-placeholder');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    // Should a CLI command ever run it, it says what to use instead of failing obscurely.
    writeFileSync(
      file,
      '#!/bin/sh\necho "No native Prisma schema engine here: use npm run db:migrate / db:new-migration." >&2\nexit 1\n',
    );
    chmodSync(file, 0o755);
  }
  return file;
}

const env = { ...process.env };
if (env.PRISMA_SCHEMA_ENGINE_BINARY === undefined || env.PRISMA_SCHEMA_ENGINE_BINARY === '') {
  env.PRISMA_SCHEMA_ENGINE_BINARY = placeholderEngine();
}

const prismaCli = path.join(
  path.dirname(createRequire(import.meta.url).resolve('prisma/package.json')),
  'build',
  'index.js',
);

for (const config of ['prisma/sqlite.config.ts', 'prisma/postgres.config.ts']) {
  const result = spawnSync(process.execPath, [prismaCli, 'generate', '--config', config], {
    cwd: projectRoot,
    env,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error(`prisma generate --config ${config} failed`);
    process.exit(result.status ?? 1);
  }
}
