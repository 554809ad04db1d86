import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { testApp } from '../support/app.ts';
import { createEmptyDatabase, describeEachDatabase } from '../support/databases.ts';

function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown },
  status: number,
  code: string,
) {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: `urn:badge-backpack:problem:${code}` });
  expect(typeof body.title).toBe('string');
  expect(body.requestId).toBe(res.headers['x-request-id']);
  return body;
}

describeEachDatabase('operations', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(current().db, { CORS_ORIGINS: 'https://app.example' });
  });
  afterAll(() => app.close());

  it('answers liveness', async () => {
    const res = await app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('is ready when the database is migrated', async () => {
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ready',
      database: { provider: current().name, reachable: true, pendingMigrations: [] },
    });
  });

  it('serves the contract as JSON and YAML, and the docs page', async () => {
    const json = await app.inject({ url: '/openapi.json' });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'Badge Backpack API' } });
    const yaml = await app.inject({ url: '/openapi.yaml' });
    expect(yaml.statusCode).toBe(200);
    expect(yaml.headers['content-type']).toMatch(/^application\/yaml/);
    expect(yaml.body).toContain('openapi: 3.1.0');
    const docs = await app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/^text\/html/);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const body = expectProblem(await app.inject({ url: '/v1/nothing-here?x=1' }), 404, 'not_found');
    expect(body.instance).toBe('/v1/nothing-here');
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/healthz' });
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toContain('GET');
  });

  it('answers an over-long path segment and an undecodable URL with problems', async () => {
    expectProblem(await app.inject({ url: `/v1/groups/${'x'.repeat(300)}` }), 414, 'uri_too_long');
    expectProblem(await app.inject({ url: '/v1/groups/%E0%A4%A' }), 400, 'malformed_url');
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const sent = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-123.abc' } });
    expect(sent.headers['x-request-id']).toBe('trace-123.abc');
    const bad = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'no spaces <allowed>' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends security headers', async () => {
    const res = await app.inject({ url: '/healthz' });
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('allows CORS with credentials for configured origins only', async () => {
    const allowed = await app.inject({
      method: 'OPTIONS',
      url: '/healthz',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    const other = await app.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describeEachDatabase('rate limits', (current) => {
  it('answers 429 with a problem and Retry-After once the limit is reached', async () => {
    const app = await testApp(current().db, { RATE_LIMIT_MAX: '3' });
    try {
      for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/openapi.yaml' })).statusCode).toBe(200);
      const res = await app.inject({ url: '/openapi.yaml' });
      expectProblem(res, 429, 'rate_limited');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // Liveness and readiness stay exempt: load balancers poll them.
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('readiness without a usable database', () => {
  it('answers 503 when PostgreSQL cannot be reached, without internals', async () => {
    // Port 9 on loopback: nothing listens there, so the connection is refused at once.
    const db = await openDatabase('postgres://postgres@127.0.0.1:9/none', { connectTimeoutMs: 500 });
    const app = await testApp(db);
    try {
      const res = await app.inject({ url: '/readyz' });
      const body = expectProblem(res, 503, 'database_unavailable');
      expect(body.database).toEqual({ provider: 'postgres', reachable: false, pendingMigrations: [] });
      expect(res.body).not.toMatch(/ECONNREFUSED|stack|at .*\.ts/);
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await db.close();
    }
  });

  it('answers 503 naming the migrations that are not applied', async () => {
    const created = await createEmptyDatabase('sqlite');
    const db = await openDatabase(created.url);
    const app = await testApp(db);
    try {
      const body = expectProblem(await app.inject({ url: '/readyz' }), 503, 'database_unavailable');
      const database = body.database as { reachable: boolean; pendingMigrations: string[] };
      expect(database.reachable).toBe(true);
      expect(database.pendingMigrations.length).toBeGreaterThan(0);
      expect(database.pendingMigrations[0]).toMatch(/^\d{14}_init$/);
    } finally {
      await app.close();
      await db.close();
      await created.drop();
    }
  });
});
