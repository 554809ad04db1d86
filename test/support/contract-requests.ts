// Requests built from openapi.yaml for tests that walk every operation: the path parameters an
// operation takes and how to make an earner-owned value for each, its example body, and a
// snapshot of every table to show that a refused request changed nothing.
import type { Database } from '../../src/db/client.ts';
import { loadContract, type OperationInfo } from '../../src/http/contract.ts';
import { SCOPES } from '../../src/modules/connect/index.ts';
import { insertBadge } from './badge-rows.ts';
import { type ConnectServer, connectPlatform } from './connect.ts';
import type { TestEarner } from './earners.ts';

/** Makes something the owner holds, for a path parameter, and returns its id. */
export type Fixture = (owner: TestEarner, server: ConnectServer) => Promise<string>;

export const FIXTURES: Record<string, Fixture> = {
  badgeId: (owner, { app }) => insertBadge(app, owner.id, { recipient: owner.addresses[0] ?? '' }),
  groupId: async (owner, { app, base }) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: { cookie: owner.session.cookie, origin: base },
      payload: { name: 'Owned group' },
    });
    return res.json().id;
  },
  shareLinkId: async (owner, server) => {
    const group = await FIXTURES.groupId?.(owner, server);
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/share-links',
      headers: { cookie: owner.session.cookie, origin: server.base },
      payload: { groupId: group },
    });
    return res.json().id;
  },
  sessionId: async (owner, { app }) =>
    (await app.services.accounts.sessions.create(owner.id, 'email', null)).id,
  tokenId: async (owner, { app }) =>
    (await app.services.accounts.accessTokens.create(owner.id, 'owned', ['badges:read'], null)).id,
  addressId: async (owner, { app }) => {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/email-addresses',
      headers: { cookie: owner.session.cookie },
    });
    return res.json().items[0].id;
  },
  clientId: async (owner, server) =>
    (await connectPlatform(server, owner, SCOPES.assertionCreate)).platform.client.client_id,
  noticeId: async (owner, server) =>
    (
      await server.app.services.privacy.notices.create({
        kind: 'policy_change',
        subject: 'A notice',
        text: 'Its text.',
        email: owner.addresses[0] as string,
      })
    ).id,
  reportId: async (owner, server) => {
    const clientId = await FIXTURES.clientId?.(owner, server);
    await server.app.services.connect.oauth.report({
      earnerId: owner.id,
      clientId: clientId as string,
      issuerId: 'https://issuer.example/issuer',
      badgeName: 'Reported badge',
      comment: '',
    });
    const row = await server.app.db.prisma.connectReport.findFirstOrThrow({
      where: { earnerId: owner.id, clientId: clientId as string },
    });
    return row.id;
  },
};

export function pathParameters(op: OperationInfo): string[] {
  return [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
}

export function authenticated(op: OperationInfo): boolean {
  return op.security.some((alt) => Object.keys(alt).length > 0);
}

interface MediaDoc {
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
}

interface OperationDoc {
  requestBody?: { content?: Record<string, MediaDoc> };
}

function operationDoc(op: OperationInfo): OperationDoc {
  const paths = loadContract().document.paths as Record<string, Record<string, OperationDoc>>;
  return paths[op.path]?.[op.method.toLowerCase()] ?? {};
}

/** The operation's JSON example body (a valid body, so that validation does not answer first). */
export function exampleBody(op: OperationInfo): { payload?: unknown; contentType?: string } {
  const content = operationDoc(op).requestBody?.content;
  if (!content) return {};
  const json = content['application/json'];
  if (!json && content['multipart/form-data']) {
    // An upload: one small part named `file`, which is no badge but reaches the handler.
    const boundary = 'contract-requests-boundary';
    return {
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\nnot a badge\r\n--${boundary}--\r\n`,
      contentType: `multipart/form-data; boundary=${boundary}`,
    };
  }
  if (!json) throw new Error(`${op.operationId}: no JSON request body to try`);
  const example = json.example ?? Object.values(json.examples ?? {})[0]?.value;
  if (example === undefined) throw new Error(`${op.operationId}: the request body has no example to send`);
  return { payload: example, contentType: 'application/json' };
}

/** The operation's URL with each path parameter filled by a fixture the owner holds. */
export async function operationUrl(
  op: OperationInfo,
  owner: TestEarner,
  server: ConnectServer,
): Promise<string> {
  const ids: Record<string, string> = {};
  for (const p of pathParameters(op)) {
    const fixture = FIXTURES[p];
    if (!fixture) throw new Error(`${op.operationId}: no fixture for {${p}}`);
    ids[p] = await fixture(owner, server);
  }
  return op.path.replace(/\{([^}]+)\}/g, (_m, p: string) => encodeURIComponent(ids[p] ?? ''));
}

/**
 * Every row of every table, without columns that record use; rows containing `except` (an
 * earner's id whose own rows may change) are left out.
 */
export async function snapshot(db: Database, except?: string): Promise<string[]> {
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
      if (except === undefined || !text.includes(except)) rows.push(`${name} ${text}`);
    }
  }
  return rows.sort();
}
