// The backpack's own pages through HTTP: sign-in by e-mailed link without any front end (the
// pasted link, the age question, return_to kept to the service's pages, forms that only the
// page itself can send), the policies, and what the discovery documents say about them.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountsApp, uniqueAddress } from '../support/accounts.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { mailTo } from '../support/mail.ts';

const BASE = 'http://localhost:3000';

function cookies(res: LightMyRequestResponse): Record<string, string> {
  return Object.fromEntries(res.cookies.map((c) => [c.name, c.value]));
}

function field(html: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]?.replaceAll('&amp;', '&');
}

/** A visitor's browser: keeps cookies, posts the page's forms. */
class Visitor {
  jar: Record<string, string> = {};
  constructor(private readonly app: FastifyInstance) {}

  private cookieHeader(): string {
    return Object.entries(this.jar)
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader() } });
    Object.assign(this.jar, cookies(res));
    return res;
  }

  async post(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = { origin: BASE },
  ): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        cookie: this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
        ...headers,
      },
      payload: new URLSearchParams(form).toString(),
    });
    Object.assign(this.jar, cookies(res));
    return res;
  }
}

describeEachDatabase('the backpack’s own pages', (current) => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await accountsApp(current().db, { PUBLIC_URL: BASE, SIGN_IN_RATE_LIMIT_MAX: '1000' });
  });
  afterAll(async () => {
    await app.close();
  });

  async function askForLink(visitor: Visitor, address: string, returnTo?: string): Promise<string> {
    const page = await visitor.get(`/sign-in${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
    expect(page.statusCode).toBe(200);
    const token = field(page.body, 'form_token') as string;
    const sent = await visitor.post('/sign-in/email-links', {
      form_token: token,
      email: address,
      ...(returnTo ? { return_to: field(page.body, 'return_to') as string } : {}),
    });
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.body).toContain('Check your e-mail');
    const link = /(http\S+#code=\S+)/.exec(mailTo(app, address).at(-1)?.text ?? '')?.[1];
    expect(link).toBeDefined();
    return link as string;
  }

  it('serves a sign-in page with no script, a form token cookie and a same-origin referrer policy', async () => {
    const visitor = new Visitor(app);
    const res = await visitor.get('/sign-in');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('script-src');
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.body).not.toContain('<script');
    expect(field(res.body, 'form_token')).toBe(visitor.jar.backpack_form);
    // The token is kept across pages, so that two open tabs do not undo each other.
    const again = await visitor.get('/sign-in');
    expect(field(again.body, 'form_token')).toBe(visitor.jar.backpack_form);
    expect(again.cookies).toEqual([]);
  });

  it('creates a backpack from a pasted link after asking the age, and returns to the consent page', async () => {
    const visitor = new Visitor(app);
    const address = uniqueAddress('pages');
    const returnTo = '/v1/oauth/authorize?response_type=code&client_id=abc&state=x%20y';
    const link = await askForLink(visitor, address, returnTo);
    const url = new URL(link);
    expect(url.origin + url.pathname).toBe(`${BASE}/sign-in`);
    expect(url.searchParams.get('return_to')).toBe(returnTo);

    // The mailed link opens the page; the fragment stays in the browser, and the earner pastes it.
    const opened = await visitor.get(`${url.pathname}${url.search}`);
    expect(opened.statusCode).toBe(200);
    const token = field(opened.body, 'form_token') as string;
    const asked = await visitor.post('/sign-in', {
      form_token: token,
      code: `  ${link}  `,
      return_to: field(opened.body, 'return_to') as string,
    });
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain('How old are you?');
    expect(await app.services.accounts.service.earnerByVerifiedAddress(address)).toBeNull();

    const created = await visitor.post('/sign-in', {
      form_token: token,
      code: field(asked.body, 'code') as string,
      age: '14',
      return_to: field(asked.body, 'return_to') as string,
    });
    expect(created.statusCode).toBe(303);
    expect(created.headers.location).toBe(returnTo);
    expect(created.headers['cache-control']).toBe('no-store');
    const session = visitor.jar.backpack_session;
    expect(session).toBeDefined();
    const profile = await app.inject({
      method: 'GET',
      url: '/v1/profile',
      headers: { cookie: `backpack_session=${session}` },
    });
    expect(profile.statusCode).toBe(200);
    expect(await app.services.accounts.service.earnerByVerifiedAddress(address)).not.toBeNull();

    // Signed in, the page sends the earner straight on to return_to.
    const back = await visitor.get(`/sign-in?return_to=${encodeURIComponent(returnTo)}`);
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe(returnTo);
  });

  it('signs an existing earner in with the bare code, and the link works once', async () => {
    const visitor = new Visitor(app);
    const address = uniqueAddress('pages');
    await app.services.accounts.service.createEarner([address], null);
    const link = await askForLink(visitor, address);
    const code = new URL(link).hash.slice('#code='.length);
    const page = await visitor.get('/sign-in');
    const token = field(page.body, 'form_token') as string;
    const done = await visitor.post('/sign-in', { form_token: token, code });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/sign-in');
    const again = await new Visitor(app).get('/sign-in');
    const reused = await visitor.post('/sign-in', { form_token: token, code });
    expect(reused.statusCode).toBe(400);
    expect(reused.body).toContain('used already');
    expect(again.statusCode).toBe(200);
  });

  it('keeps return_to to the service’s own pages', async () => {
    for (const target of [
      '//evil.example/v1/oauth/authorize',
      '/\\evil.example',
      'https://evil.example/',
      'http://localhost:3000.evil.example/v1/oauth/authorize',
      '/v1/badges',
      'javascript:alert(1)',
      '/v1/oauth/authorize\n',
    ]) {
      const visitor = new Visitor(app);
      const page = await visitor.get(`/sign-in?return_to=${encodeURIComponent(target)}`);
      expect(page.statusCode).toBe(200);
      expect(field(page.body, 'return_to'), target).toBeUndefined();
      const address = uniqueAddress('pages');
      await app.services.accounts.service.createEarner([address], null);
      const sent = await visitor.post('/sign-in/email-links', {
        form_token: field(page.body, 'form_token') as string,
        email: address,
        return_to: target,
      });
      expect(sent.statusCode).toBe(200);
      const link = /(http\S+#code=\S+)/.exec(mailTo(app, address).at(-1)?.text ?? '')?.[1] as string;
      expect(new URL(link).search).toBe('');
      const done = await visitor.post('/sign-in', {
        form_token: field(page.body, 'form_token') as string,
        code: link,
        return_to: target,
      });
      expect(done.statusCode).toBe(303);
      expect(done.headers.location).toBe('/sign-in');
    }
  });

  it('refuses forms from other sites or without the page’s token, and takes Origin: null with it', async () => {
    const victim = new Visitor(app);
    const page = await victim.get('/sign-in');
    const token = field(page.body, 'form_token') as string;
    const address = uniqueAddress('pages');
    const attacker = new Visitor(app);
    const forged = await attacker.post('/sign-in/email-links', { form_token: token, email: address });
    expect(forged.statusCode).toBe(403);
    const crossSite = await victim.post(
      '/sign-in/email-links',
      { form_token: token, email: address },
      { origin: 'https://evil.example' },
    );
    expect(crossSite.statusCode).toBe(403);
    const wrongToken = await victim.post('/sign-in/email-links', {
      form_token: 'A'.repeat(43),
      email: address,
    });
    expect(wrongToken.statusCode).toBe(403);
    expect(mailTo(app, address)).toEqual([]);
    const withheld = await victim.post(
      '/sign-in/email-links',
      { form_token: token, email: address },
      { origin: 'null' },
    );
    expect(withheld.statusCode).toBe(200);
    expect(mailTo(app, address)).toHaveLength(1);
  });

  it('keeps nothing about someone under 13', async () => {
    const visitor = new Visitor(app);
    const address = uniqueAddress('child');
    const link = await askForLink(visitor, address);
    const page = await visitor.get('/sign-in');
    const res = await visitor.post('/sign-in', {
      form_token: field(page.body, 'form_token') as string,
      code: link,
      age: '12',
    });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('13 or older');
    expect(visitor.jar.backpack_session).toBeUndefined();
    expect(await app.services.accounts.service.earnerByVerifiedAddress(address)).toBeNull();
    expect(await app.db.prisma.signInCode.count({ where: { address } })).toBe(0);
  });

  it('answers a bad code and a malformed form with pages, not JSON', async () => {
    const visitor = new Visitor(app);
    const page = await visitor.get('/sign-in');
    const token = field(page.body, 'form_token') as string;
    const bad = await visitor.post('/sign-in', { form_token: token, code: 'not a code' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^text\/html/);
    const malformed = await visitor.post('/sign-in/email-links', { form_token: token, email: 'nope' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/^text\/html/);
    const json = await app.inject({
      method: 'POST',
      url: '/sign-in',
      headers: { 'content-type': 'application/json', origin: BASE },
      payload: { form_token: token, code: 'x' },
    });
    expect(json.statusCode).toBe(415);
  });

  it('publishes the privacy policy and the terms, and names them in both discovery documents', async () => {
    const privacy = await app.inject({ method: 'GET', url: '/privacy' });
    expect(privacy.statusCode).toBe(200);
    for (const promise of [
      '13 or older',
      'visible to you alone',
      'in any form or spelling',
      'consent',
      'cannot',
      'download',
    ]) {
      expect(privacy.body).toContain(promise);
    }
    const terms = await app.inject({ method: 'GET', url: '/terms' });
    expect(terms.statusCode).toBe(200);
    const logo = await app.inject({ method: 'GET', url: '/logo.svg' });
    expect(logo.statusCode).toBe(200);
    expect(logo.headers['content-type']).toMatch(/^image\/svg\+xml/);

    const manifest = (await app.inject({ method: 'GET', url: '/.well-known/badgeconnect.json' })).json();
    expect(manifest.badgeConnectAPI[0]).toMatchObject({
      termsOfServiceUrl: `${BASE}/terms`,
      privacyPolicyUrl: `${BASE}/privacy`,
      image: `${BASE}/logo.svg`,
    });
    const discovery = (await app.inject({ method: 'GET', url: '/ims/ob/v3p0/discovery' })).json();
    expect(discovery.info).toMatchObject({
      termsOfService: `${BASE}/terms`,
      'x-imssf-privacyPolicyUrl': `${BASE}/privacy`,
      'x-imssf-name': 'Badge Backpack',
      'x-imssf-image': `${BASE}/logo.svg`,
    });
  });

  it('serves the contract with PUBLIC_URL as its server', async () => {
    const json = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(json.servers).toEqual([{ url: BASE, description: 'This service.' }]);
    const yaml = (await app.inject({ method: 'GET', url: '/openapi.yaml' })).body;
    expect(yaml).toContain(`servers:\n  - url: "${BASE}"\n`);
    expect(yaml).not.toContain('http://localhost:3000\n    description: The embedded default');
  });
});

describeEachDatabase('the backpack’s pages with the operator’s own policies', (current) => {
  it('redirects to them and names them in the discovery documents', async () => {
    const app = await accountsApp(current().db, {
      PUBLIC_URL: 'https://backpack.example',
      PRIVACY_POLICY_URL: 'https://operator.example/privacy',
      TERMS_OF_SERVICE_URL: 'https://operator.example/terms',
    });
    try {
      const privacy = await app.inject({ method: 'GET', url: '/privacy' });
      expect(privacy.statusCode).toBe(302);
      expect(privacy.headers.location).toBe('https://operator.example/privacy');
      const terms = await app.inject({ method: 'GET', url: '/terms' });
      expect(terms.headers.location).toBe('https://operator.example/terms');
      const manifest = (await app.inject({ method: 'GET', url: '/.well-known/badgeconnect.json' })).json();
      expect(manifest.badgeConnectAPI[0].privacyPolicyUrl).toBe('https://operator.example/privacy');
      const discovery = (await app.inject({ method: 'GET', url: '/ims/ob/v3p0/discovery' })).json();
      expect(discovery.info.termsOfService).toBe('https://operator.example/terms');
      expect(discovery.info['x-imssf-image']).toBe('https://backpack.example/logo.svg');
      const json = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(json.servers[0].url).toBe('https://backpack.example');
    } finally {
      await app.close();
    }
  });
});

describeEachDatabase('mail explicitly disabled', (current) => {
  it('sends nothing and keeps no message, while sign-in requests still answer the same', async () => {
    const app = await accountsApp(current().db, {
      NODE_ENV: 'production',
      MAIL_DISABLED: 'true',
      HOLDER_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/auth/email-links',
        payload: { email: uniqueAddress('nomail') },
      });
      expect(res.statusCode).toBe(202);
      expect(app.services.mail.outbox).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
