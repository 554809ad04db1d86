import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../support/app.ts';
import { insertBadge, solidPng } from '../support/badge-rows.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

type Json = Record<string, unknown>;

describeEachDatabase('sharing', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(current().db);
  });
  afterAll(async () => {
    await app.close();
  });

  function as(earner: TestEarner) {
    const headers = { cookie: earner.session.cookie, origin: earner.session.origin };
    return {
      get: (url: string) => app.inject({ method: 'GET', url, headers }),
      delete: (url: string) => app.inject({ method: 'DELETE', url, headers }),
      send: (method: 'POST' | 'PUT' | 'PATCH', url: string, payload: unknown) =>
        app.inject({ method, url, headers, payload: payload as Json }),
    };
  }

  const publicGet = (url: string, accept = 'application/json') =>
    app.inject({ method: 'GET', url, headers: { accept } });

  /** Every public answer is checked for every address of the earner, in any case. */
  function expectNoAddress(res: LightMyRequestResponse, addresses: string[]) {
    const body = res.rawPayload.toString('latin1').toLowerCase();
    const headers = JSON.stringify(res.headers).toLowerCase();
    for (const a of addresses) {
      expect(body, `${res.statusCode} body names ${a}`).not.toContain(a.toLowerCase());
      expect(headers).not.toContain(a.toLowerCase());
    }
  }

  async function scene() {
    const earner = await createEarner(app, [
      `Ada.Lovelace.${Date.now()}.${Math.random().toString(36).slice(2)}@Example.org`,
      `second.${Date.now()}.${Math.random().toString(36).slice(2)}@example.net`,
    ]);
    const recipient = (earner.addresses[0] ?? '').toLowerCase();
    const hashed = await insertBadge(app, earner.id, { name: 'HTML basics', recipient });
    const plain = await insertBadge(app, earner.id, {
      name: 'CSS layout',
      recipient,
      plainRecipient: true,
      bakedImage: true,
    });
    const revoked = await insertBadge(app, earner.id, { name: 'Old badge', recipient, status: 'revoked' });
    const expired = await insertBadge(app, earner.id, {
      name: 'Lapsed badge',
      recipient,
      expiresAt: new Date('2021-06-01T00:00:00Z'),
    });
    const pending = await insertBadge(app, earner.id, {
      name: 'Pending push',
      recipient,
      acceptance: 'pending',
    });
    const privateBadge = await insertBadge(app, earner.id, { name: 'Private thing', recipient });
    const group = (
      await as(earner).send('POST', '/v1/groups', {
        name: 'Web skills',
        description: 'From the summer course',
        badgeIds: [hashed, plain, revoked, expired, pending],
      })
    ).json();
    const hidden = (
      await as(earner).send('POST', '/v1/groups', { name: 'Hidden', badgeIds: [privateBadge] })
    ).json();
    const link = await as(earner).send('POST', '/v1/share-links', { groupId: group.id });
    expect(link.statusCode).toBe(201);
    return {
      earner,
      recipient,
      ids: { hashed, plain, revoked, expired, pending, privateBadge },
      group,
      hidden,
      link: link.json(),
    };
  }

  it('publishes a group at an unguessable link, and lists, reads and revokes it', async () => {
    const s = await scene();
    expect(s.link).toMatchObject({ kind: 'group', groupId: s.group.id, badgeId: null });
    expect(s.link.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(s.link.token, 'base64url')).toHaveLength(32);
    expect(s.link.url).toBe(`http://localhost:3000/share/${s.link.token}`);

    const list = await as(s.earner).get('/v1/share-links');
    expect(list.json().items).toEqual([s.link]);
    expect((await as(s.earner).get(`/v1/share-links/${s.link.id}`)).json()).toEqual(s.link);
    expect((await as(s.earner).get(`/v1/groups/${s.group.id}`)).json().shared).toBe(true);
    expect((await as(s.earner).get(`/v1/groups/${s.hidden.id}`)).json().shared).toBe(false);

    expect((await publicGet(`/share/${s.link.token}`)).statusCode).toBe(200);
    const revoked = await as(s.earner).delete(`/v1/share-links/${s.link.id}`);
    expect(revoked.statusCode).toBe(204);
    for (const url of [
      `/share/${s.link.token}`,
      `/share/${s.link.token}?format=html`,
      `/share/${s.link.token}/images/0`,
      `/oembed?url=${encodeURIComponent(s.link.url)}&format=json`,
    ]) {
      const res = await publicGet(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    const check = await app.inject({
      method: 'POST',
      url: `/share/${s.link.token}/recipient-checks`,
      payload: { email: s.recipient },
    });
    expect(check.statusCode).toBe(404);
    expect((await as(s.earner).get(`/v1/share-links/${s.link.id}`)).statusCode).toBe(404);

    // Re-creating gives a new link; the old one stays dead.
    const again = (await as(s.earner).send('POST', '/v1/share-links', { groupId: s.group.id })).json();
    expect(again.token).not.toBe(s.link.token);
    expect((await publicGet(`/share/${again.token}`)).statusCode).toBe(200);
    expect((await publicGet(`/share/${s.link.token}`)).statusCode).toBe(404);
  });

  it('shows only the shared badges, with their status, and nothing of the recipient', async () => {
    const s = await scene();
    const res = await publicGet(`/share/${s.link.token}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.vary).toMatch(/Accept/i);
    expect(res.headers['cache-control']).toBe('no-store');
    const page = res.json();
    expect(page).toMatchObject({
      kind: 'group',
      title: 'Web skills',
      description: 'From the summer course',
      url: s.link.url,
    });
    // The pending push and the badge of the unpublished group are not there.
    expect(page.badges.map((b: Json) => b.name)).toEqual([
      'HTML basics',
      'CSS layout',
      'Old badge',
      'Lapsed badge',
    ]);
    expect(page.badges.map((b: Json) => b.status)).toEqual(['valid', 'valid', 'revoked', 'expired']);
    expect(JSON.stringify(page)).not.toContain('Private thing');
    expect(JSON.stringify(page)).not.toContain('Pending push');
    for (const b of page.badges) {
      // No recipient in any form: no hash, no salt, no original or assertion id that carries one.
      expect(b).not.toHaveProperty('recipient');
      expect(b).not.toHaveProperty('original');
      expect(b).not.toHaveProperty('assertionId');
      expect(b.imageUrl).toBe(`${s.link.url}/images/${b.position}`);
      expect(b.issuer).toEqual({ name: 'Example Academy', url: 'https://academy.example/' });
    }
    expect(res.body).not.toMatch(/sha256\$|academy\.example\/assertions/);
    expectNoAddress(res, s.earner.addresses);

    // Nothing else of the earner is reachable: the images stop at the shared ones.
    expect((await publicGet(`/share/${s.link.token}/images/4`)).statusCode).toBe(404);
  });

  it('serves images without baked assertions or text metadata', async () => {
    const s = await scene();
    const plain = await publicGet(`/share/${s.link.token}/images/0`, 'image/*');
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('image/png');
    expect(plain.headers['x-content-type-options']).toBe('nosniff');
    expect(plain.rawPayload.subarray(1, 4).toString('latin1')).toBe('PNG');
    const baked = await publicGet(`/share/${s.link.token}/images/1`, 'image/*');
    expect(baked.statusCode).toBe(200);
    expect(baked.rawPayload.toString('latin1')).not.toContain('iTXt');
    expect(baked.rawPayload.toString('latin1')).not.toContain('openbadges');
    expect(baked.rawPayload.equals(plain.rawPayload)).toBe(true);
    expectNoAddress(baked, s.earner.addresses);
    // The stored image still carries what the earner uploaded.
    const stored = await app.db.prisma.badgeImage.findUnique({ where: { itemId: s.ids.plain } });
    expect(Buffer.from(stored?.bytes ?? []).toString('latin1')).toContain('openbadges');
  });

  it('serves SVG images without their Open Badges element, under a CSP without scripts', async () => {
    const earner = await createEarner(app);
    const address = earner.addresses[0] ?? '';
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org" width="10" height="10"><openbadges:assertion verify="https://academy.example/a/1"><![CDATA[{"recipient":{"identity":"${address}"}}]]></openbadges:assertion><rect width="10" height="10" fill="red"/></svg>`;
    const id = await insertBadge(app, earner.id, {
      recipient: address,
      image: { contentType: 'image/svg+xml', bytes: Buffer.from(svg) },
    });
    const link = (await as(earner).send('POST', '/v1/share-links', { badgeId: id })).json();
    const res = await publicGet(`/share/${link.token}/images/0`, 'image/*');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; sandbox; form-action 'none'",
    );
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toContain('<rect');
    expect(res.body).not.toContain('openbadges:assertion');
    expectNoAddress(res, earner.addresses);
  });

  it('publishes one badge alone, and the link dies with the badge or the group', async () => {
    const s = await scene();
    const single = await as(s.earner).send('POST', '/v1/share-links', { badgeId: s.ids.privateBadge });
    expect(single.statusCode).toBe(201);
    expect(single.json()).toMatchObject({ kind: 'badge', badgeId: s.ids.privateBadge, groupId: null });
    const page = (await publicGet(`/share/${single.json().token}`)).json();
    expect(page).toMatchObject({ kind: 'badge', title: 'Private thing' });
    expect(page.badges).toHaveLength(1);

    expect((await as(s.earner).delete(`/v1/badges/${s.ids.privateBadge}`)).statusCode).toBe(204);
    expect((await publicGet(`/share/${single.json().token}`)).statusCode).toBe(404);
    expect((await as(s.earner).delete(`/v1/groups/${s.group.id}`)).statusCode).toBe(204);
    expect((await publicGet(`/share/${s.link.token}`)).statusCode).toBe(404);
    expect(await app.db.prisma.shareLink.count({ where: { earnerId: s.earner.id } })).toBe(0);
  });

  it("refuses to share another earner's group or badge, and bad bodies, changing nothing", async () => {
    const s = await scene();
    const other = await createEarner(app);
    const cases: [unknown, number, string][] = [
      [{ groupId: s.group.id }, 404, 'not_found'],
      [{ badgeId: s.ids.hashed }, 404, 'not_found'],
      [{ groupId: 'no-such-group' }, 404, 'not_found'],
      [{}, 400, 'validation_failed'],
      [{ groupId: s.group.id, badgeId: s.ids.hashed }, 400, 'validation_failed'],
      [{ groupId: s.group.id, token: 'mine' }, 400, 'validation_failed'],
      [{ groupId: 7 }, 400, 'validation_failed'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await as(other).send('POST', '/v1/share-links', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().code).toBe(code);
    }
    expect(await app.db.prisma.shareLink.count({ where: { earnerId: other.id } })).toBe(0);
    expect(await app.db.prisma.shareLink.count({ where: { earnerId: s.earner.id } })).toBe(1);
  });

  it('negotiates HTML and JSON, and answers 406 when neither is acceptable', async () => {
    const s = await scene();
    const url = `/share/${s.link.token}`;
    const html = await publicGet(url, 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8');
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.body).toMatch(/^<!doctype html>/);
    const any = await publicGet(url, '*/*');
    expect(any.headers['content-type']).toMatch(/^text\/html/);
    const none = await app.inject({ method: 'GET', url });
    expect(none.headers['content-type']).toMatch(/^text\/html/);
    const json = await publicGet(url, 'application/json;q=1, text/html;q=0.5');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect((await publicGet(`${url}?format=json`, 'text/html')).headers['content-type']).toMatch(
      /^application\/json/,
    );
    const refused = await publicGet(url, 'image/png');
    expect(refused.statusCode).toBe(406);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json().code).toBe('not_acceptable');
    const zero = await publicGet(url, 'text/html;q=0, application/json;q=0');
    expect(zero.statusCode).toBe(406);
    // Links shared on social networks come back with tracking parameters appended.
    const tracked = await publicGet(`${url}?fbclid=IwAR0abc&utm_source=x`, 'text/html');
    expect(tracked.statusCode).toBe(200);
    expect(tracked.headers['content-type']).toMatch(/^text\/html/);
    const badFormat = await publicGet(`${url}?format=xml`);
    expect(badFormat.statusCode).toBe(400);
    expect(badFormat.json().code).toBe('validation_failed');
  });

  it('answers the JSON form at an operation of its own, whatever Accept says', async () => {
    const s = await scene();
    const negotiated = await publicGet(`/share/${s.link.token}`, 'application/json');
    for (const accept of [undefined, '*/*', 'text/html']) {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/shared-pages/${s.link.token}`,
        headers: accept ? { accept } : {},
      });
      expect(res.statusCode, accept).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.json()).toEqual(negotiated.json());
    }
    await as(s.earner).delete(`/v1/share-links/${s.link.id}`);
    const gone = await publicGet(`/v1/shared-pages/${s.link.token}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().code).toBe('not_found');
  });

  it('renders the page with Open Graph tags, a strict CSP and escaped values', async () => {
    const earner = await createEarner(app);
    const address = earner.addresses[0] ?? '';
    const id = await insertBadge(app, earner.id, {
      recipient: address,
      name: '<script>alert("x")</script> & "quotes"',
      description: "<img src=x onerror=alert(1)> it's",
      issuerName: 'Evil <b>Issuer</b>',
    });
    const group = (
      await as(earner).send('POST', '/v1/groups', { name: '<i>My</i> group', badgeIds: [id] })
    ).json();
    const link = (await as(earner).send('POST', '/v1/share-links', { groupId: group.id })).json();
    const res = await publicGet(`/share/${link.token}`, 'text/html');
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).not.toMatch(/script-src/);
    expect(csp).not.toContain('unsafe-inline');
    const body = res.body;
    expect(body).not.toMatch(/<script/i);
    expect(body).not.toContain('<img src=x');
    expect(body).not.toContain('<b>Issuer');
    expect(body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(body).toContain('<meta property="og:title" content="&lt;i&gt;My&lt;/i&gt; group">');
    expect(body).toContain(`<meta property="og:url" content="${link.url}">`);
    expect(body).toContain(`<meta property="og:image" content="${link.url}/images/0">`);
    expect(body).toContain('<meta property="og:type" content="website">');
    expect(body).toMatch(/<meta property="og:description" content="[^"]+">/);
    expect(body).toContain('<meta name="twitter:card" content="summary">');
    expect(body).toContain(
      `<link rel="alternate" type="application/json+oembed" href="http://localhost:3000/oembed?url=${encodeURIComponent(link.url)}&amp;format=json"`,
    );
    expect(body).toContain(`<form method="post" action="/share/${link.token}/recipient-checks">`);
    expect(body).not.toMatch(/sha256\$|salt/);
    expectNoAddress(res, earner.addresses);
  });

  it('checks an address against the hashed recipients without revealing any', async () => {
    const s = await scene();
    const url = `/share/${s.link.token}/recipient-checks`;
    const check = (email: string) => app.inject({ method: 'POST', url, payload: { email } });
    const yes = await check(s.recipient);
    expect(yes.statusCode).toBe(200);
    expect(yes.json()).toEqual({ awarded: true, matchingBadges: 4, totalBadges: 4 });
    expect((await check(s.recipient.toUpperCase())).json().awarded).toBe(true);
    expect((await check(s.earner.addresses[1] ?? '')).json()).toEqual({
      awarded: false,
      matchingBadges: 0,
      totalBadges: 4,
    });
    expectNoAddress(yes, s.earner.addresses);

    const form = await app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: `email=${encodeURIComponent(s.recipient)}`,
    });
    expect(form.statusCode).toBe(200);
    expect(form.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(form.body).toContain('Yes: all 4 badges were awarded to that address.');
    expect(form.body.toLowerCase()).not.toContain(s.recipient);

    const unknownField = await app.inject({
      method: 'POST',
      url,
      payload: { email: s.recipient, salt: 'x' },
    });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json().code).toBe('validation_failed');
    const missing = await app.inject({ method: 'POST', url, payload: {} });
    expect(missing.statusCode).toBe(400);
  });

  it('limits address checks per client', async () => {
    const s = await scene();
    // A separate app: the limit's counters are per process.
    const limited = await testApp(current().db);
    try {
      const url = `/share/${s.link.token}/recipient-checks`;
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await limited.inject({
          method: 'POST',
          url,
          payload: { email: `guess${i}@example.org` },
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(res.json().code).toBe('rate_limited');
          expect(res.headers['retry-after']).toBeDefined();
        }
      }
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
      expect(statuses.slice(10)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('answers oEmbed for a share page, 404 for others and 501 for XML', async () => {
    const s = await scene();
    const ok = await publicGet(`/oembed?url=${encodeURIComponent(s.link.url)}&format=json&maxwidth=300`);
    expect(ok.statusCode).toBe(200);
    const body = ok.json();
    expect(body).toMatchObject({
      version: '1.0',
      type: 'rich',
      title: 'Web skills',
      provider_name: 'Badge Backpack',
      width: 300,
      height: 120,
    });
    expect(body.html).toContain(`<a href="${s.link.url}">Web skills</a> (4 badges)`);
    expect(body.html).not.toMatch(/<iframe|<script/i);
    expectNoAddress(ok, s.earner.addresses);
    const xml = await publicGet(`/oembed?url=${encodeURIComponent(s.link.url)}&format=xml`);
    expect(xml.statusCode).toBe(501);
    expect(xml.json().code).toBe('not_implemented');
    for (const url of [
      'http://localhost:3000/share/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      `https://elsewhere.example/share/${s.link.token}`,
      'http://localhost:3000/v1/groups',
      'not a url',
    ]) {
      const res = await publicGet(`/oembed?url=${encodeURIComponent(url)}`);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    const missing = await publicGet('/oembed?format=json');
    expect(missing.statusCode).toBe(400);
    expect(missing.json().code).toBe('validation_failed');
  });

  it('serves the displayer API by published handle only, and the same 404 otherwise', async () => {
    const s = await scene();
    const handle = `ada-${Math.random().toString(36).slice(2, 10)}`;
    const notYet = await publicGet(`/v1/displayers/${handle}/groups`);
    expect(notYet.statusCode).toBe(404);
    const published = await as(s.earner).send('PATCH', '/v1/profile', { handle });
    expect(published.statusCode).toBe(200);
    const res = await publicGet(`/v1/displayers/${handle}/groups`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    const body = res.json();
    expect(body.handle).toBe(handle);
    expect(body.items.map((g: Json) => g.name)).toEqual(['Web skills']);
    expect(body.items[0].url).toBe(s.link.url);
    expect(body.items[0].badges).toHaveLength(4);
    expect(JSON.stringify(body)).not.toContain('Hidden');
    expectNoAddress(res, s.earner.addresses);

    const withdrawn = await as(s.earner).send('PATCH', '/v1/profile', { handle: null });
    expect(withdrawn.statusCode).toBe(200);
    const unpublished = await publicGet(`/v1/displayers/${handle}/groups`);
    const unknown = await publicGet('/v1/displayers/nobody-has-this/groups');
    expect(unpublished.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    const strip = (r: LightMyRequestResponse) => {
      const { instance: _i, requestId: _r, ...rest } = r.json();
      return rest;
    };
    expect(strip(unpublished)).toEqual(strip(unknown));
    const byAddress = await publicGet(`/v1/displayers/${encodeURIComponent(s.recipient)}/groups`);
    expect(byAddress.statusCode).toBe(400);
    expectNoAddress(byAddress, []);
  });

  it('lists groups and share links in the account export', async () => {
    const s = await scene();
    const res = await as(s.earner).get('/v1/account/export');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.sections.groups.map((g: Json) => g.name).sort()).toEqual(['Hidden', 'Web skills']);
    const exported = body.sections.groups.find((g: Json) => g.id === s.group.id);
    expect(exported.badgeIds).toEqual([
      s.ids.hashed,
      s.ids.plain,
      s.ids.revoked,
      s.ids.expired,
      s.ids.pending,
    ]);
    expect(body.sections.shareLinks).toEqual([
      expect.objectContaining({
        id: s.link.id,
        token: s.link.token,
        groupId: s.group.id,
        salt: expect.any(String),
      }),
    ]);
  });

  it('keeps a new badge private: no public route shows it until it is shared', async () => {
    const earner = await createEarner(app);
    const id = await insertBadge(app, earner.id, {
      recipient: earner.addresses[0] ?? '',
      name: `Secret ${Math.random()}`,
      image: { contentType: 'image/png', bytes: solidPng([1, 2, 3]) },
    });
    const row = await app.db.prisma.backpackItem.findUniqueOrThrow({ where: { id } });
    expect(await app.db.prisma.shareLink.count({ where: { earnerId: earner.id } })).toBe(0);
    const stats = await app.inject({ method: 'GET', url: '/v1/statistics' });
    expect(stats.body).not.toContain(row.name);
    expect((await publicGet(`/share/${id}`)).statusCode).toBe(404);
  });
});
