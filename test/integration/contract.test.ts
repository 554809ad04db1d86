import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { contractDrift, contractRoutes, loadContract } from '../../src/http/contract.ts';
import { CATALOGUE } from '../../src/http/problems.ts';
import { sessionCookieName } from '../../src/modules/accounts/index.ts';
import { testApp, testConfig } from '../support/app.ts';
import { createEmptyDatabase } from '../support/databases.ts';

// Routes that are not API operations: the documentation UI and its assets.
const NOT_OPERATIONS = /^\/docs(\/|$)/;

function toFastifyPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

describe('contract and routes', () => {
  let app: FastifyInstance;
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const created = await createEmptyDatabase('sqlite');
    drop = created.drop;
    db = await openDatabase(created.url);
    app = await testApp(db);
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await drop();
  });

  it('serves every operation of openapi.yaml', () => {
    const contract = loadContract();
    const registered = new Set(app.registeredRoutes.map((r) => `${r.method} ${r.url}`));
    const missing = [...contract.operations.values()]
      .map((op) => `${op.method} ${toFastifyPath(op.path)}`)
      .filter((key) => !registered.has(key));
    expect(missing).toEqual([]);
  });

  it('serves no route that openapi.yaml does not describe', () => {
    const contract = loadContract();
    const described = new Set(
      [...contract.operations.values()].map((op) => `${op.method} ${toFastifyPath(op.path)}`),
    );
    const extra = app.registeredRoutes
      .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && !NOT_OPERATIONS.test(r.url))
      .map((r) => `${r.method} ${r.url}`)
      .filter((key) => !described.has(key));
    expect(extra).toEqual([]);
  });

  it('refuses to build when an operation has no handler or a handler no operation', async () => {
    const contract = loadContract();
    const drift = contractDrift(contract, { getHealth: async () => ({}), listUnicorns: async () => [] });
    expect(drift.unknown).toEqual(['listUnicorns']);
    expect(drift.unhandled).toContain('getReadiness');
    const bare = Fastify();
    await expect(
      bare
        .register(contractRoutes, { contract, handlers: { getHealth: async () => ({ status: 'ok' }) } })
        .ready(),
    ).rejects.toThrow(/operations without handler \[.*getReadiness/);
    await bare.close();
  });

  it('lists every problem code of the catalogue in the ProblemCode schema, and no other', () => {
    const contract = loadContract();
    const schemas = (contract.document.components as { schemas: Record<string, { enum?: string[] }> })
      .schemas;
    expect([...(schemas.ProblemCode?.enum ?? [])].sort()).toEqual(Object.keys(CATALOGUE).sort());
  });

  it('gives every operation a unique operationId, a summary, tags and a 4xx/5xx response', () => {
    const doc = loadContract().document as { paths: Record<string, Record<string, Record<string, unknown>>> };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        // Path-level keys (`parameters`, `summary`) are not operations.
        if (!['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method)) continue;
        const where = `${method.toUpperCase()} ${path}`;
        expect(typeof op.summary, where).toBe('string');
        expect((op.tags as string[]).length, where).toBeGreaterThan(0);
        const statuses = Object.keys(op.responses as object);
        expect(
          statuses.some((s) => s.startsWith('4')),
          where,
        ).toBe(true);
        expect(
          statuses.some((s) => s.startsWith('5')),
          where,
        ).toBe(true);
      }
    }
  });

  it('documents the session cookie under each name the service sets, wherever a session is accepted', () => {
    const contract = loadContract();
    const schemes = (
      contract.document.components as {
        securitySchemes: Record<string, { type: string; in?: string; name?: string }>;
      }
    ).securitySchemes;
    const cookieSchemes = Object.entries(schemes)
      .filter(([, scheme]) => scheme.type === 'apiKey' && scheme.in === 'cookie')
      .map(([id, scheme]) => ({ id, name: scheme.name }));
    for (const publicUrl of ['http://localhost:3000', 'https://backpack.example']) {
      const name = sessionCookieName(testConfig({ PUBLIC_URL: publicUrl }));
      expect(
        cookieSchemes.map((s) => s.name),
        publicUrl,
      ).toContain(name);
    }
    for (const op of contract.operations.values()) {
      const named = op.security.flatMap((alt) => Object.keys(alt));
      const cookies = cookieSchemes.filter((s) => named.includes(s.id));
      expect(cookies.length === 0 || cookies.length === cookieSchemes.length, op.operationId).toBe(true);
    }
  });

  it('has no text that would close the comments generated clients put it in', () => {
    const closing: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (typeof node === 'string' && node.includes('*/')) closing.push(at);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) walk(value, `${at}/${key}`);
      }
    };
    walk(loadContract().document, '#');
    expect(closing).toEqual([]);
  });

  it('keeps the served YAML identical to the file', () => {
    expect(loadContract().yaml).toBe(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'));
  });
});
