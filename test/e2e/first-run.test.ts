// A first run as a developer meets it: `npm start` with no SMTP server shows the sign-in link
// on the console, marked, and nowhere in the log; the link opens the backpack's own sign-in
// page. In production the same configuration does not start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain, startServer } from '../support/server.ts';

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
      expect(signedIn.headers.get('set-cookie')).toContain('backpack_session=');
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    // Standard output carries the log; the secret went to standard error only.
    expect(stdout).toContain('mail written to outbox');
    expect(stdout).not.toContain(code);
  });

  it('does not start in production unless mail is configured or disabled', { timeout: 60_000 }, async () => {
    const run = runMain({ NODE_ENV: 'production', DATABASE_URL: `file:${join(dir, 'prod.db')}` });
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('SMTP_URL: expected an smtp:// or smtps:// URL when NODE_ENV=production');
  });
});
