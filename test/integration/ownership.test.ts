// Every authenticated operation that names a resource by id answers 404 to an earner who does
// not own it, and changes nothing. The list of operations comes from openapi.yaml, so a new
// route is covered as soon as it is described; one whose path parameter this test cannot
// fill makes it fail until a fixture (or a reasoned exemption) is added here.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadContract } from '../../src/http/contract.ts';
import { type ConnectServer, startConnectServer } from '../support/connect.ts';
import {
  authenticated,
  exampleBody,
  FIXTURES,
  type Fixture,
  pathParameters,
  snapshot,
} from '../support/contract-requests.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

/**
 * Authenticated operations with a path parameter that is not an earner-owned id, each with
 * the reason it is not tried here.
 */
const NOT_OWNED_IDS: Record<string, string> = {};

/**
 * Operations only the operator credential reaches: their ids (reports, platforms, notices) belong
 * to no earner, and the token matrix proves no earner's session or token gets in.
 */
function operatorOnly(op: { security: Record<string, unknown>[] }): boolean {
  return op.security.every((alt) => Object.keys(alt).every((scheme) => scheme === 'operatorToken'));
}

/** What a public route may take in its path: never a badge, group or earner id. */
const PUBLIC_PATH_PARAMETERS = new Set(['token', 'position', 'handle']);

/** The origin of the app under test (it listens on a loopback port, its PUBLIC_URL). */
let origin = '';

function headersOf(earner: TestEarner): Record<string, string> {
  return { cookie: earner.session.cookie, origin };
}

describeEachDatabase('ownership of every id route', (current) => {
  let server: ConnectServer;
  let app: FastifyInstance;
  beforeAll(async () => {
    server = await startConnectServer(current().db);
    app = server.app;
    origin = server.base;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers 404 to another earner on every authenticated operation with an id, changing nothing', async () => {
    const operations = [...loadContract().operations.values()].filter(
      (op) =>
        authenticated(op) &&
        !operatorOnly(op) &&
        pathParameters(op).length > 0 &&
        !(op.operationId in NOT_OWNED_IDS),
    );
    const unknown = operations.flatMap((op) =>
      pathParameters(op)
        .filter((p) => !(p in FIXTURES))
        .map((p) => `${op.operationId} {${p}}`),
    );
    expect(unknown, 'path parameters this test cannot fill: add a fixture or an exemption').toEqual([]);
    expect(operations.length).toBeGreaterThan(10);

    const tried: string[] = [];
    for (const op of operations) {
      // A fresh owner per operation, so that an earlier operation's refusal cannot hide a later one.
      const owner = await createEarner(app);
      const stranger = await createEarner(app);
      const ids: Record<string, string> = {};
      for (const p of pathParameters(op)) ids[p] = await (FIXTURES[p] as Fixture)(owner, server);
      const url = op.path.replace(/\{([^}]+)\}/g, (_m, p: string) => encodeURIComponent(ids[p] ?? ''));

      if (op.method === 'GET') {
        // The fixture is real: its owner reaches it.
        const own = await app.inject({ method: 'GET', url, headers: headersOf(owner) });
        expect(own.statusCode, `${op.operationId} as its owner`).toBeLessThan(300);
      }
      const before = await snapshot(current().db, stranger.id);
      const body = exampleBody(op);
      const res = await app.inject({
        method: op.method as 'GET',
        url,
        headers: {
          ...headersOf(stranger),
          ...(body.contentType ? { 'content-type': body.contentType } : {}),
        },
        ...(body.payload === undefined
          ? {}
          : { payload: typeof body.payload === 'string' ? body.payload : JSON.stringify(body.payload) }),
      });
      expect(res.statusCode, `${op.operationId} ${url}: ${res.body}`).toBe(404);
      expect(res.json().code, op.operationId).toBe('not_found');
      expect(await snapshot(current().db, stranger.id), `${op.operationId} changed something`).toEqual(
        before,
      );
      tried.push(op.operationId);
    }
    for (const expected of ['getGroup', 'deleteGroup', 'addGroupBadge', 'deleteShareLink', 'getBadge']) {
      expect(tried).toContain(expected);
    }
  });

  it('takes no badge, group or earner id on any public route', () => {
    const offending: string[] = [];
    for (const op of loadContract().operations.values()) {
      if (authenticated(op)) continue;
      for (const p of pathParameters(op)) {
        if (!PUBLIC_PATH_PARAMETERS.has(p)) offending.push(`${op.operationId} {${p}}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
