// Requests and issuers that try to make verification cost too much: bodies nested deep or
// holding too many values are 400s; verifications beyond the gate's bound get a 503 and
// retry; an issuer host is "blocked or unreachable" whatever the reason; and one stored badge
// that cannot be checked does not stop the re-verification of the others.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { bakeSvg, createSafeFetcher, type Fetcher } from '../../src/modules/openbadges/index.ts';
import { testApp, testConfig } from '../support/app.ts';
import { LocalIssuer, multipartBody } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

describeEachDatabase('badges: hostile input', (current) => {
  let app: FastifyInstance;
  let issuer: LocalIssuer;
  const extraApps: FastifyInstance[] = [];

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      RATE_LIMIT_MAX: '100000',
    });
  });
  afterAll(async () => {
    await app.close();
    for (const other of extraApps) await other.close();
    await issuer.close();
  });

  async function appWith(env: Record<string, string>, fetcher: Fetcher): Promise<FastifyInstance> {
    const other = await buildApp({
      config: testConfig({ RATE_LIMIT_MAX: '100000', ...env }),
      db: current().db,
      fetcher,
    });
    await other.ready();
    extraApps.push(other);
    return other;
  }

  const headers = (e: TestEarner) => ({
    cookie: e.session.cookie,
    origin: e.session.origin,
    'content-type': 'application/json',
  });

  it('answers a body nested a hundred thousand deep, or holding too many values, with a 400 problem', async () => {
    const earner = await createEarner(app);
    const bodies = [
      `{"json":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`,
      `{"json":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
      `{"json":{"a":[${'{},'.repeat(60_000)}{}]}}`,
    ];
    for (const payload of bodies) {
      const res = await app.inject({ method: 'POST', url: '/v1/badges', headers: headers(earner), payload });
      expect(res.statusCode, res.body.slice(0, 200)).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'malformed_body' });
      expect(res.json().detail).toMatch(/nested deeper than 64 levels|more than 50000 values/);
    }
    expect(await app.db.prisma.backpackItem.count({ where: { earnerId: earner.id } })).toBe(0);
    // A body at ordinary depth still goes through.
    const fine = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: headers(earner),
      payload: JSON.stringify({ name: 'Fine' }),
    });
    expect(fine.statusCode, fine.body).toBe(201);
  });

  it('says "blocked or unreachable" alike for an internal name and a name that does not resolve', async () => {
    const fetcher = createSafeFetcher({
      timeoutMs: 2000,
      resolve: async (hostname) => {
        if (hostname === 'intranet.example') return [{ address: '10.0.0.7', family: 4 }];
        throw new Error('ENOTFOUND');
      },
    });
    const other = await appWith({}, fetcher);
    const earner = await createEarner(other);
    const answers: string[] = [];
    for (const host of ['intranet.example', 'nowhere.example']) {
      const res = await other.inject({
        method: 'POST',
        url: '/v1/badges',
        headers: headers(earner),
        payload: JSON.stringify({ url: `http://${host}/assertion` }),
      });
      expect(res.statusCode).toBe(422);
      const { requestId: _id, ...body } = res.json();
      expect(body).toMatchObject({ code: 'badge_unreachable', fetchCode: 'fetch_unreachable' });
      answers.push(JSON.stringify(body).replaceAll(host, 'HOST'));
    }
    expect(answers[1]).toBe(answers[0]);
    expect(answers[0]).toContain('blocked or unreachable');
    expect(answers[0]).not.toMatch(/resolve|refused|10\.0\.0\.7/);
  });

  it('answers 503 verification_busy when as many verifications run and wait as allowed', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const real = createSafeFetcher({ allowPrivateHosts: [issuer.hostPort], timeoutMs: 3000 });
    const slow: Fetcher = async (url, opts) => {
      if (url.endsWith('/slow')) {
        entered();
        await held;
      }
      return real(url, opts);
    };
    const other = await appWith(
      { VERIFY_CONCURRENCY: '1', VERIFY_QUEUE_LENGTH: '1', VERIFY_QUEUE_WAIT_MS: '300' },
      slow,
    );
    const earner = await createEarner(other);
    const post = (url: string) =>
      other.inject({
        method: 'POST',
        url: '/v1/badges',
        headers: headers(earner),
        payload: JSON.stringify({ url }),
      });
    const first = post(`${issuer.origin}/slow`);
    await inside;
    const started = Date.now();
    const [waited, refused] = await Promise.all([
      post(issuer.hosted(earner.addresses[0] as string).url),
      post(issuer.hosted(earner.addresses[0] as string).url),
    ]);
    // One waited its 300 ms in line and was refused then; the line was full for the other.
    for (const res of [waited, refused]) {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json()).toMatchObject({ code: 'verification_busy' });
      expect(res.headers['retry-after']).toBe('5');
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    release();
    expect((await first).statusCode).toBe(422);
    // With the turn free again, verification works.
    const after = await post(issuer.hosted(earner.addresses[0] as string).url);
    expect(after.statusCode, after.body).toBe(201);
  });

  it('goes on re-verifying the other badges when one cannot be checked, and records that it failed', async () => {
    const broken = await createEarner(app);
    const healthy = await createEarner(app);
    for (const earner of [broken, healthy]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/badges',
        headers: headers(earner),
        payload: JSON.stringify({ url: issuer.hosted(earner.addresses[0] as string).url }),
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const accounts = app.services.accounts.service;
    const addresses = accounts.addresses.bind(accounts);
    accounts.addresses = async (earnerId: string) => {
      if (earnerId === broken.id) throw new RangeError('Maximum call stack size exceeded');
      return addresses(earnerId);
    };
    const later = new Date(Date.now() + 60_000);
    try {
      await app.services.badges.service.reverifyDue(later, 1000);
    } finally {
      accounts.addresses = addresses;
    }
    const rows = await app.db.prisma.backpackItem.findMany({
      where: { earnerId: { in: [broken.id, healthy.id] } },
      select: { earnerId: true, status: true, verifiedAt: true, checksJson: true },
    });
    const of = (e: TestEarner) => rows.find((r) => r.earnerId === e.id);
    expect(of(healthy)).toMatchObject({ status: 'valid', verifiedAt: later });
    expect(of(healthy)?.checksJson).toContain('recipient_matched');
    expect(of(broken)).toMatchObject({ status: 'valid', verifiedAt: later });
    expect(JSON.parse(of(broken)?.checksJson ?? '[]')).toEqual([
      { code: 'input_parsed', status: 'failed', message: 'the badge could not be checked again this time' },
    ]);
  });

  it('keeps only SVG from an uploaded image: an XHTML root is refused, XHTML inside is dropped, and images are served sandboxed', async () => {
    const earner = await createEarner(app);
    const upload = (svg: string) => {
      const body = multipartBody([{ name: 'file', filename: 'b.svg', type: 'image/svg+xml', data: svg }]);
      return app.inject({
        method: 'POST',
        url: '/v1/badges',
        headers: { cookie: earner.session.cookie, origin: earner.session.origin, ...body.headers },
        payload: body.payload,
      });
    };
    const page =
      '<meta http-equiv="refresh" content="0;url=https://evil.example/"/><form action="https://evil.example/"><input name="password"/></form><img src="https://evil.example/x.png"/>';
    const xhtmlRoot = bakeSvg(
      `<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>`,
      issuer.hosted(earner.addresses[0] as string).url,
      '2.0',
    ).replace('xmlns="http://www.w3.org/2000/svg"', 'xmlns="http://www.w3.org/1999/xhtml"');
    const refused = await upload(xhtmlRoot.replace('<rect', `${page}<rect`));
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'badge_unreadable', inputCode: 'svg_not_svg' });

    const nested = bakeSvg(
      `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><g xmlns="http://www.w3.org/1999/xhtml">${page}</g><rect width="10" height="10" fill="red"/></svg>`,
      issuer.hosted(earner.addresses[0] as string).url,
      '2.0',
    );
    const added = await upload(nested);
    expect(added.statusCode, added.body).toBe(201);
    const link = await app.inject({
      method: 'POST',
      url: '/v1/share-links',
      headers: headers(earner),
      payload: JSON.stringify({ badgeId: added.json().id }),
    });
    expect(link.statusCode, link.body).toBe(201);
    const served = [
      await app.inject({ method: 'GET', url: added.json().imageUrl, headers: headers(earner) }),
      await app.inject({ method: 'GET', url: `/share/${link.json().token}/images/0` }),
    ];
    for (const image of served) {
      expect(image.statusCode, image.body).toBe(200);
      expect(image.headers['content-security-policy']).toBe(
        "default-src 'none'; style-src 'unsafe-inline'; sandbox; form-action 'none'",
      );
      expect(image.headers['x-content-type-options']).toBe('nosniff');
      expect(image.body).toContain('<rect width="10" height="10" fill="red"/>');
      expect(image.body).not.toMatch(/meta|refresh|form|input|img|xhtml|evil/i);
    }
  });
});
