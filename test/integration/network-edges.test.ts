// The service's edges toward the network: which proxies it believes about the client address
// (and so whose rate limits a request spends), and how long a client may take to send a request.
// Neither involves the database beyond opening it, so they run on SQLite only.
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { Database } from '../../src/db/client.ts';
import { openDatabase } from '../../src/db/client.ts';
import { applyMigrations } from '../../src/db/migrations.ts';
import { testConfig } from '../support/app.ts';
import { createEmptyDatabase } from '../support/databases.ts';
import { freePort } from '../support/server.ts';

let db: Database;
let drop: () => Promise<void>;
beforeAll(async () => {
  const created = await createEmptyDatabase('sqlite');
  drop = created.drop;
  await applyMigrations(created.url);
  db = await openDatabase(created.url);
});
afterAll(async () => {
  await db?.close();
  await drop?.();
});

async function appWith(env: Record<string, string>): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(env), db });
  await app.ready();
  return app;
}

const from = (app: FastifyInstance, remoteAddress: string, forwardedFor?: string) =>
  app.inject({
    method: 'GET',
    url: '/v1/auth/oidc-providers',
    remoteAddress,
    headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
  });

describe('TRUST_PROXY', () => {
  it('believes X-Forwarded-For only from the listed proxies, so a client cannot pick its rate limit', async () => {
    const app = await appWith({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16', RATE_LIMIT_MAX: '3' });
    try {
      const direct = [];
      for (let i = 1; i <= 4; i++)
        direct.push((await from(app, '198.51.100.7', `203.0.113.${i}`)).statusCode);
      expect(direct).toEqual([200, 200, 200, 429]);

      const proxied = [];
      for (let i = 1; i <= 4; i++)
        proxied.push((await from(app, '10.0.0.1', `203.0.113.${10 + i}`)).statusCode);
      for (let i = 1; i <= 4; i++)
        proxied.push((await from(app, '192.168.4.5', `203.0.113.${20 + i}`)).statusCode);
      expect(proxied).toEqual(Array(8).fill(200));

      const one = [];
      for (let i = 1; i <= 4; i++) one.push((await from(app, '10.0.0.1', '203.0.113.99')).statusCode);
      expect(one).toEqual([200, 200, 200, 429]);
    } finally {
      await app.close();
    }
  });

  it('with a hop count, takes the address that many hops from the right', async () => {
    const app = await appWith({ TRUST_PROXY: '1', RATE_LIMIT_MAX: '2' });
    try {
      // The client's own forged entry is to the left of what the proxy appended: it is ignored.
      const statuses = [];
      for (let i = 1; i <= 3; i++)
        statuses.push((await from(app, '10.0.0.1', `1.2.3.${i}, 203.0.113.7`)).statusCode);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await app.close();
    }
  });

  it('by default believes no one', async () => {
    const app = await appWith({ RATE_LIMIT_MAX: '2' });
    try {
      const statuses = [];
      for (let i = 1; i <= 3; i++) statuses.push((await from(app, '10.0.0.1', `203.0.113.${i}`)).statusCode);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await app.close();
    }
  });
});

describe('request timeouts', () => {
  it('answers 408 and closes the connection of a client that sends its body too slowly', async () => {
    const app = await appWith({ REQUEST_TIMEOUT_MS: '1000' });
    const port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
    try {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (d) => {
        received += d.toString();
      });
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const started = Date.now();
      socket.write(
        'POST /v1/auth/email-links HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{',
      );
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write(' ');
      }, 200);
      const at = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 8000))]);
      clearInterval(drip);
      socket.destroy();
      expect(at, 'the connection was still open after 8 s').toBeGreaterThan(0);
      expect(at - started).toBeLessThan(3000);
      expect(received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await app.close();
    }
  });
});
