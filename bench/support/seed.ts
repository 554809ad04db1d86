// Benchmark data: one backpack filled through the real ingestion path (hosted assertions from
// the local issuer), and larger or more numerous backpacks cloned from its rows in SQL.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { LocalIssuer } from './issuer.ts';

export interface SeededBackpack {
  earnerId: string;
  email: string;
  cookie: string;
  /** An OAuth access token of an issuer platform the earner consented to, for pushes. */
  pushToken: string;
  shareToken: string;
  payloads: { list: unknown; shareJson: unknown; shareHtml: string };
  growth: Record<string, string>;
  crowd: string[];
}

const ORIGIN = 'http://localhost:3000';

async function session(app: FastifyInstance, earnerId: string): Promise<string> {
  const { secret } = await app.services.accounts.sessions.create(earnerId, 'email', 'bench');
  return `${app.services.accounts.cookieName}=${secret}`;
}

/**
 * An issuer platform connected through the OAuth service's own steps (register, consent in the
 * earner's session, code with PKCE, exchange): the token the push scenarios use.
 */
async function connectPlatform(app: FastifyInstance, earnerId: string): Promise<string> {
  const oauth = app.services.connect.oauth;
  const scope = 'https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.create';
  const redirectUri = 'https://platform.example/callback';
  const { client } = await oauth.registerClient(
    {
      client_name: 'Benchmark platform',
      client_uri: 'https://platform.example/',
      software_id: 'bench',
      software_version: '1',
      redirect_uris: [redirectUri],
      scope,
    },
    'bench',
  );
  const { id: sessionId } = await app.services.accounts.sessions.create(earnerId, 'email', 'bench');
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const request = await oauth.createConsentRequest({
    sessionId,
    earnerId,
    clientId: client.id,
    redirectUri,
    scopes: [scope],
    state: null,
    codeChallenge: challenge,
  });
  const decision = await oauth.decide({
    requestId: request.id,
    csrf: request.csrf,
    sessionId,
    earnerId,
    approve: true,
  });
  if (!decision?.code) throw new Error('consent was not recorded');
  const tokens = await oauth.exchangeCode(client, {
    code: decision.code,
    redirectUri,
    codeVerifier: verifier,
  });
  return tokens.access_token;
}

let earnerCount = 0;
function address(): string {
  earnerCount += 1;
  return `bench.earner.${earnerCount}.${process.pid}@example.org`;
}

async function call(
  app: FastifyInstance,
  cookie: string,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  accept?: string,
) {
  const res = await app.inject({
    method,
    url,
    headers: { cookie, origin: ORIGIN, ...(accept ? { accept } : {}) },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  if (res.statusCode >= 300)
    throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
  return res;
}

export async function seedBackpack(
  app: FastifyInstance,
  issuer: LocalIssuer,
  count: number,
  email = address(),
): Promise<SeededBackpack> {
  const { id: earnerId } = await app.services.accounts.service.createEarner([email]);
  const cookie = await session(app, earnerId);
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    issuer.assertion(n, email);
    const res = await call(app, cookie, 'POST', '/v1/badges', { url: issuer.assertionUrl(n) });
    ids.push((res.json() as { id: string }).id);
  }
  const list = (await call(app, cookie, 'GET', '/v1/badges?limit=100')).json();
  const group = (
    await call(app, cookie, 'POST', '/v1/groups', { name: 'Benchmark group', badgeIds: ids.slice(0, 20) })
  ).json() as {
    id: string;
  };
  const link = (await call(app, cookie, 'POST', '/v1/share-links', { groupId: group.id })).json() as {
    token: string;
  };
  const shareJson = (
    await call(app, cookie, 'GET', `/share/${link.token}`, undefined, 'application/json')
  ).json();
  const shareHtml = (await call(app, cookie, 'GET', `/share/${link.token}`, undefined, 'text/html')).body;
  const pushToken = await connectPlatform(app, earnerId);
  return {
    earnerId,
    email,
    cookie,
    pushToken,
    shareToken: link.token,
    payloads: { list, shareJson, shareHtml },
    growth: {},
    crowd: [],
  };
}

/** A new earner holding `count` copies (in batches of the source's badges) of another's badges. */
export async function cloneBadges(
  app: FastifyInstance,
  sourceEarnerId: string,
  count: number,
): Promise<{ earnerId: string; cookie: string }> {
  const { id: earnerId } = await app.services.accounts.service.createEarner([address()]);
  const prisma = app.db.prisma;
  const sqlite = app.db.provider === 'sqlite';
  const columns = sqlite
    ? (await prisma.$queryRawUnsafe<{ name: string }[]>(`PRAGMA table_info("backpack_items")`)).map(
        (c) => c.name,
      )
    : (
        await prisma.$queryRawUnsafe<{ name: string }[]>(
          `SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'backpack_items' AND table_schema = 'public'`,
        )
      ).map((c) => c.name);
  const source = await prisma.backpackItem.count({ where: { earnerId: sourceEarnerId } });
  const newId = sqlite ? 'lower(hex(randomblob(16)))' : 'md5(random()::text || clock_timestamp()::text)';
  for (let batch = 0; batch * source < count; batch++) {
    const exprs = columns.map((c) => {
      if (c === 'id') return newId;
      if (c === 'earnerId') return `'${earnerId}'`;
      if (c === 'assertionId') return `"assertionId" || '#${batch}'`;
      return `"${c}"`;
    });
    await prisma.$executeRawUnsafe(
      `INSERT INTO "backpack_items" (${columns.map((c) => `"${c}"`).join(', ')}) SELECT ${exprs.join(', ')} FROM "backpack_items" WHERE "earnerId" = '${sourceEarnerId}' LIMIT ${Math.min(source, count - batch * source)}`,
    );
  }
  return { earnerId, cookie: await session(app, earnerId) };
}
