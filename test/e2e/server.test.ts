import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain, startServer } from '../support/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'backpack-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the real server', () => {
  it('creates and migrates the SQLite file, serves over HTTP, and stops cleanly on SIGTERM', async () => {
    const file = join(dir, 'nested', 'backpack.db');
    const server = await startServer({ DATABASE_URL: `file:${file}` });
    try {
      expect(existsSync(file)).toBe(true);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ready',
        database: { provider: 'sqlite', pendingMigrations: [] },
      });
      const contract = await fetch(`${server.url}/openapi.json`);
      expect(((await contract.json()) as { openapi: string }).openapi).toBe('3.1.0');
      const docs = await fetch(`${server.url}/docs/`);
      expect(docs.status).toBe(200);
      const missing = await fetch(`${server.url}/nowhere`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    const logs = server.output();
    expect(logs).toContain('"reqId"');
    expect(logs).not.toContain('127.0.0.1"');
  });

  it('stops at start with a message naming each bad setting', async () => {
    const run = runMain({ DATABASE_URL: 'mysql://nope', PORT: 'eighty' });
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('DATABASE_URL: expected file:<path>, postgres://... or postgresql://...');
    expect(run.output()).toContain('PORT: expected an integer from 0 to 65535');
    expect(run.output()).not.toMatch(/\n\s+at /);
  });

  it('stops at start with a clear message when the database cannot be migrated', async () => {
    const run = runMain({ DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none', MIGRATE_ON_START: 'true' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('Cannot migrate the database at DATABASE_URL');
    expect(run.output()).not.toMatch(/\n\s+at /);
  });
});
