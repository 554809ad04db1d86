// Signing in and consenting in a real browser: headless Chromium, the backpack listening on
// 127.0.0.1 and a front end served from another site (localhost) doing authorization code +
// PKCE in page script with an independent OAuth library; an issuer platform's consent
// approved by clicking Allow; and a visitor without a backpack who follows a platform's
// consent link, signs in by e-mailed link, states an age and lands back on the consent.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import * as oauth from 'oauth4webapi';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { applyMigrations } from '../../src/db/migrations.ts';
import { SCOPES } from '../../src/modules/connect/index.ts';
import { uniqueAddress } from '../support/accounts.ts';
import { testConfig } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { createEmptyDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';
import { mailTo } from '../support/mail.ts';
import { freePort, PROJECT_ROOT } from '../support/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
if (missing && !process.env.CI) {
  console.warn(`sign-in browser tests SKIPPED: ${CHROMIUM} is absent (apt-get install -y chromium)`);
}
const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe.skipIf(missing && !process.env.CI)('signing in and consenting in headless Chromium', () => {
  let app: FastifyInstance;
  let db: Database;
  let drop: () => Promise<void>;
  let browser: Browser;
  let api: string;
  let site: Server;
  let siteOrigin: string;
  let issuer: LocalIssuer;
  let as: oauth.AuthorizationServer;
  /** What the front end's site serves at /: its page, with the settings it was registered with. */
  let frontEndSettings = '{}';
  const platformCallbacks: URL[] = [];

  beforeAll(async () => {
    const created = await createEmptyDatabase('sqlite');
    drop = created.drop;
    await applyMigrations(created.url);
    db = await openDatabase(created.url);
    issuer = await LocalIssuer.start();
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    app = await buildApp({
      config: testConfig({
        PUBLIC_URL: api,
        RATE_LIMIT_MAX: '100000',
        SIGN_IN_RATE_LIMIT_MAX: '1000',
        FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      }),
      db,
      logger: false,
    });
    await app.listen({ host: '127.0.0.1', port });
    const issuerUrl = new URL(api);
    as = await oauth.processDiscoveryResponse(
      issuerUrl,
      await oauth.discoveryRequest(issuerUrl, { algorithm: 'oauth2', ...insecure }),
    );

    // Another site: `localhost` is not the same site as `127.0.0.1` to a browser.
    const page = readFileSync(new URL('./fixtures/front-end.html', import.meta.url), 'utf8');
    const library = readFileSync(`${PROJECT_ROOT}node_modules/oauth4webapi/build/index.js`, 'utf8');
    site = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/oauth4webapi.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(library);
      } else if (url.pathname === '/' || url.pathname === '/callback') {
        const settings = `<script type="application/json" id="settings">${frontEndSettings}</script>`;
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(page.replace('<script type="module">', `${settings}\n<script type="module">`));
      } else if (url.pathname === '/platform/callback') {
        platformCallbacks.push(url);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('platform received the answer');
      } else {
        res.writeHead(404).end();
      }
    });
    const sitePort = await freePort();
    await new Promise<void>((resolve) => site.listen(sitePort, '127.0.0.1', resolve));
    siteOrigin = `http://localhost:${sitePort}`;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await app?.close();
    await db?.close();
    await issuer?.close();
    await drop?.();
  });

  /** The e-mailed link for the address, as the earner's mail client shows it. */
  function mailedLink(address: string): string {
    const link = /(http\S+#code=[A-Za-z0-9_-]{43})/.exec(mailTo(app, address).at(-1)?.text ?? '')?.[1];
    if (!link) throw new Error(`no sign-in link mailed to ${address}`);
    return link;
  }

  /** From the backpack's "sign in first" page to the page after the age question. */
  async function signUpThroughPages(page: Page, address: string, age: string): Promise<void> {
    await Promise.all([page.waitForURL(/\/sign-in\?return_to=/), page.click('#sign-in')]);
    await page.fill('#email', address);
    await Promise.all([
      page.waitForURL(/\/sign-in\/email-links$/),
      page.click('form[action="/sign-in/email-links"] button'),
    ]);
    expect(await page.locator('h1').textContent()).toBe('Check your e-mail');
    // The earner opens the mailed link: the backpack's page, the secret in its fragment.
    const link = mailedLink(address);
    await page.goto(link);
    expect(new URL(page.url()).hash).toMatch(/^#code=/);
    await page.fill('#code', link);
    await Promise.all([page.waitForURL(/\/sign-in$/), page.click('form[action="/sign-in"] button')]);
    expect(await page.locator('h1').textContent()).toBe('Create your backpack');
    await page.fill('#age', age);
    await Promise.all([
      page.waitForURL(/\/v1\/oauth\/authorize\?/),
      page.click('form[action="/sign-in"] button'),
    ]);
  }

  it('(a) a front end on another site signs an earner in with code + PKCE, lists badges, refreshes and signs out', async () => {
    const registered = await fetch(`${api}/v1/oauth/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Badge Viewer',
        client_uri: siteOrigin,
        redirect_uris: [`${siteOrigin}/callback`],
        scope: 'badges:read profile:read',
        token_endpoint_auth_method: 'none',
        application_type: 'web',
      }),
    });
    expect(registered.status).toBe(201);
    const { client_id } = (await registered.json()) as { client_id: string };
    frontEndSettings = JSON.stringify({ api, clientId: client_id, scope: 'badges:read profile:read' });

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${siteOrigin}/`);
    await page.waitForFunction(`document.getElementById('status').textContent !== 'loading'`);
    expect(await page.locator('#status').textContent()).toBe('signed out');

    await Promise.all([page.waitForURL(/\/v1\/oauth\/authorize\?/), page.click('#sign-in')]);
    expect(await page.locator('h1').textContent()).toBe('Sign in to your backpack first');
    const address = uniqueAddress('browser');
    await signUpThroughPages(page, address, '30');
    expect(await page.locator('h1').textContent()).toBe('Badge Viewer wants to open your backpack');

    const earnerId = await app.services.accounts.service.earnerByVerifiedAddress(address);
    expect(earnerId).not.toBeNull();
    await insertBadge(app, earnerId as string, { recipient: address, name: 'Browser badge' });

    await Promise.all([page.waitForURL(`${siteOrigin}/callback?**`), page.click('button:text-is("Allow")')]);
    await page.waitForFunction(`document.getElementById('status').textContent !== 'loading'`, undefined, {
      timeout: 20_000,
    });
    expect(await page.locator('#status').textContent()).toBe('done');
    expect((await page.locator('#log').textContent())?.trim().split('\n')).toEqual([
      'signed in badges:read profile:read',
      'list 200 Browser badge',
      'rotated true',
      'old token 401',
      'list 200 Browser badge',
      'signed out 401',
    ]);
    await context.close();
  });

  async function registerPlatform(scope: string) {
    const redirectUri = `${siteOrigin}/platform/callback`;
    const client = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          client_name: 'Example Issuer Platform',
          client_uri: 'https://issuer.example',
          redirect_uris: [redirectUri],
          scope,
          token_endpoint_auth_method: 'client_secret_basic',
        },
        insecure,
      ),
    );
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint as string);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirectUri,
      scope,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    return {
      client,
      auth: oauth.ClientSecretBasic(client.client_secret as string),
      redirectUri,
      verifier,
      state,
      url,
    };
  }

  it('(b) an issuer platform’s consent is approved by clicking Allow, and its token pushes a badge', async () => {
    const earner = await createEarner(app);
    const address = earner.addresses[0] as string;
    const platform = await registerPlatform(SCOPES.assertionCreate);
    const context = await browser.newContext();
    const [name, value] = earner.session.cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, url: api }]);
    const page = await context.newPage();
    await page.goto(platform.url.href);
    expect(await page.locator('h1').textContent()).toBe(
      'Example Issuer Platform wants to connect to your backpack',
    );
    const waiting = platformCallbacks.length;
    await Promise.all([
      page.waitForURL(`${siteOrigin}/platform/callback?**`),
      page.click('button:text-is("Allow")'),
    ]);
    expect(platformCallbacks.length).toBe(waiting + 1);
    const callback = new URL(page.url());

    const params = oauth.validateAuthResponse(as, platform.client, callback, platform.state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      platform.client,
      await oauth.authorizationCodeGrantRequest(
        as,
        platform.client,
        platform.auth,
        params,
        platform.redirectUri,
        platform.verifier,
        insecure,
      ),
    );
    const hosted = issuer.hosted(address, { name: 'Pushed after Allow' });
    const pushed = await oauth.protectedResourceRequest(
      tokens.access_token,
      'POST',
      new URL('/ims/ob/v2p1/assertions', api),
      new Headers({ 'content-type': 'application/json' }),
      JSON.stringify({ id: hosted.url }),
      insecure,
    );
    expect(pushed.status).toBe(201);
    const stored = await app.db.prisma.backpackItem.findMany({ where: { earnerId: earner.id } });
    expect(stored.map((b) => [b.name, b.source])).toEqual([
      ['Pushed after Allow', platform.client.client_id],
    ]);
    await context.close();
  });

  it('(c) a visitor with no backpack follows a consent link, signs in by e-mailed link, states an age and returns to the consent', async () => {
    const platform = await registerPlatform(SCOPES.assertionCreate);
    const context = await browser.newContext();
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(platform.url.href);
    expect(await page.locator('h1').textContent()).toBe('Sign in to your backpack first');
    const address = uniqueAddress('visitor');
    await signUpThroughPages(page, address, '16');

    // Back on the consent page, for the very request the platform made.
    const back = new URL(page.url());
    expect(back.pathname).toBe('/v1/oauth/authorize');
    expect(back.searchParams.get('state')).toBe(platform.state);
    expect(await page.locator('h1').textContent()).toBe(
      'Example Issuer Platform wants to connect to your backpack',
    );
    expect(await app.services.accounts.service.earnerByVerifiedAddress(address)).not.toBeNull();
    await Promise.all([
      page.waitForURL(`${siteOrigin}/platform/callback?**`),
      page.click('button:text-is("Allow")'),
    ]);
    const callback = new URL(page.url());
    expect(callback.searchParams.get('state')).toBe(platform.state);
    expect(callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // No page of the backpack tripped its own Content-Security-Policy.
    expect(consoleErrors.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
    await context.close();
  });
});
