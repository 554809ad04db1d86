// An issuer platform's view of the backpack for connect tests: the app listening on a loopback
// port with PUBLIC_URL pointing at it (issuer metadata must name the URL clients use), an
// adjustable clock, and the steps a platform and an earner's browser take.
import type { FastifyInstance } from 'fastify';
import * as oauth from 'oauth4webapi';
import { buildApp } from '../../src/app.ts';
import type { Database } from '../../src/db/client.ts';
import { testConfig } from './app.ts';
import type { TestEarner } from './earners.ts';
import { freePort } from './server.ts';

export interface Clock {
  now: Date;
  advance(ms: number): void;
}

export interface ConnectServer {
  app: FastifyInstance;
  base: string;
  clock: Clock;
  as: oauth.AuthorizationServer;
  close(): Promise<void>;
}

export const insecure = { [oauth.allowInsecureRequests]: true } as const;

export async function startConnectServer(
  db: Database,
  env: Record<string, string> = {},
): Promise<ConnectServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const clock: Clock = {
    now: new Date(),
    advance(ms) {
      this.now = new Date(this.now.getTime() + ms);
    },
  };
  const app = await buildApp({
    config: testConfig({ PUBLIC_URL: base, RATE_LIMIT_MAX: '100000', ...env }),
    db,
    now: () => clock.now,
  });
  await app.listen({ host: '127.0.0.1', port });
  const issuer = new URL(base);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );
  return { app, base, clock, as, close: () => app.close() };
}

export interface Platform {
  client: oauth.Client;
  secret: string;
  auth: oauth.ClientAuth;
  redirectUri: string;
}

export async function registerPlatform(
  server: ConnectServer,
  scope: string,
  overrides: Record<string, unknown> = {},
): Promise<Platform> {
  const redirectUri = 'http://127.0.0.1:9/callback';
  const response = await oauth.dynamicClientRegistrationRequest(
    server.as,
    {
      client_name: 'Test Issuer Platform',
      client_uri: 'https://issuer.example',
      logo_uri: 'https://issuer.example/logo.png',
      tos_uri: 'https://issuer.example/terms',
      policy_uri: 'https://issuer.example/privacy',
      software_id: 'test-platform',
      software_version: '1.0',
      redirect_uris: [redirectUri],
      scope,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...overrides,
    },
    insecure,
  );
  const client = await oauth.processDynamicClientRegistrationResponse(response);
  const secret = client.client_secret as string;
  return { client, secret, auth: oauth.ClientSecretBasic(secret), redirectUri };
}

export interface Authorization {
  verifier: string;
  state: string;
  url: URL;
}

export async function authorizationUrl(
  server: ConnectServer,
  platform: Platform,
  scope: string,
  extra: Record<string, string> = {},
): Promise<Authorization> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(server.as.authorization_endpoint as string);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', platform.client.client_id);
  url.searchParams.set('redirect_uri', platform.redirectUri);
  url.searchParams.set('scope', scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
  return { verifier, state, url };
}

/** The hidden fields of the consent page's form for `decision`. */
export function formFields(html: string, decision: 'approve' | 'deny'): Record<string, string> {
  const forms = [...html.matchAll(/<form method="post" action="([^"]+)">(.*?)<\/form>/gs)];
  for (const [, , inner] of forms) {
    const fields: Record<string, string> = {};
    for (const m of (inner ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      fields[m[1] as string] = (m[2] as string).replaceAll('&amp;', '&');
    }
    if (fields.decision === decision) return fields;
  }
  throw new Error(`no ${decision} form in the page`);
}

/** What the earner's browser does: open the consent page, post the chosen form, follow nothing. */
export async function consent(
  server: ConnectServer,
  earner: TestEarner,
  auth: Authorization,
  decision: 'approve' | 'deny' = 'approve',
): Promise<URL> {
  const page = await fetch(auth.url, { headers: { cookie: earner.session.cookie }, redirect: 'manual' });
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${await page.text()}`);
  const fields = formFields(await page.text(), decision);
  const posted = await fetch(server.as.authorization_endpoint as string, {
    method: 'POST',
    headers: {
      cookie: earner.session.cookie,
      origin: server.base,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  if (posted.status !== 303)
    throw new Error(`consent post answered ${posted.status}: ${await posted.text()}`);
  return new URL(posted.headers.get('location') as string);
}

/** Consent as the earner for a registered client and exchange the code: tokens in hand. */
export async function authorize(
  server: ConnectServer,
  client: Platform,
  earner: TestEarner,
  scope: string,
): Promise<oauth.TokenEndpointResponse> {
  const auth = await authorizationUrl(server, client, scope);
  const callback = await consent(server, earner, auth);
  const params = oauth.validateAuthResponse(server.as, client.client, callback, auth.state);
  const response = await oauth.authorizationCodeGrantRequest(
    server.as,
    client.client,
    client.auth,
    params,
    client.redirectUri,
    auth.verifier,
    insecure,
  );
  return oauth.processAuthorizationCodeResponse(server.as, client.client, response);
}

/** Register, consent and exchange: a platform holding tokens for the earner. */
export async function connectPlatform(
  server: ConnectServer,
  earner: TestEarner,
  scope: string,
): Promise<{ platform: Platform; tokens: oauth.TokenEndpointResponse }> {
  const platform = await registerPlatform(server, scope);
  return { platform, tokens: await authorize(server, platform, earner, scope) };
}

export const FRONT_END_ORIGIN = 'http://localhost:5173';

/** A front end on another site, registered as a public client (no secret). */
export async function registerFrontEnd(
  server: ConnectServer,
  scope: string,
  overrides: Record<string, unknown> = {},
): Promise<Platform> {
  const redirectUri = `${FRONT_END_ORIGIN}/callback`;
  const response = await oauth.dynamicClientRegistrationRequest(
    server.as,
    {
      client_name: 'Test Front End',
      client_uri: FRONT_END_ORIGIN,
      redirect_uris: [redirectUri],
      scope,
      token_endpoint_auth_method: 'none',
      ...overrides,
    },
    insecure,
  );
  const client = await oauth.processDynamicClientRegistrationResponse(response);
  return { client, secret: '', auth: oauth.None(), redirectUri };
}

/** Register a front end, consent as the earner and exchange the code: tokens in hand. */
export async function connectFrontEnd(
  server: ConnectServer,
  earner: TestEarner,
  scope: string,
): Promise<{ frontEnd: Platform; tokens: oauth.TokenEndpointResponse }> {
  const frontEnd = await registerFrontEnd(server, scope);
  return { frontEnd, tokens: await authorize(server, frontEnd, earner, scope) };
}
