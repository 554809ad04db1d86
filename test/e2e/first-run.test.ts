// A first run as a developer meets it: `npm start` with no SMTP server shows the sign-in link
// on the console, marked, and nowhere in the log; the link opens the backpack's own sign-in
// page; the README's quick start then stores a first badge. In production the same
// configuration does not start.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runMain, startServer } from '../support/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'backpack-first-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a first run without SMTP', () => {
  it('prints the sign-in link on the console only, and the link reaches a session', {
    timeout: 90_000,
  }, async () => {
    const server = await startServer({ DATABASE_URL: `file:${join(dir, 'backpack.db')}` });
    let stdout = '';
    server.child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    let code = '';
    try {
      const asked = await fetch(`${server.url}/v1/auth/email-links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.org' }),
      });
      expect(asked.status).toBe(202);
      let link: string | undefined;
      for (let i = 0; i < 50 && !link; i++) {
        link = /MAIL NOT SENT[\s\S]*?(http\S+#code=([A-Za-z0-9_-]{43}))/.exec(server.output())?.[1];
        if (!link) await new Promise((r) => setTimeout(r, 100));
      }
      expect(link).toBeDefined();
      code = (link as string).split('#code=')[1] as string;
      expect(new URL(link as string).pathname).toBe('/sign-in');
      const page = await fetch(`${server.url}/sign-in`);
      expect(page.status).toBe(200);
      const signedIn = await fetch(`${server.url}/v1/auth/email-sign-ins`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, age: 30 }),
      });
      expect(signedIn.status).toBe(200);
      const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
      expect(cookie).toMatch(/^backpack_session=/);

      // The quick start's first badge: a credential the backpack verifies with no network.
      const body = execFileSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/example-badge.ts', 'ada@example.org'],
        {
          cwd: PROJECT_ROOT,
          encoding: 'utf8',
        },
      );
      const added = await fetch(`${server.url}/v1/badges`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body,
      });
      expect(added.status, await added.clone().text()).toBe(201);
      const list = (await (await fetch(`${server.url}/v1/badges`, { headers: { cookie } })).json()) as {
        items: { name: string }[];
      };
      expect(list.items.map((b) => b.name)).toEqual(['First badge']);
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    // Standard output carries the log; the secret went to standard error only.
    expect(stdout).toContain('mail written to outbox');
    expect(stdout).not.toContain(code);
  });

  it('does not start in production unless mail and the holder key-encryption key are configured', {
    timeout: 60_000,
  }, async () => {
    const run = runMain({ NODE_ENV: 'production', DATABASE_URL: `file:${join(dir, 'prod.db')}` });
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('SMTP_URL: expected an smtp:// or smtps:// URL when NODE_ENV=production');
    expect(run.output()).toContain(
      'HOLDER_KEY_ENCRYPTION_KEY: expected base64 of exactly 32 bytes when NODE_ENV=production',
    );
  });
});
