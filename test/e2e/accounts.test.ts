// The accounts flows against the real server (src/main.ts on a port): mail leaves over SMTP to
// a small SMTP listener of the test's own, ID tokens are checked against a JWKS the test serves,
// the scheduler runs the retention job, and the log carries no address or secret.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../support/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'backpack-e2e-accounts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Just enough SMTP to receive messages: every DATA section is kept, verbatim. */
async function smtpSink(): Promise<{ server: Server; port: number; messages: string[] }> {
  const messages: string[] = [];
  const server = createTcpServer((socket) => {
    let buffer = '';
    let inData = false;
    socket.write('220 sink ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          messages.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 5);
          inData = false;
          socket.write('250 OK queued\r\n');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 sink\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
          return;
        } else socket.write('250 OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, messages };
}

function cookieOf(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  return set.split(';')[0] ?? '';
}

describe('accounts on the real server', () => {
  it('signs in by an e-mailed link over SMTP and by an OIDC ID token, runs retention, and logs no address', async () => {
    const smtp = await smtpSink();
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] };
    const idp = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const idpPort = (idp.address() as AddressInfo).port;

    const server = await startServer({
      DATABASE_URL: `file:${join(dir, 'backpack.db')}`,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      MAIL_FROM: 'Backpack <backpack@example.org>',
      OIDC_PROVIDERS: JSON.stringify([
        {
          name: 'idp',
          issuer: 'https://idp.test',
          jwksUri: `http://127.0.0.1:${idpPort}/jwks`,
          audiences: ['fe'],
        },
      ]),
    });
    const address = `e2e.${Date.now()}@example.org`;
    try {
      const origin = 'http://localhost:3000';
      const asked = await fetch(`${server.url}/v1/auth/email-links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ email: address }),
      });
      expect(asked.status).toBe(202);
      const message = smtp.messages.at(-1) ?? '';
      expect(message).toContain(`To: ${address}`);
      expect(message).toContain('From: Backpack <backpack@example.org>');
      // Quoted-printable may fold the long link; unfold it before reading the code.
      const unfolded = message.replace(/=\r\n/g, '').replace(/=3D/g, '=');
      const code = /#code=([A-Za-z0-9_-]{43})/.exec(unfolded)?.[1];
      expect(code).toBeDefined();

      const redeemed = await fetch(`${server.url}/v1/auth/email-sign-ins`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin, 'user-agent': 'curl/8.0' },
        body: JSON.stringify({ code, age: 30 }),
      });
      expect(redeemed.status).toBe(200);
      const cookie = cookieOf(redeemed);
      expect(redeemed.headers.get('set-cookie')).toMatch(/HttpOnly/i);
      const profile = await fetch(`${server.url}/v1/profile`, { headers: { cookie } });
      expect(((await profile.json()) as { addresses: { email: string }[] }).addresses[0]?.email).toBe(
        address,
      );

      const idToken = await new SignJWT({ email: address, email_verified: true })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('https://idp.test')
        .setAudience('fe')
        .setSubject('s1')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      const viaOidc = await fetch(`${server.url}/v1/auth/oidc-sign-ins`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ provider: 'idp', idToken }),
      });
      expect(viaOidc.status).toBe(200);
      expect(((await viaOidc.json()) as { accountCreated: boolean }).accountCreated).toBe(false);

      const sessions = await fetch(`${server.url}/v1/sessions`, { headers: { cookie } });
      expect(((await sessions.json()) as { items: unknown[] }).items).toHaveLength(2);
      const out = await fetch(`${server.url}/v1/sessions/current`, {
        method: 'DELETE',
        headers: { cookie, origin },
      });
      expect(out.status).toBe(204);
      expect((await fetch(`${server.url}/v1/profile`, { headers: { cookie } })).status).toBe(401);

      const deadline = Date.now() + 5000;
      while (!server.output().includes('accounts.retention') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
      await new Promise((resolve) => idp.close(resolve));
      await new Promise((resolve) => smtp.server.close(resolve));
    }
    const logs = server.output();
    expect(logs).toContain('"job":"accounts.retention"');
    expect(logs.toLowerCase()).not.toContain(address.toLowerCase());
    expect(logs).not.toMatch(/#code=/);
  });
});
