// The consent page as browsers use it: Chromium posts `Origin: null` under a no-referrer
// policy, so the page asks for a same-origin one, and a withheld origin is judged by
// Sec-Fetch-Site and the single-use token; a visitor who is not signed in is sent to the
// backpack's own sign-in page and back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../../src/modules/connect/index.ts';
import {
  authorizationUrl,
  type ConnectServer,
  formFields,
  registerPlatform,
  startConnectServer,
} from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

const CREATE = SCOPES.assertionCreate;

describeEachDatabase('connect: the consent page in browsers', (current) => {
  let server: ConnectServer;
  beforeAll(async () => {
    server = await startConnectServer(current().db);
  });
  afterAll(async () => {
    await server?.close();
  });

  async function openConsent(earner: TestEarner) {
    const platform = await registerPlatform(server, CREATE);
    const auth = await authorizationUrl(server, platform, CREATE);
    const page = await fetch(auth.url, { headers: { cookie: earner.session.cookie }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    return { auth, fields: formFields(await page.text(), 'approve') };
  }

  const post = (earner: TestEarner, fields: Record<string, string>, headers: Record<string, string>) =>
    fetch(`${server.base}/v1/oauth/authorize`, {
      method: 'POST',
      headers: {
        cookie: earner.session.cookie,
        'content-type': 'application/x-www-form-urlencoded',
        ...headers,
      },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });

  it('accepts the page’s own form when the browser withholds the origin', async () => {
    const earner = await createEarner(server.app);
    const { auth, fields } = await openConsent(earner);
    const res = await post(earner, fields, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') as string);
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toBe(auth.state);
  });

  it('refuses a post from another site, whether it names its origin or withholds it', async () => {
    const earner = await createEarner(server.app);
    const { fields } = await openConsent(earner);
    const named = await post(earner, fields, {
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    });
    expect(named.status).toBe(403);
    const withheld = await post(earner, fields, { origin: 'null', 'sec-fetch-site': 'cross-site' });
    expect(withheld.status).toBe(403);
    // Neither consumed the request: the page's own post still goes through.
    const own = await post(earner, fields, { origin: server.base, 'sec-fetch-site': 'same-origin' });
    expect(own.status).toBe(303);
  });

  it('refuses a withheld origin without the page’s token', async () => {
    const earner = await createEarner(server.app);
    const { fields } = await openConsent(earner);
    const res = await post(earner, { ...fields, csrf_token: 'A'.repeat(43) }, { origin: 'null' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('expired or was already answered');
  });

  it('sends a visitor who is not signed in to the sign-in page, with the way back', async () => {
    const platform = await registerPlatform(server, CREATE);
    const auth = await authorizationUrl(server, platform, CREATE, { unknown_extension: 'x' });
    const page = await fetch(auth.url, { redirect: 'manual' });
    expect(page.status).toBe(401);
    const html = await page.text();
    expect(html).toContain('Test Issuer Platform asks to connect');
    const href = /id="sign-in" href="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&') as string;
    const signIn = new URL(href);
    expect(`${signIn.origin}${signIn.pathname}`).toBe(`${server.base}/sign-in`);
    const back = new URL(signIn.searchParams.get('return_to') as string, server.base);
    expect(back.pathname).toBe('/v1/oauth/authorize');
    for (const name of [
      'client_id',
      'redirect_uri',
      'scope',
      'state',
      'code_challenge',
      'code_challenge_method',
    ]) {
      expect(back.searchParams.get(name), name).toBe(auth.url.searchParams.get(name));
    }
    expect(back.searchParams.has('unknown_extension')).toBe(false);
    const signInPage = await fetch(signIn, { redirect: 'manual' });
    expect(signInPage.status).toBe(200);
    expect(await signInPage.text()).toContain(`name="return_to" value="${back.pathname}?`);
  });
});
