// The OAuth 2.0 authorization server's state: registered platforms, pending consent requests,
// grants (the earner's consent), single-use codes and rotating token families. Every secret is
// stored as a SHA-256; every "use once" is a conditional update, so that two concurrent uses
// cannot both succeed.
import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.ts';
import { type RawReader, toDate } from '../../db/raw.ts';
import { Problem } from '../../http/problems.ts';
import { hashSecret, newId, newSecret, sameHash } from '../accounts/index.ts';
import { imitatesService } from './client-names.ts';
import { FRONT_END_SCOPES, parseScope, SUPPORTED_SCOPES } from './scopes.ts';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'client_name_refused'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error';

/** An error the OAuth endpoints answer in the RFC's own shape, `{error, error_description}`. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

export const ACCESS_PREFIX = 'bpc_at_';
export const REFRESH_PREFIX = 'bpc_rt_';
const CODE_TTL_MS = 60_000;
const HOUR_MS = 3_600_000;
/** The expiry a replayed code is given: the mark that its tokens must not live. */
const REPLAYED = new Date(0);
const CONSENT_TTL_MS = 10 * 60_000;
const TOUCH_INTERVAL_MS = 60_000;
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export interface ClientMetadata {
  client_name: string;
  client_uri: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  software_id?: string;
  software_version?: string;
  redirect_uris: string[];
  scope: string;
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'none';
  grant_types?: string[];
  response_types?: string[];
  contacts?: string[];
}

/**
 * An issuer platform pushes badges through the issuer APIs; a front end is the earner's own UI
 * on another site, calling /v1/* with the scopes of personal access tokens.
 */
export type ClientKind = 'issuer_platform' | 'front_end';

export interface Client {
  id: string;
  kind: ClientKind;
  secretHash: string | null;
  name: string;
  clientUri: string;
  logoUri: string | null;
  tosUri: string | null;
  policyUri: string | null;
  redirectUris: string[];
  scopes: string[];
  tokenEndpointAuthMethod: string;
  /** The operator has suspended the client: no new consent, code or token, and its tokens stop. */
  suspended: boolean;
}

export interface TokenSet {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

/** Who an access token acts for, and for which platform. */
export interface AccessGrant {
  tokenId: string;
  grantId: string;
  earnerId: string;
  clientId: string;
  clientKind: ClientKind;
  scopes: string[];
  /** The operator has suspended the client; the token is refused with `client_suspended`. */
  suspended: boolean;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** HTTPS, or a loopback http URI for native and test clients (RFC 8252 section 7.3); no fragment. */
export function redirectUriProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${raw} is not an absolute URI`;
  }
  if (url.hash || raw.includes('#')) return `${raw} has a fragment`;
  if (url.username || url.password) return `${raw} carries credentials`;
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return `${raw} must use https (http only for loopback addresses)`;
}

function safeWebUri(raw: string | undefined, field: string): void {
  if (raw === undefined) return;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OAuthError('invalid_client_metadata', `${field} is not an absolute URI.`);
  }
  // These are shown to the earner as links and images: anything but http(s) could run code.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OAuthError('invalid_client_metadata', `${field} must be an http(s) URI.`);
  }
}

export interface OAuthServerOptions {
  accessTtlMs: number;
  refreshTtlMs: number;
  /** Front ends live in browsers, where a token is easier to steal: shorter lifetimes. */
  frontEndAccessTtlMs: number;
  frontEndRefreshTtlMs: number;
  /** Anonymous registrations one network may make per hour. */
  registrationsPerNetworkPerHour: number;
  /** The service's own name, which no client may pass itself off as. */
  serviceName: string;
  /** Prepared reads: every issuer API call resolves its token with one. */
  raw?: RawReader;
}

/** The kind of client a set of scopes makes, or null when they are mixed or unknown. */
function kindOf(scopes: string[]): ClientKind | null {
  if (scopes.length === 0) return null;
  if (scopes.every((s) => SUPPORTED_SCOPES.includes(s))) return 'issuer_platform';
  if (scopes.every((s) => FRONT_END_SCOPES.includes(s))) return 'front_end';
  return null;
}

export class OAuthServer {
  constructor(
    private readonly prisma: Db,
    private readonly now: () => Date,
    private readonly options: OAuthServerOptions,
  ) {}

  /** Registers a client for `registrant`, the hash of the requesting network. */
  async registerClient(
    meta: ClientMetadata,
    registrant: string,
  ): Promise<{
    client: Client;
    secret: string | null;
    issuedAt: Date;
    grantTypes: string[];
    contacts: string[];
  }> {
    for (const uri of meta.redirect_uris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new OAuthError('invalid_redirect_uri', problem);
    }
    safeWebUri(meta.client_uri, 'client_uri');
    safeWebUri(meta.logo_uri, 'logo_uri');
    safeWebUri(meta.tos_uri, 'tos_uri');
    safeWebUri(meta.policy_uri, 'policy_uri');
    const scopes = parseScope(meta.scope);
    const unknown = scopes.filter((s) => !SUPPORTED_SCOPES.includes(s) && !FRONT_END_SCOPES.includes(s));
    if (scopes.length === 0 || unknown.length > 0) {
      throw new OAuthError(
        'invalid_client_metadata',
        `Unsupported scope(s): ${unknown.join(' ') || '(none)'}.`,
      );
    }
    const kind = kindOf(scopes);
    if (!kind) {
      throw new OAuthError(
        'invalid_client_metadata',
        'A client is an issuer platform (Open Badges scopes) or a front end (earner-API scopes), not both.',
      );
    }
    const authMethod = meta.token_endpoint_auth_method ?? 'client_secret_basic';
    if (authMethod === 'none' && kind !== 'front_end') {
      throw new OAuthError(
        'invalid_client_metadata',
        'Issuer platforms are confidential clients: token_endpoint_auth_method none is for front ends.',
      );
    }
    // A front end's pages may call the API from the origins it is sent back to.
    const origins =
      kind === 'front_end' ? [...new Set(meta.redirect_uris.map((u) => new URL(u).origin))] : [];
    const grantTypes = meta.grant_types ?? ['authorization_code', 'refresh_token'];
    if (!grantTypes.includes('authorization_code')) {
      throw new OAuthError('invalid_client_metadata', 'grant_types must include authorization_code.');
    }
    if (imitatesService(meta.client_name, this.options.serviceName)) {
      throw new OAuthError(
        'client_name_refused',
        `client_name reads as the service's own name; a platform must go by its own.`,
      );
    }
    const issuedAt = this.now();
    const recent = await this.prisma.connectClient.count({
      where: { registeredBy: registrant, createdAt: { gt: new Date(issuedAt.getTime() - HOUR_MS) } },
    });
    if (recent >= this.options.registrationsPerNetworkPerHour) {
      throw new Problem(
        'rate_limited',
        'This network has registered as many clients as it may this hour.',
        {},
        { 'retry-after': String(HOUR_MS / 1000) },
      );
    }
    const secret = authMethod === 'none' ? null : newSecret();
    const id = newId();
    const contacts = meta.contacts ?? [];
    const row = await this.prisma.connectClient.create({
      data: {
        id,
        kind,
        secretHash: secret === null ? null : hashSecret(secret),
        name: meta.client_name,
        clientUri: meta.client_uri,
        logoUri: meta.logo_uri ?? null,
        tosUri: meta.tos_uri ?? null,
        policyUri: meta.policy_uri ?? null,
        softwareId: meta.software_id ?? null,
        softwareVersion: meta.software_version ?? null,
        redirectUrisJson: JSON.stringify([...new Set(meta.redirect_uris)]),
        contactsJson: JSON.stringify(contacts),
        scope: scopes.join(' '),
        tokenEndpointAuthMethod: authMethod,
        registeredBy: registrant,
        createdAt: issuedAt,
        origins: { create: origins.map((origin) => ({ origin })) },
      },
    });
    return { client: toClient(row), secret, issuedAt, grantTypes, contacts };
  }

  async findClient(id: string): Promise<Client | null> {
    if (id.length > 100) return null;
    const row = await this.prisma.connectClient.findUnique({ where: { id } });
    return row ? toClient(row) : null;
  }

  /** A public client (token_endpoint_auth_method none) by its id; null for any other. */
  async publicClient(id: string): Promise<Client | null> {
    const client = await this.findClient(id);
    return client?.tokenEndpointAuthMethod === 'none' ? client : null;
  }

  /** Whether a front end registered a redirect URI at this origin (for CORS, without cookies). */
  async isFrontEndOrigin(origin: string): Promise<boolean> {
    if (origin.length > 300) return false;
    const row = await this.prisma.connectClientOrigin.findFirst({
      where: { origin },
      select: { clientId: true },
    });
    return row !== null;
  }

  /** The client when the id and secret match; null otherwise (unknown ids cost the same hash). */
  async authenticateClient(id: string, secret: string): Promise<Client | null> {
    const client = await this.findClient(id);
    const presented = hashSecret(secret);
    if (!client?.secretHash) return null;
    return sameHash(client.secretHash, presented) ? client : null;
  }

  /** Records what the consent page shows; the form carries the id and the anti-forgery secret. */
  async createConsentRequest(input: {
    sessionId: string;
    earnerId: string;
    clientId: string;
    redirectUri: string;
    scopes: string[];
    state: string | null;
    codeChallenge: string;
  }): Promise<{ id: string; csrf: string }> {
    const id = newId();
    const csrf = newSecret();
    const now = this.now();
    await this.prisma.connectConsentRequest.create({
      data: {
        id,
        csrfHash: hashSecret(csrf),
        sessionId: input.sessionId,
        earnerId: input.earnerId,
        clientId: input.clientId,
        redirectUri: input.redirectUri,
        scope: input.scopes.join(' '),
        state: input.state,
        codeChallenge: input.codeChallenge,
        createdAt: now,
        expiresAt: new Date(now.getTime() + CONSENT_TTL_MS),
      },
    });
    return { id, csrf };
  }

  /**
   * Applies the earner's decision to a consent request shown in the same session. The request
   * is consumed whatever the decision, so a form can be posted once only. Null when the request
   * is unknown, expired, of another session, or the anti-forgery token does not match.
   */
  async decide(input: {
    requestId: string;
    csrf: string;
    sessionId: string;
    earnerId: string;
    approve: boolean;
  }): Promise<{ redirectUri: string; state: string | null; code: string | null } | null> {
    const request = await this.prisma.connectConsentRequest.findUnique({ where: { id: input.requestId } });
    if (
      !request ||
      request.sessionId !== input.sessionId ||
      request.earnerId !== input.earnerId ||
      !sameHash(request.csrfHash, hashSecret(input.csrf))
    ) {
      return null;
    }
    const consumed = await this.prisma.connectConsentRequest.deleteMany({ where: { id: request.id } });
    const now = this.now();
    if (consumed.count !== 1 || request.expiresAt <= now) return null;
    if (!input.approve) return { redirectUri: request.redirectUri, state: request.state, code: null };

    const code = newSecret();
    const scopes = parseScope(request.scope);
    await this.prisma.$transaction(async (tx) => {
      const existing = await tx.connectGrant.findUnique({
        where: { earnerId_clientId: { earnerId: request.earnerId, clientId: request.clientId } },
      });
      // The consent covers what was agreed now and before; each token still carries only the
      // scopes of the consent that produced it.
      const union = [...new Set([...parseScope(existing?.scope), ...scopes])].join(' ');
      const grant = await tx.connectGrant.upsert({
        where: { earnerId_clientId: { earnerId: request.earnerId, clientId: request.clientId } },
        create: {
          id: newId(),
          earnerId: request.earnerId,
          clientId: request.clientId,
          scope: union,
          createdAt: now,
        },
        update: { scope: union },
      });
      await tx.connectAuthCode.create({
        data: {
          id: newId(),
          codeHash: hashSecret(code),
          grantId: grant.id,
          redirectUri: request.redirectUri,
          scope: scopes.join(' '),
          codeChallenge: request.codeChallenge,
          familyId: newId(),
          createdAt: now,
          expiresAt: new Date(now.getTime() + CODE_TTL_MS),
        },
      });
    });
    return { redirectUri: request.redirectUri, state: request.state, code };
  }

  async exchangeCode(client: Client, input: { code?: string; redirectUri?: string; codeVerifier?: string }) {
    if (!input.code) throw new OAuthError('invalid_request', 'code is required.');
    if (!input.redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required.');
    if (!input.codeVerifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE).');
    if (!VERIFIER.test(input.codeVerifier)) {
      throw new OAuthError(
        'invalid_request',
        'code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~.',
      );
    }
    const row = await this.prisma.connectAuthCode.findUnique({
      where: { codeHash: hashSecret(input.code) },
      include: { grant: { select: { clientId: true } } },
    });
    const now = this.now();
    if (!row || row.grant.clientId !== client.id) {
      throw new OAuthError('invalid_grant', 'The code is unknown, expired or already used.');
    }
    const claimed = await this.prisma.connectAuthCode.updateMany({
      where: { id: row.id, usedAt: null },
      data: { usedAt: now },
    });
    if (claimed.count !== 1) {
      // A replayed code may be in an attacker's hands: what it produced is revoked (RFC 6749
      // 4.1.2). The code is marked first, so that an exchange still issuing sees it afterwards.
      await this.prisma.connectAuthCode.updateMany({ where: { id: row.id }, data: { expiresAt: REPLAYED } });
      await this.prisma.connectToken.deleteMany({ where: { familyId: row.familyId } });
      throw new OAuthError('invalid_grant', 'The code is unknown, expired or already used.');
    }
    if (row.expiresAt <= now)
      throw new OAuthError('invalid_grant', 'The code is unknown, expired or already used.');
    if (row.redirectUri !== input.redirectUri) {
      throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request.');
    }
    if (!sameHash(pkceChallenge(input.codeVerifier), row.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge.');
    }
    const tokens = await this.issue(client.kind, row.grantId, row.familyId, parseScope(row.scope));
    const after = await this.prisma.connectAuthCode.findUnique({
      where: { id: row.id },
      select: { expiresAt: true },
    });
    if (!after || after.expiresAt.getTime() === REPLAYED.getTime()) {
      await this.prisma.connectToken.deleteMany({ where: { familyId: row.familyId } });
      throw new OAuthError('invalid_grant', 'The code is unknown, expired or already used.');
    }
    return tokens;
  }

  async refresh(client: Client, input: { refreshToken?: string; scope?: string }): Promise<TokenSet> {
    if (!input.refreshToken) throw new OAuthError('invalid_request', 'refresh_token is required.');
    const invalid = new OAuthError('invalid_grant', 'The refresh token is unknown, expired or revoked.');
    if (!input.refreshToken.startsWith(REFRESH_PREFIX)) throw invalid;
    const row = await this.prisma.connectToken.findUnique({
      where: { tokenHash: hashSecret(input.refreshToken) },
      include: { grant: { select: { clientId: true } } },
    });
    if (row?.kind !== 'refresh' || row.grant.clientId !== client.id) throw invalid;
    const now = this.now();
    const rotated = await this.prisma.connectToken.updateMany({
      where: { id: row.id, rotatedAt: null },
      data: { rotatedAt: now },
    });
    if (rotated.count !== 1) {
      // A rotated refresh token came back: one of its two holders is not the client.
      await this.prisma.connectToken.deleteMany({ where: { familyId: row.familyId } });
      throw invalid;
    }
    if (row.expiresAt <= now) throw invalid;
    let scopes = parseScope(row.scope);
    if (input.scope !== undefined) {
      const asked = parseScope(input.scope);
      if (asked.some((s) => !scopes.includes(s))) {
        throw new OAuthError('invalid_scope', 'A refresh cannot widen the scope.');
      }
      scopes = asked;
    }
    // The access tokens of earlier rotations are superseded by the new one.
    await this.prisma.connectToken.deleteMany({
      where: { familyId: row.familyId, kind: 'access' },
    });
    const tokens = await this.issue(client.kind, row.grantId, row.familyId, scopes);
    // A concurrent replay revokes the family by deleting its rows, this one included.
    if (!(await this.prisma.connectToken.findUnique({ where: { id: row.id }, select: { id: true } }))) {
      await this.prisma.connectToken.deleteMany({ where: { familyId: row.familyId } });
      throw invalid;
    }
    return tokens;
  }

  private async issue(
    kind: ClientKind,
    grantId: string,
    familyId: string,
    scopes: string[],
  ): Promise<TokenSet> {
    const now = this.now();
    const accessTtlMs = kind === 'front_end' ? this.options.frontEndAccessTtlMs : this.options.accessTtlMs;
    const refreshTtlMs = kind === 'front_end' ? this.options.frontEndRefreshTtlMs : this.options.refreshTtlMs;
    const access = `${ACCESS_PREFIX}${newSecret()}`;
    const refresh = `${REFRESH_PREFIX}${newSecret()}`;
    const scope = scopes.join(' ');
    await this.prisma.connectToken.createMany({
      data: [
        {
          id: newId(),
          tokenHash: hashSecret(access),
          kind: 'access',
          grantId,
          familyId,
          scope,
          createdAt: now,
          expiresAt: new Date(now.getTime() + accessTtlMs),
        },
        {
          id: newId(),
          tokenHash: hashSecret(refresh),
          kind: 'refresh',
          grantId,
          familyId,
          scope,
          createdAt: now,
          expiresAt: new Date(now.getTime() + refreshTtlMs),
        },
      ],
    });
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: Math.floor(accessTtlMs / 1000),
      refresh_token: refresh,
      scope,
    };
  }

  /** RFC 7009: a refresh token takes its family with it; tokens of other clients stay. */
  async revoke(client: Client, token: string): Promise<void> {
    if (!token.startsWith(ACCESS_PREFIX) && !token.startsWith(REFRESH_PREFIX)) return;
    const row = await this.prisma.connectToken.findUnique({
      where: { tokenHash: hashSecret(token) },
      include: { grant: { select: { clientId: true } } },
    });
    if (!row || row.grant.clientId !== client.id) return;
    if (row.kind === 'refresh') {
      await this.prisma.connectToken.deleteMany({ where: { familyId: row.familyId } });
    } else {
      await this.prisma.connectToken.deleteMany({ where: { id: row.id } });
    }
  }

  /** The grant behind a live access token, or null (unknown, expired, revoked, consent withdrawn). */
  async resolveAccess(secret: string): Promise<AccessGrant | null> {
    if (!secret.startsWith(ACCESS_PREFIX) || secret.length > 100) return null;
    const row = await this.findAccess(hashSecret(secret));
    const now = this.now();
    if (row?.kind !== 'access' || row.expiresAt <= now) return null;
    const last = row.lastUsedAt;
    if (!last || now.getTime() - last.getTime() > TOUCH_INTERVAL_MS) {
      await this.prisma.connectGrant.updateMany({ where: { id: row.grantId }, data: { lastUsedAt: now } });
    }
    return {
      tokenId: row.id,
      grantId: row.grantId,
      earnerId: row.earnerId,
      clientId: row.clientId,
      clientKind: row.clientKind === 'front_end' ? 'front_end' : 'issuer_platform',
      scopes: parseScope(row.scope),
      suspended: row.suspended,
    };
  }

  /** The token with its grant and client kind: one prepared read (a join) when there is a reader. */
  private async findAccess(tokenHash: string): Promise<{
    id: string;
    kind: string;
    scope: string;
    expiresAt: Date;
    grantId: string;
    earnerId: string;
    clientId: string;
    lastUsedAt: Date | null;
    clientKind: string;
    suspended: boolean;
  } | null> {
    const raw = this.options.raw;
    if (!raw) {
      const row = await this.prisma.connectToken.findUnique({
        where: { tokenHash },
        include: {
          grant: {
            select: {
              id: true,
              earnerId: true,
              clientId: true,
              lastUsedAt: true,
              client: { select: { kind: true, suspendedAt: true } },
            },
          },
        },
      });
      if (!row) return null;
      const { grant } = row;
      return {
        id: row.id,
        kind: row.kind,
        scope: row.scope,
        expiresAt: row.expiresAt,
        grantId: grant.id,
        earnerId: grant.earnerId,
        clientId: grant.clientId,
        lastUsedAt: grant.lastUsedAt,
        clientKind: grant.client.kind,
        suspended: grant.client.suspendedAt !== null,
      };
    }
    const row = await raw.get<Record<string, unknown>>(
      'SELECT t."id", t."kind", t."scope", t."expiresAt", g."id" AS "grantId", g."earnerId", g."clientId", g."lastUsedAt", c."kind" AS "clientKind", c."suspendedAt" FROM "connect_tokens" t JOIN "connect_grants" g ON g."id" = t."grantId" JOIN "connect_clients" c ON c."id" = g."clientId" WHERE t."tokenHash" = ?',
      [tokenHash],
    );
    if (!row) return null;
    return {
      id: String(row.id),
      kind: String(row.kind),
      scope: String(row.scope),
      expiresAt: toDate(row.expiresAt),
      grantId: String(row.grantId),
      earnerId: String(row.earnerId),
      clientId: String(row.clientId),
      lastUsedAt: row.lastUsedAt === null || row.lastUsedAt === undefined ? null : toDate(row.lastUsedAt),
      clientKind: String(row.clientKind),
      suspended: row.suspendedAt !== null && row.suspendedAt !== undefined,
    };
  }

  /** The earner's consents, most recent first; with `page`, that page only (the export takes all). */
  async listGrants(earnerId: string, page?: { limit: number; offset: number }) {
    return this.prisma.connectGrant.findMany({
      where: { earnerId },
      include: { client: { select: { name: true, clientUri: true, logoUri: true, kind: true } } },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      ...(page ? { take: page.limit, skip: page.offset } : {}),
    });
  }

  async countGrants(earnerId: string): Promise<number> {
    return this.prisma.connectGrant.count({ where: { earnerId } });
  }

  /** Withdraws consent: the grant goes, and its codes and tokens with it (cascade). */
  async revokeGrant(earnerId: string, clientId: string): Promise<boolean> {
    const { count } = await this.prisma.connectGrant.deleteMany({ where: { earnerId, clientId } });
    return count > 0;
  }

  async report(input: {
    earnerId: string;
    clientId: string;
    issuerId: string;
    badgeName: string;
    comment: string;
  }): Promise<void> {
    await this.prisma.connectReport.create({
      data: { id: newId(), ...input, createdAt: this.now() },
    });
  }

  async clientNames(ids: string[]): Promise<Map<string, string>> {
    const rows = await this.prisma.connectClient.findMany({
      where: { id: { in: ids } },
      select: { id: true, name: true },
    });
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  /** Removes what can no longer be used; run by the retention job. */
  async purgeExpired(now: Date): Promise<void> {
    await this.prisma.connectToken.deleteMany({ where: { expiresAt: { lte: now } } });
    await this.prisma.connectConsentRequest.deleteMany({ where: { expiresAt: { lte: now } } });
    // Used codes are kept a while after expiry so that a late replay still revokes its family.
    await this.prisma.connectAuthCode.deleteMany({
      where: { expiresAt: { lte: new Date(now.getTime() - 24 * 3_600_000) } },
    });
  }
}

export function validChallenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

/** RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function toClient(row: {
  id: string;
  kind: string;
  secretHash: string | null;
  name: string;
  clientUri: string;
  logoUri: string | null;
  tosUri: string | null;
  policyUri: string | null;
  redirectUrisJson: string;
  scope: string;
  tokenEndpointAuthMethod: string;
  suspendedAt: Date | null;
}): Client {
  return {
    id: row.id,
    kind: row.kind === 'front_end' ? 'front_end' : 'issuer_platform',
    secretHash: row.secretHash,
    name: row.name,
    clientUri: row.clientUri,
    logoUri: row.logoUri,
    tosUri: row.tosUri,
    policyUri: row.policyUri,
    redirectUris: JSON.parse(row.redirectUrisJson) as string[],
    scopes: parseScope(row.scope),
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod,
    suspended: row.suspendedAt !== null,
  };
}
