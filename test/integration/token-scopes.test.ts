// What a bearer token may do, operation by operation, generated from openapi.yaml: every token
// scope (and a token with all of them, a front end's OAuth token with all of them, and an issuer
// platform's token) against every authenticated operation. Each is allowed exactly where the contract's security says, and a
// refused one changes nothing. The contract itself is held against the review of what each
// operation can lead to, so that no token can reach a session, a new sign-in address, another
// token or the whole account, and so that a new operation fails here until it is reviewed.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContract, type OperationInfo } from '../../src/http/contract.ts';
import { TOKEN_SCOPES } from '../../src/modules/accounts/index.ts';
import { SUPPORTED_SCOPES } from '../../src/modules/connect/index.ts';
import {
  type ConnectServer,
  connectFrontEnd,
  connectPlatform,
  startConnectServer,
} from '../support/connect.ts';
import { authenticated, exampleBody, operationUrl, snapshot } from '../support/contract-requests.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, createToken } from '../support/earners.ts';

/**
 * The credential each operation takes, as reviewed: `public`; `session` (the cookie only);
 * `fresh` (the cookie of a recent sign-in only); `operator`; `issuer` (an issuer platform's
 * token only); or the token scopes that, together and besides the session, allow it. Operations that
 * can lead to a session (addresses), outlive one (tokens), or take the whole account (export,
 * deletion, sessions, connected platforms) are never open to tokens.
 */
const REVIEWED: Record<string, 'public' | 'session' | 'fresh' | 'operator' | 'issuer' | string> = {
  getHealth: 'public',
  getReadiness: 'public',
  getOpenApiJson: 'public',
  getOpenApiYaml: 'public',
  requestEmailLink: 'public',
  redeemEmailLink: 'public',
  listOidcProviders: 'public',
  signInWithOidc: 'public',
  getSignInPage: 'public',
  completeSignInFromPage: 'public',
  requestSignInLinkFromPage: 'public',
  getServiceLogo: 'public',
  getPrivacyPolicy: 'public',
  getTermsOfService: 'public',
  listSessions: 'session',
  deleteSessions: 'session',
  deleteCurrentSession: 'session',
  deleteSession: 'session',
  listAccessTokens: 'session',
  createAccessToken: 'fresh',
  deleteAccessToken: 'session',
  getProfile: 'profile:read',
  updateProfile: 'profile:write',
  listEmailAddresses: 'profile:read',
  addEmailAddress: 'fresh',
  updateEmailAddress: 'fresh',
  deleteEmailAddress: 'fresh',
  sendAddressVerificationCode: 'session',
  verifyEmailAddress: 'fresh',
  deleteAccount: 'session',
  requestDeletionCode: 'session',
  requestBadgeDeletionCode: 'session',
  exportAccount: 'session',
  listHolderDids: 'profile:read',
  createHolderDid: 'profile:write',
  createPresentation: 'shares:write',
  // It adds badges and makes groups: both scopes, as adding each by hand would take.
  importAccount: 'badges:write groups:write',
  operatorDeleteAccount: 'operator',
  listOperatorReports: 'operator',
  resolveOperatorReport: 'operator',
  listOperatorPlatforms: 'operator',
  getOperatorPlatform: 'operator',
  suspendOperatorPlatform: 'operator',
  reinstateOperatorPlatform: 'operator',
  listOperatorActions: 'operator',
  createOperatorNotice: 'operator',
  getOperatorNotice: 'operator',
  listNotices: 'profile:read',
  listGroups: 'groups:read',
  createGroup: 'groups:write',
  getGroup: 'groups:read',
  updateGroup: 'groups:write',
  deleteGroup: 'groups:write',
  replaceGroupBadges: 'groups:write',
  addGroupBadge: 'groups:write',
  removeGroupBadge: 'groups:write',
  listShareLinks: 'shares:read',
  createShareLink: 'shares:write',
  getShareLink: 'shares:read',
  deleteShareLink: 'shares:write',
  getSharedPage: 'public',
  getSharedPageJson: 'public',
  getSharedImage: 'public',
  checkSharedRecipient: 'public',
  getOembed: 'public',
  listDisplayerGroups: 'public',
  getStatistics: 'public',
  listBadges: 'badges:read',
  addBadge: 'badges:write',
  uploadBadge: 'badges:write',
  deleteAllBadges: 'session',
  getBadge: 'badges:read',
  deleteBadge: 'badges:write',
  getBadgeImage: 'badges:read',
  getBakedBadge: 'badges:read',
  reverifyBadge: 'badges:write',
  getAuthorizationServerMetadata: 'public',
  registerOAuthClient: 'public',
  getAuthorizationPage: 'public',
  decideAuthorization: 'public',
  requestOAuthToken: 'public',
  revokeOAuthToken: 'public',
  listConnectedIssuers: 'session',
  revokeConnectedIssuer: 'session',
  listPushedBadges: 'badges:read',
  acceptPushedBadge: 'badges:write',
  rejectPushedBadge: 'badges:write',
  getBadgeConnectManifest: 'public',
  listBadgeConnectAssertions: 'issuer',
  createBadgeConnectAssertion: 'issuer',
  getBadgeConnectProfile: 'issuer',
  updateBadgeConnectProfile: 'issuer',
  getOb3Discovery: 'public',
  listOb3Credentials: 'issuer',
  upsertOb3Credential: 'issuer',
  getOb3Profile: 'issuer',
  updateOb3Profile: 'issuer',
  issueBackpackConnectBadge: 'issuer',
  getBackpackConnectIdentity: 'issuer',
};

/** What the contract says of an operation, in the words of REVIEWED. */
function contractRule(op: OperationInfo): string {
  if (!authenticated(op)) return 'public';
  const schemes = new Set(op.security.flatMap((alt) => Object.keys(alt)));
  if (schemes.size === 1 && schemes.has('operatorToken')) return 'operator';
  const bearer = op.security.flatMap((alt) => alt.bearerToken ?? []);
  if (!schemes.has('sessionCookie')) {
    return bearer.length > 0 && bearer.every((s) => SUPPORTED_SCOPES.includes(s)) ? 'issuer' : 'unreviewed';
  }
  if (schemes.has('bearerToken')) {
    const alternatives = op.security.filter((alt) => 'bearerToken' in alt);
    return alternatives.length === 1 && bearer.length >= 1 ? bearer.join(' ') : 'unreviewed';
  }
  return op.freshSession ? 'fresh' : 'session';
}

/** Whether the contract lets a token with these scopes call the operation. */
function allows(op: OperationInfo, scopes: ReadonlySet<string>): boolean {
  return op.security.some((alt) => alt.bearerToken?.every((s) => scopes.has(s)) === true);
}

describe('the credential each operation takes', () => {
  it('is in the contract as the review settled, for every operation', () => {
    const operations = [...loadContract().operations.values()];
    const actual = Object.fromEntries(operations.map((op) => [op.operationId, contractRule(op)]));
    const expected = Object.fromEntries(
      operations.map((op) => [op.operationId, REVIEWED[op.operationId] ?? 'not reviewed yet']),
    );
    expect(actual).toEqual(expected);
  });

  it('lets no token reach what leads to a session or to the whole account', () => {
    const contract = loadContract();
    const guarded = Object.entries(REVIEWED)
      .filter(([, rule]) => rule === 'session' || rule === 'fresh')
      .map(([id]) => id);
    for (const id of ['addEmailAddress', 'verifyEmailAddress', 'createAccessToken', 'exportAccount']) {
      expect(guarded).toContain(id);
    }
    const open = guarded.filter((id) =>
      contract.operations.get(id)?.security.some((alt) => 'bearerToken' in alt),
    );
    expect(open).toEqual([]);
  });
});

interface TokenKind {
  name: string;
  /** The Authorization header, for a new earner who holds the token. */
  issue: (server: ConnectServer) => Promise<{ authorization: string; scopes: ReadonlySet<string> }>;
}

const KINDS: TokenKind[] = [
  ...TOKEN_SCOPES.map((scope) => ({
    name: `a personal access token with ${scope}`,
    issue: async ({ app }: ConnectServer) => {
      const owner = await createEarner(app);
      return { authorization: await createToken(app, owner.id, [scope]), scopes: new Set([scope]) };
    },
  })),
  {
    name: 'a personal access token with every scope',
    issue: async ({ app }) => {
      const owner = await createEarner(app);
      return {
        authorization: await createToken(app, owner.id, [...TOKEN_SCOPES]),
        scopes: new Set(TOKEN_SCOPES),
      };
    },
  },
  {
    name: "a front end's OAuth token with every scope",
    issue: async (server) => {
      const owner = await createEarner(server.app);
      const { tokens } = await connectFrontEnd(server, owner, TOKEN_SCOPES.join(' '));
      return { authorization: `Bearer ${tokens.access_token}`, scopes: new Set(TOKEN_SCOPES) };
    },
  },
  {
    name: "an issuer platform's token with every scope",
    issue: async (server) => {
      const owner = await createEarner(server.app);
      const { tokens } = await connectPlatform(server, owner, SUPPORTED_SCOPES.join(' '));
      return { authorization: `Bearer ${tokens.access_token}`, scopes: new Set(SUPPORTED_SCOPES) };
    },
  },
];

describeEachDatabase('each token against each operation', (current) => {
  let server: ConnectServer;
  let app: FastifyInstance;
  beforeAll(async () => {
    // Badges named by the examples live on hosts that cannot be reached: fail those fast.
    server = await startConnectServer(current().db, { FETCH_TIMEOUT_MS: '300' });
    app = server.app;
  });
  afterAll(async () => {
    await server?.close();
  });

  for (const kind of KINDS) {
    it(`${kind.name}: allowed where the contract says, refused elsewhere, changing nothing`, async () => {
      const operations = [...loadContract().operations.values()].filter(authenticated);
      const token = await kind.issue(server);
      const owner = await earnerOf(app, token.authorization);
      const prepared: { op: OperationInfo; url: string; allowed: boolean }[] = [];
      for (const op of operations) {
        prepared.push({ op, url: await operationUrl(op, owner, server), allowed: allows(op, token.scopes) });
      }
      const send = ({ op, url }: { op: OperationInfo; url: string }) => {
        const body = exampleBody(op);
        return app.inject({
          method: op.method as 'GET',
          url,
          headers: {
            authorization: token.authorization,
            ...(body.contentType ? { 'content-type': body.contentType } : {}),
          },
          ...(body.payload === undefined
            ? {}
            : { payload: typeof body.payload === 'string' ? body.payload : JSON.stringify(body.payload) }),
        });
      };

      const before = await snapshot(current().db);
      for (const request of prepared.filter((p) => !p.allowed)) {
        const res = await send(request);
        const id = request.op.operationId;
        const sessionOnly = !request.op.security.some((alt) => 'bearerToken' in alt);
        const operatorOnly = request.op.security.every((alt) => 'operatorToken' in alt);
        expect(res.statusCode, `${id}: ${res.body}`).toBe(operatorOnly ? 401 : 403);
        // The issuer APIs answer in their standards' own error shapes; the rest with problems.
        if (String(res.headers['content-type']).startsWith('application/problem+json')) {
          const code = operatorOnly ? 'unauthenticated' : sessionOnly ? 'forbidden' : 'insufficient_scope';
          expect(res.json().code, `${id}: ${res.body}`).toBe(code);
        } else {
          expect(/^\/(ims\/ob\/|api\/|\.well-known\/badgeconnect)/.test(request.op.path), id).toBe(true);
        }
      }
      expect(await snapshot(current().db), 'a refused request changed something').toEqual(before);

      const allowed = prepared.filter((p) => p.allowed);
      expect(allowed.length, 'every kind of token can do something').toBeGreaterThan(0);
      for (const request of allowed) {
        const res = await send(request);
        expect(res.statusCode, `${request.op.operationId} ${request.url}: ${res.body}`).not.toBe(401);
        expect(res.statusCode, `${request.op.operationId} ${request.url}: ${res.body}`).not.toBe(403);
        expect(res.statusCode, `${request.op.operationId} ${request.url}: ${res.body}`).toBeLessThan(500);
      }
    });
  }
});

/** The earner a token acts for, with a session of their own to make fixtures with. */
async function earnerOf(app: FastifyInstance, authorization: string) {
  const principal = await app.services.accounts.resolvers.bearer(authorization.slice('Bearer '.length));
  const earnerId =
    principal?.earnerId ?? (await app.services.connect.resolveBearer(authorization.slice(7)))?.earnerId;
  if (!earnerId) throw new Error('the token resolves to no earner');
  const addresses = (await app.services.accounts.service.addresses(earnerId)).map((a) => a.address);
  const { secret } = await app.services.accounts.sessions.create(earnerId, 'email', 'test');
  return {
    id: earnerId,
    addresses,
    session: { cookie: `${app.services.accounts.cookieName}=${secret}`, origin: 'http://localhost:3000' },
  };
}
