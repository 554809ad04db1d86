// Every authenticated operation that names a resource by id answers 404 to an earner who does
// not own it, and changes nothing. The list of operations comes from openapi.yaml, so a new
// route is covered as soon as it is described; one whose path parameter this test cannot
// fill makes it fail until a fixture (or a reasoned exemption) is added here.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { loadContract, type OperationInfo } from '../../src/http/contract.ts';
import { SCOPES } from '../../src/modules/connect/index.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { type ConnectServer, connectPlatform, startConnectServer } from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

/** Path parameters that name something an earner owns, and how to make one for the owner. */
type Fixture = (owner: TestEarner, server: ConnectServer) => Promise<string>;

const FIXTURES: Record<string, Fixture> = {
  badgeId: (owner, { app }) => insertBadge(app, owner.id, { recipient: owner.addresses[0] ?? '' }),
  groupId: async (owner, { app }) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: headersOf(owner),
      payload: { name: 'Owned group' },
    });
    return res.json().id;
  },
  shareLinkId: async (owner, { app }) => {
    const group = await FIXTURES.groupId?.(owner, { app } as ConnectServer);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/share-links',
      headers: headersOf(owner),
      payload: { groupId: group },
    });
    return res.json().id;
  },
  sessionId: async (owner, { app }) =>
    (await app.services.accounts.sessions.create(owner.id, 'email', null)).id,
  tokenId: async (owner, { app }) =>
    (await app.services.accounts.accessTokens.create(owner.id, 'owned', ['badges:read'], null)).id,
  addressId: async (owner, { app }) => {
    const res = await app.inject({ method: 'GET', url: '/v1/email-addresses', headers: headersOf(owner) });
    return res.json().items[0].id;
  },
  clientId: async (owner, server) =>
    (await connectPlatform(server, owner, SCOPES.assertionCreate)).platform.client.client_id,
};

/**
 * Authenticated operations with a path parameter that is not an earner-owned id, each with
 * the reason it is not tried here.
 */
const NOT_OWNED_IDS: Record<string, string> = {};

/** What a public route may take in its path: never a badge, group or earner id. */
const PUBLIC_PATH_PARAMETERS = new Set(['token', 'position', 'handle']);

/** The origin of the app under test (it listens on a loopback port, its PUBLIC_URL). */
let origin = '';

function headersOf(earner: TestEarner): Record<string, string> {
  return { cookie: earner.session.cookie, origin };
}

function pathParameters(op: OperationInfo): string[] {
  return [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
}

function authenticated(op: OperationInfo): boolean {
  return op.security.some((alt) => Object.keys(alt).length > 0);
}

interface OperationDoc {
  requestBody?: { content?: Record<string, { example?: unknown; schema?: unknown }> };
}

function operationDoc(op: OperationInfo): OperationDoc {
  const paths = loadContract().document.paths as Record<string, Record<string, OperationDoc>>;
  return paths[op.path]?.[op.method.toLowerCase()] ?? {};
}

/** The example body of the operation (a valid body, so that validation does not answer first). */
function exampleBody(op: OperationInfo): { payload?: unknown; contentType?: string } {
  const content = operationDoc(op).requestBody?.content;
  if (!content) return {};
  const json = content['application/json'];
  if (!json) throw new Error(`${op.operationId}: no JSON request body to try`);
  if (json.example === undefined)
    throw new Error(`${op.operationId}: the request body has no example to send`);
  return { payload: json.example, contentType: 'application/json' };
}

/** Every row of every table except the stranger's own, without columns that record use. */
async function snapshot(db: Database, strangerId: string): Promise<string[]> {
  const tables =
    db.provider === 'sqlite'
      ? await db.prisma.$queryRawUnsafe<{ name: string }[]>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
      : await db.prisma.$queryRawUnsafe<{ name: string }[]>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
        );
  const rows: string[] = [];
  for (const { name } of tables) {
    for (const row of await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM "${name}"`)) {
      const text = JSON.stringify(row, (key, v: unknown) => {
        if (/^last_?used_?at$/i.test(key)) return undefined;
        if (typeof v === 'bigint') return v.toString();
        if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
        return v;
      });
      if (!text.includes(strangerId)) rows.push(`${name} ${text}`);
    }
  }
  return rows.sort();
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
      (op) => authenticated(op) && pathParameters(op).length > 0 && !(op.operationId in NOT_OWNED_IDS),
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
        ...(body.payload === undefined ? {} : { payload: JSON.stringify(body.payload) }),
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
