import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountsApp, expectProblem, fakeClock, ORIGIN, signInByEmail } from '../support/accounts.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { lastCodeFor } from '../support/mail.ts';
import { rowCounts } from '../support/table-walk.ts';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

describeEachDatabase('accounts: sessions and personal access tokens', (current) => {
  let app: FastifyInstance;
  const clock = fakeClock();
  beforeAll(async () => {
    app = await accountsApp(current().db, { SIGN_IN_RATE_LIMIT_MAX: '1000' }, { now: clock.now });
  });
  afterAll(() => app.close());

  const createToken = async (headers: Record<string, string>, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/v1/access-tokens', headers, payload });

  it('lists my sessions with a coarse user agent, marking the current one', async () => {
    const laptop = await signInByEmail(app);
    const phone = await signInByEmail(app, laptop.address);
    const res = await app.inject({
      url: '/v1/sessions',
      headers: { ...phone.headers, 'user-agent': SAFARI_IPHONE },
    });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Record<string, unknown>[];
    expect(items).toHaveLength(2);
    expect(items.find((s) => s.id === phone.sessionId)).toMatchObject({ current: true, method: 'email' });
    expect(items.find((s) => s.id === laptop.sessionId)).toMatchObject({ current: false });
    for (const s of items) {
      expect(Object.keys(s).sort()).toEqual(
        ['createdAt', 'current', 'expiresAt', 'id', 'lastUsedAt', 'method', 'userAgent'].sort(),
      );
    }
  });

  it('stores only the browser family and platform of a session', async () => {
    const earner = await signInByEmail(app);
    await app.inject({
      method: 'POST',
      url: '/v1/auth/email-links',
      headers: { origin: ORIGIN },
      payload: { email: earner.address },
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/auth/email-sign-ins',
      headers: { origin: ORIGIN, 'user-agent': FIREFOX },
      payload: { code: lastCodeFor(app, earner.address) },
    });
    expect(res.json().session.userAgent).toBe('Firefox on Linux');
    const rows = await current().db.prisma.session.findMany({ select: { userAgent: true } });
    expect(rows.some((r) => r.userAgent?.includes('Gecko'))).toBe(false);
  });

  it('revokes one session by id, and not another earner’s (404, nothing changed)', async () => {
    const me = await signInByEmail(app);
    const other = await signInByEmail(app, me.address);
    const stranger = await signInByEmail(app);
    const before = await rowCounts(current().db);
    expectProblem(
      await app.inject({ method: 'DELETE', url: `/v1/sessions/${stranger.sessionId}`, headers: me.headers }),
      404,
      'not_found',
    );
    expectProblem(
      await app.inject({ method: 'DELETE', url: '/v1/sessions/not-a-uuid', headers: me.headers }),
      400,
      'validation_failed',
    );
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await app.inject({ url: '/v1/profile', headers: stranger.headers })).statusCode).toBe(200);

    const res = await app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${other.sessionId}`,
      headers: me.headers,
    });
    expect(res.statusCode).toBe(204);
    expectProblem(
      await app.inject({ url: '/v1/profile', headers: other.headers }),
      401,
      'invalid_credentials',
    );
    expect((await app.inject({ url: '/v1/profile', headers: me.headers })).statusCode).toBe(200);
  });

  it('signs out of this session and clears the cookie', async () => {
    const me = await signInByEmail(app);
    const elsewhere = await signInByEmail(app, me.address);
    const res = await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: me.headers });
    expect(res.statusCode).toBe(204);
    const cleared = res.cookies.find((c) => c.name === app.services.accounts.cookieName);
    expect(cleared?.value).toBe('');
    expect(cleared?.expires?.getTime()).toBeLessThan(Date.now());
    expectProblem(await app.inject({ url: '/v1/profile', headers: me.headers }), 401, 'invalid_credentials');
    expect((await app.inject({ url: '/v1/profile', headers: elsewhere.headers })).statusCode).toBe(200);
  });

  it('signs out everywhere, and tokens keep working', async () => {
    const me = await signInByEmail(app);
    const elsewhere = await signInByEmail(app, me.address);
    const token = (await createToken(me.headers, { name: 'script', scopes: ['profile:read'] })).json().token;
    const res = await app.inject({ method: 'DELETE', url: '/v1/sessions', headers: me.headers });
    expect(res.statusCode).toBe(204);
    for (const s of [me, elsewhere]) {
      expectProblem(await app.inject({ url: '/v1/profile', headers: s.headers }), 401, 'invalid_credentials');
    }
    const viaToken = await app.inject({ url: '/v1/profile', headers: { authorization: `Bearer ${token}` } });
    expect(viaToken.statusCode).toBe(200);
    const earnerId = (await app.services.accounts.resolvers.bearer(token))?.earnerId ?? '';
    expect((await app.services.accounts.sessions.list(earnerId, null)).items).toEqual([]);
  });

  it('ends sessions idle for too long', async () => {
    const me = await signInByEmail(app);
    clock.advance(169 * 3_600_000);
    try {
      expectProblem(
        await app.inject({ url: '/v1/profile', headers: me.headers }),
        401,
        'invalid_credentials',
      );
    } finally {
      clock.advance(-169 * 3_600_000);
    }
  });

  it('answers a tampered or unknown cookie with 401 and clears it', async () => {
    const me = await signInByEmail(app);
    const value = me.headers.cookie.split('=')[1] ?? '';
    const flipped = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    const res = await app.inject({
      url: '/v1/profile',
      headers: { cookie: `${app.services.accounts.cookieName}=${flipped}` },
    });
    expectProblem(res, 401, 'invalid_credentials');
    expect(res.cookies.find((c) => c.name === app.services.accounts.cookieName)?.value).toBe('');
    expectProblem(
      await app.inject({
        url: '/v1/profile',
        headers: { cookie: `${app.services.accounts.cookieName}=short` },
      }),
      401,
      'invalid_credentials',
    );
  });

  it('creates a token whose secret is shown once, lists it without secret, and revokes it', async () => {
    const me = await signInByEmail(app);
    const expiresAt = new Date(clock.now().getTime() + 30 * 86_400_000).toISOString();
    const created = await createToken(me.headers, {
      name: 'my script',
      scopes: ['profile:read', 'badges:read'],
      expiresAt,
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      name: 'my script',
      scopes: ['profile:read', 'badges:read'],
      expiresAt,
      lastUsedAt: null,
    });
    expect(body.token).toMatch(/^bpk_[A-Za-z0-9_-]{43}$/);

    const bearer = { authorization: `Bearer ${body.token}` };
    expect((await app.inject({ url: '/v1/profile', headers: bearer })).statusCode).toBe(200);
    expectProblem(
      await app.inject({
        method: 'PATCH',
        url: '/v1/profile',
        headers: bearer,
        payload: { displayName: 'x' },
      }),
      403,
      'insufficient_scope',
    );
    // A token cannot mint tokens or list them.
    expectProblem(await app.inject({ url: '/v1/access-tokens', headers: bearer }), 403, 'forbidden');

    const list = await app.inject({ url: '/v1/access-tokens', headers: me.headers });
    expect(list.statusCode).toBe(200);
    const [item] = list.json().items;
    expect(item.id).toBe(body.id);
    expect(item.token).toBeUndefined();
    expect(list.body).not.toContain(body.token);
    expect(item.lastUsedAt).not.toBeNull();

    const revoked = await app.inject({
      method: 'DELETE',
      url: `/v1/access-tokens/${body.id}`,
      headers: me.headers,
    });
    expect(revoked.statusCode).toBe(204);
    expectProblem(await app.inject({ url: '/v1/profile', headers: bearer }), 401, 'invalid_credentials');
  });

  it('keeps each earner’s tokens their own (404, nothing changed)', async () => {
    const me = await signInByEmail(app);
    const stranger = await signInByEmail(app);
    const theirs = (await createToken(stranger.headers, { name: 'theirs', scopes: ['badges:read'] })).json();
    const before = await rowCounts(current().db);
    expectProblem(
      await app.inject({ method: 'DELETE', url: `/v1/access-tokens/${theirs.id}`, headers: me.headers }),
      404,
      'not_found',
    );
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await app.inject({ url: '/v1/access-tokens', headers: me.headers })).json().items).toEqual([]);
  });

  it('refuses bad token requests, changing nothing', async () => {
    const me = await signInByEmail(app);
    const before = await rowCounts(current().db);
    const past = new Date(clock.now().getTime() - 1000).toISOString();
    const farFuture = new Date(clock.now().getTime() + 400 * 86_400_000).toISOString();
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x', scopes: ['admin'] }, '/scopes/0'],
      [{ name: 'x', scopes: [] }, '/scopes'],
      [{ name: '', scopes: ['badges:read'] }, '/name'],
      [{ name: '   ', scopes: ['badges:read'] }, '/name'],
      [{ name: 'x', scopes: ['badges:read'], expiresAt: past }, '/expiresAt'],
      [{ name: 'x', scopes: ['badges:read'], expiresAt: farFuture }, '/expiresAt'],
      [{ name: 'x', scopes: ['badges:read'], expiresAt: 'tomorrow' }, '/expiresAt'],
      [{ name: 'x', scopes: ['badges:read'], owner: 'someone' }, '/owner'],
    ];
    for (const [payload, pointer] of cases) {
      const body = expectProblem(await createToken(me.headers, payload), 400, 'validation_failed');
      expect((body.errors as { pointer: string }[]).map((e) => e.pointer)).toContain(pointer);
    }
    expect(await rowCounts(current().db)).toEqual(before);
  });

  it('stops accepting a token once it expires', async () => {
    const me = await signInByEmail(app);
    const expiresAt = new Date(clock.now().getTime() + 3_600_000).toISOString();
    const { token } = (
      await createToken(me.headers, { name: 'short', scopes: ['profile:read'], expiresAt })
    ).json();
    expect(
      (await app.inject({ url: '/v1/profile', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(200);
    clock.advance(2 * 3_600_000);
    try {
      expectProblem(
        await app.inject({ url: '/v1/profile', headers: { authorization: `Bearer ${token}` } }),
        401,
        'invalid_credentials',
      );
    } finally {
      clock.advance(-2 * 3_600_000);
    }
  });

  it('answers a tampered token with 401', async () => {
    const me = await signInByEmail(app);
    const { token } = (await createToken(me.headers, { name: 't', scopes: ['profile:read'] })).json();
    const tampered = `${token.slice(0, -2)}xx`;
    const res = await app.inject({ url: '/v1/profile', headers: { authorization: `Bearer ${tampered}` } });
    expectProblem(res, 401, 'invalid_credentials');
    expect(res.headers['www-authenticate']).toContain('invalid_token');
    expectProblem(
      await app.inject({ url: '/v1/profile', headers: { authorization: 'Bearer not a token' } }),
      401,
      'invalid_credentials',
    );
  });

  it('refuses cross-site changes: JSON or form, from another origin (403), and form bodies (415)', async () => {
    const me = await signInByEmail(app);
    const evil = { cookie: me.headers.cookie, origin: 'https://evil.example' };
    const before = await rowCounts(current().db);
    expectProblem(
      await app.inject({ method: 'DELETE', url: '/v1/sessions', headers: evil }),
      403,
      'cross_site_request',
    );
    expectProblem(
      await createToken(evil, { name: 'stolen', scopes: ['badges:read'] }),
      403,
      'cross_site_request',
    );
    expectProblem(
      await app.inject({
        method: 'POST',
        url: '/v1/access-tokens',
        headers: { ...evil, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'name=stolen&scopes=badges:read',
      }),
      403,
      'cross_site_request',
    );
    expectProblem(
      await app.inject({
        method: 'POST',
        url: '/v1/access-tokens',
        headers: { cookie: me.headers.cookie, 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
        payload: '{"name":"stolen","scopes":["badges:read"]}',
      }),
      403,
      'cross_site_request',
    );
    expectProblem(
      await app.inject({
        method: 'POST',
        url: '/v1/access-tokens',
        headers: { ...me.headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'name=x&scopes=badges:read',
      }),
      415,
      'unsupported_media_type',
    );
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await app.inject({ url: '/v1/profile', headers: me.headers })).statusCode).toBe(200);
  });
});
