// No public view (the share page in HTML with its Open Graph tags, its JSON forms, oEmbed,
// the displayer API, the images) names the earner's address in any spelling, leads to a
// document that does, or carries anything that identifies the earner across links or lets
// anyone test a guess offline. Badges come in through real ingestion from a local issuer whose
// assertions name the recipient in clear and whose badge names carry the address in the ways
// an issuer might write it.
import { createHash } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

const hex = (digest: string, text: string) => createHash(digest).update(text).digest('hex');

describeEachDatabase('sharing: nothing on a public view identifies the earner', (current) => {
  let app: FastifyInstance;
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      FETCH_TIMEOUT_MS: '3000',
    });
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  it('hides the address in every spelling, and publishes no hash, salt or assertion', async () => {
    const local = `grace.hopper.${Date.now()}`;
    const address = `${local}@example.org`;
    const earner = await createEarner(app, [address]);
    const headers = { cookie: earner.session.cookie, origin: earner.session.origin };
    // How an issuer might write the address into a badge's name (and so its description).
    const spellings = [
      address.toUpperCase(),
      `${local}%40example.org`,
      `${local}&#64;example&#x2e;org`,
      `${local}&commat;example.org`,
      `${local.slice(0, 5)}\u200b${local.slice(5)}@example.org`,
      `md5$${hex('md5', address)}`,
      `sha256$${hex('sha256', address)}`,
    ];
    const badgeIds: string[] = [];
    const hostedUrls: string[] = [];
    for (const [i, spelling] of spellings.entries()) {
      // The recipient is unhashed: the hosted assertion shows the address in clear.
      const hosted = issuer.hosted(address, { name: `Award ${i} for ${spelling}` });
      hostedUrls.push(hosted.url);
      const added = await app.inject({
        method: 'POST',
        url: '/v1/badges',
        headers,
        payload: { url: hosted.url },
      });
      expect(added.statusCode, added.body).toBe(201);
      badgeIds.push(added.json().id);
    }
    const group = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers,
      payload: { name: `Badges of ${address.toUpperCase()}`, badgeIds },
    });
    expect(group.statusCode, group.body).toBe(201);
    const links: { token: string; url: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const link = await app.inject({
        method: 'POST',
        url: '/v1/share-links',
        headers,
        payload: { groupId: group.json().id },
      });
      expect(link.statusCode, link.body).toBe(201);
      links.push(link.json() as { token: string; url: string });
    }
    const handle = `gh${Date.now().toString(36)}`;
    expect(
      (await app.inject({ method: 'PATCH', url: '/v1/profile', headers, payload: { handle } })).statusCode,
    ).toBe(200);
    const exported = (
      await app.inject({ url: '/v1/account/export', headers: { cookie: headers.cookie } })
    ).json();
    const salts = (exported.sections.shareLinks as { salt: string }[]).map((l) => l.salt);
    expect(salts).toHaveLength(2);

    const publicGet = (url: string, accept = 'application/json') =>
      app.inject({ method: 'GET', url, headers: { accept } });
    const answers: [string, LightMyRequestResponse][] = [];
    for (const link of links) {
      const path = `/share/${link.token}`;
      answers.push([`${path} html`, await publicGet(path, 'text/html')]);
      answers.push([`${path} json`, await publicGet(path)]);
      answers.push([`/v1/shared-pages json`, await publicGet(`/v1/shared-pages/${link.token}`)]);
      answers.push(['oembed', await publicGet(`/oembed?url=${encodeURIComponent(link.url)}&format=json`)]);
      for (let i = 0; i < spellings.length; i++) {
        const image = await publicGet(`${path}/images/${i}`, 'image/*');
        if (image.statusCode === 200) answers.push([`image ${i}`, image]);
      }
    }
    answers.push(['displayer', await publicGet(`/v1/displayers/${handle}/groups`)]);

    const forbidden = [
      address,
      `${local}%40`,
      `${local}&#64;`,
      `${local}&commat;`,
      local.slice(5),
      hex('md5', address),
      hex('sha256', address),
      'sha256$',
      'md5$',
      ...salts,
      ...hostedUrls,
      `${issuer.hostPort}/assertions/`,
    ].map((s) => s.toLowerCase());
    for (const [what, res] of answers) {
      expect(res.statusCode, `${what}: ${res.body.slice(0, 200)}`).toBe(200);
      const text = `${res.rawPayload.toString('utf8')}\n${JSON.stringify(res.headers)}`.toLowerCase();
      for (const needle of forbidden) expect(text, `${what} carries ${needle}`).not.toContain(needle);
    }

    const page = (await publicGet(`/v1/shared-pages/${links[0]?.token}`)).json();
    expect(page.title).toBe('Badges of [hidden]');
    expect(page.badges.map((b: { name: string }) => b.name)).toEqual(
      spellings.map((_, i) => `Award ${i} for [hidden]`),
    );
    for (const badge of page.badges) {
      expect(Object.keys(badge).sort()).toEqual(
        [
          'position',
          'name',
          'description',
          'issuer',
          'issuedOn',
          'expiresAt',
          'status',
          'statusReason',
          'imageUrl',
          'criteriaUrl',
        ].sort(),
      );
    }
    const html = (await publicGet(`/share/${links[0]?.token}`, 'text/html')).body;
    expect(html).toContain('<meta property="og:title" content="Badges of [hidden]">');

    // The two links of one group differ only by their own URL: nothing ties them together.
    const [first, second] = await Promise.all(
      links.map(async (l) =>
        (await publicGet(`/v1/shared-pages/${l.token}`)).body.replaceAll(l.token, 'TOKEN'),
      ),
    );
    expect(first).toBe(second);

    // Whether the badges are the earner's is answered by the limited check alone.
    const check = (email: string) =>
      app.inject({
        method: 'POST',
        url: `/share/${links[1]?.token}/recipient-checks`,
        payload: { email },
      });
    expect((await check(address.toUpperCase())).json()).toMatchObject({ awarded: true });
    expect((await check('someone.else@example.org')).json()).toMatchObject({ awarded: false });
    let status = 200;
    for (let i = 0; i < 20 && status === 200; i++) status = (await check(`guess${i}@example.org`)).statusCode;
    expect(status).toBe(429);
  });

  it('does not serve an SVG image whose drawing spells the address', async () => {
    const local = `ada.${Date.now()}`;
    const address = `${local}@example.org`;
    const earner = await createEarner(app, [address]);
    const headers = { cookie: earner.session.cookie, origin: earner.session.origin };
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>${local}&#64;example.org</text></svg>`;
    const hosted = issuer.hosted(address, { name: 'Drawn' });
    const added = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers,
      payload: { url: hosted.url },
    });
    expect(added.statusCode, added.body).toBe(201);
    await app.db.prisma.badgeImage.update({
      where: { itemId: added.json().id },
      data: { contentType: 'image/svg+xml', bytes: Buffer.from(svg) },
    });
    const link = await app.inject({
      method: 'POST',
      url: '/v1/share-links',
      headers,
      payload: { badgeId: added.json().id },
    });
    expect(link.statusCode, link.body).toBe(201);
    const image = await app.inject({ url: `/share/${link.json().token}/images/0` });
    expect(image.statusCode).toBe(404);
  });
});
