import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bakePng, bakeSvg } from '../../src/modules/openbadges/index.ts';
import { testApp } from '../support/app.ts';
import { LocalIssuer, multipartBody, PLAIN_SVG, tinyPng, zipBombPng } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, createToken, type TestEarner } from '../support/earners.ts';

describeEachDatabase('badges: ingestion', (current) => {
  let app: FastifyInstance;
  let issuer: LocalIssuer;

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      FETCH_TIMEOUT_MS: '3000',
      RATE_LIMIT_MAX: '100000',
    });
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  const headers = (e: TestEarner) => ({ cookie: e.session.cookie, origin: e.session.origin });
  const add = (e: TestEarner, payload: unknown) =>
    app.inject({ method: 'POST', url: '/v1/badges', headers: headers(e), payload: payload as object });
  // addBadge and uploadBadge take the same upload.
  const upload = (e: TestEarner, parts: Parameters<typeof multipartBody>[0], url = '/v1/badges') => {
    const body = multipartBody(parts);
    return app.inject({
      method: 'POST',
      url,
      headers: { ...headers(e), ...body.headers },
      payload: body.payload,
    });
  };
  const count = (e: TestEarner) => app.db.prisma.backpackItem.count({ where: { earnerId: e.id } });

  it('adds a hosted badge by URL and keeps the original, the normalized fields, the image and every check', async () => {
    const earner = await createEarner(app);
    const { url } = issuer.hosted(earner.addresses[0] as string, { name: 'Hosted Badge' });
    const res = await add(earner, { url });
    expect(res.statusCode, res.body).toBe(201);
    const badge = res.json();
    expect(res.headers.location).toBe(`/v1/badges/${badge.id}`);
    expect(badge).toMatchObject({
      name: 'Hosted Badge',
      status: 'valid',
      specVersion: '2.0',
      recipient: earner.addresses[0],
      issuer: { id: `${issuer.origin}/issuer`, name: 'Local Issuer' },
      original: { format: 'json' },
      source: 'earner',
      imageUrl: `/v1/badges/${badge.id}/image`,
    });
    expect(JSON.parse(badge.original.text).id).toBe(url);
    expect(badge.normalized.criteriaNarrative).toBe('Pass the test.');
    const codes = badge.checks.map((c: { code: string }) => c.code);
    expect(codes).toEqual(expect.arrayContaining(['hosted_fetched', 'recipient_matched', 'image_valid']));
    expect(badge.checks.every((c: { status: string }) => c.status !== 'failed')).toBe(true);
    const image = await app.inject({ method: 'GET', url: badge.imageUrl, headers: headers(earner) });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
  });

  it('adds a signed badge by JWS, and the same JWS again gives the same item with 200', async () => {
    const earner = await createEarner(app);
    const { id, jws } = await issuer.signed(earner.addresses[0] as string);
    const first = await add(earner, { jws });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ original: { format: 'jws', text: jws }, status: 'valid' });
    expect(first.json().checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'signature_valid', status: 'passed' })]),
    );
    const again = await add(earner, { jws });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    expect(await count(earner)).toBe(1);
    const row = await app.db.prisma.backpackItem.findFirst({ where: { earnerId: earner.id } });
    expect(row?.assertionId).toBe(id);
  });

  it('adds a badge from raw OB 2.0 JSON (verified against its hosted copy)', async () => {
    const earner = await createEarner(app);
    const { json } = issuer.hosted(earner.addresses[0] as string, { name: 'Raw JSON Badge' });
    const res = await add(earner, { json });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'Raw JSON Badge',
      status: 'valid',
      original: { format: 'json' },
    });
  });

  it('adds OB 3.0 credentials: a Data Integrity proof (JSON) and a VC-JWT', async () => {
    const earner = await createEarner(app);
    const credential = await issuer.credential(earner.addresses[0] as string, 'Proof Badge');
    const res = await add(earner, { json: credential });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ specVersion: '3.0', status: 'valid', name: 'Proof Badge' });
    const { jwt } = await issuer.vcJwt(earner.addresses[0] as string, 'JWT Badge');
    const viaJwt = await add(earner, { jws: jwt });
    expect(viaJwt.statusCode, viaJwt.body).toBe(201);
    expect(viaJwt.json()).toMatchObject({ specVersion: '3.0', original: { format: 'vc-jwt', text: jwt } });
  });

  it('refuses a VC-JWT signed with a key that travels in its own header', async () => {
    const earner = await createEarner(app);
    const jwt = await issuer.vcJwtWithEmbeddedKey(earner.addresses[0] as string);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: { cookie: earner.session.cookie, origin: earner.session.origin },
      payload: { jws: jwt },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'badge_invalid' });
    expect(await app.db.prisma.backpackItem.count({ where: { earnerId: earner.id } })).toBe(0);
  });

  it('adds baked PNG and SVG uploads, storing the image served back safely', async () => {
    const earner = await createEarner(app);
    const a = await issuer.signed(earner.addresses[0] as string, { name: 'PNG Badge' });
    const png = bakePng(tinyPng(), a.jws, '2.0');
    const viaPng = await upload(earner, [{ name: 'file', filename: 'b.png', type: 'image/png', data: png }]);
    expect(viaPng.statusCode, viaPng.body).toBe(201);
    expect(viaPng.json()).toMatchObject({ name: 'PNG Badge', original: { format: 'jws', text: a.jws } });

    const b = issuer.hosted(earner.addresses[0] as string, { name: 'SVG Badge' });
    const svg = bakeSvg(
      PLAIN_SVG.replace('<rect', '<script>alert(1)</script><rect'),
      JSON.stringify(b.json),
      '2.0',
    );
    const viaSvg = await upload(
      earner,
      [{ name: 'file', filename: 'b.svg', type: 'image/svg+xml', data: svg }],
      '/v1/badge-uploads',
    );
    expect(viaSvg.statusCode, viaSvg.body).toBe(201);
    const image = await app.inject({ method: 'GET', url: viaSvg.json().imageUrl, headers: headers(earner) });
    expect(image.headers['content-type']).toBe('image/svg+xml');
    expect(image.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; sandbox; form-action 'none'",
    );
    expect(image.headers['x-content-type-options']).toBe('nosniff');
    expect(image.body).not.toContain('<script');
  });

  it('accepts a bearer token with badges:write and refuses one without it', async () => {
    const earner = await createEarner(app);
    const { jws } = await issuer.signed(earner.addresses[0] as string);
    const reader = await createToken(app, earner.id, ['badges:read']);
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: { authorization: reader },
      payload: { jws },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('insufficient_scope');
    expect(await count(earner)).toBe(0);
    const writer = await createToken(app, earner.id, ['badges:write']);
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: { authorization: writer },
      payload: { jws },
    });
    expect(ok.statusCode).toBe(201);
  });

  it('keeps ONE item when the same assertion arrives 10 times at once', async () => {
    const earner = await createEarner(app);
    const { jws } = await issuer.signed(earner.addresses[0] as string);
    const results = await Promise.all(Array.from({ length: 10 }, () => add(earner, { jws })));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(9);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    expect(await count(earner)).toBe(1);
  });

  it('refuses a badge for an unverified address of the earner, and one for nobody of theirs', async () => {
    const earner = await createEarner(app);
    const unverified = `pending.${randomUUID()}@example.org`;
    // Test setup only: an address claimed but not verified yet.
    await app.db.prisma.emailAddress.create({
      data: { id: randomUUID(), earnerId: earner.id, address: unverified },
    });
    const { jws } = await issuer.signed(unverified);
    const res = await add(earner, { jws });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('recipient_unverified');
    expect(res.json().checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'recipient_unverified', status: 'failed' })]),
    );
    const stranger = await issuer.signed('someone.else@example.org');
    const mismatch = await add(earner, { jws: stranger.jws });
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json().code).toBe('recipient_mismatch');
    expect(await count(earner)).toBe(0);
  });

  it('refuses revoked and invalid badges with the checks, and keeps an expired one with its status', async () => {
    const earner = await createEarner(app);
    const address = earner.addresses[0] as string;
    const gone = issuer.hosted(address);
    issuer.withdraw(gone.url);
    const revoked = await add(earner, { url: gone.url });
    expect(revoked.statusCode).toBe(422);
    expect(revoked.json().code).toBe('badge_revoked');

    const { jws } = await issuer.signed(address);
    const [h, p] = jws.split('.');
    const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
    const invalid = await add(earner, { jws: forged });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().code).toBe('badge_invalid');
    expect(invalid.json().checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'signature_valid', status: 'failed' })]),
    );
    expect(await count(earner)).toBe(0);

    const expired = await issuer.signed(address, { expires: '2024-06-01T00:00:00Z' });
    const kept = await add(earner, { jws: expired.jws });
    expect(kept.statusCode, kept.body).toBe(201);
    expect(kept.json().status).toBe('expired');
  });

  it('maps unreachable issuers and blocked addresses to badge_unreachable with the fetch code', async () => {
    const earner = await createEarner(app);
    const missing = await add(earner, { url: `${issuer.origin}/assertions/none` });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().code).toBe('badge_unreachable');
    const blocked = await add(earner, { url: 'http://127.0.0.1:1/assertion' });
    expect(blocked.statusCode).toBe(422);
    expect(blocked.json()).toMatchObject({ code: 'badge_unreachable', fetchCode: 'fetch_unreachable' });
    expect(await count(earner)).toBe(0);
  });

  it('rejects malformed input with precise 4xx problems and stores nothing', async () => {
    const earner = await createEarner(app);
    const cases: [unknown, number, string][] = [
      [{}, 400, 'validation_failed'],
      [{ url: 'https://a.example/x', jws: 'a.b.c' }, 400, 'validation_failed'],
      [{ uri: 'https://a.example/x' }, 400, 'validation_failed'],
      [{ url: 'not a url' }, 400, 'validation_failed'],
      [{ jws: 'no-dots-here' }, 422, 'badge_unreadable'],
      [{ json: { hello: 'world' } }, 422, 'badge_invalid'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await add(earner, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().code, JSON.stringify(payload)).toBe(code);
    }
    expect(await count(earner)).toBe(0);
  });

  it.each(['/v1/badges', '/v1/badge-uploads'])(
    'survives hostile uploads to %s: oversized, not an image, unbaked, zip bomb, extra parts',
    async (url) => {
      const earner = await createEarner(app);
      const big = await upload(
        earner,
        [{ name: 'file', filename: 'big.png', type: 'image/png', data: new Uint8Array(6 * 1024 * 1024) }],
        url,
      );
      expect(big.statusCode).toBe(413);
      expect(big.json().code).toBe('body_too_large');

      const text = await upload(
        earner,
        [{ name: 'file', filename: 'a.txt', type: 'text/plain', data: 'hello' }],
        url,
      );
      expect(text.statusCode).toBe(422);
      expect(text.json()).toMatchObject({ code: 'badge_unsupported', inputCode: 'image_unsupported' });

      const plain = await upload(
        earner,
        [{ name: 'file', filename: 'p.png', type: 'image/png', data: tinyPng() }],
        url,
      );
      expect(plain.statusCode).toBe(422);
      expect(plain.json()).toMatchObject({ code: 'badge_unsupported', inputCode: 'image_not_baked' });

      const bomb = await upload(
        earner,
        [{ name: 'file', filename: 'z.png', type: 'image/png', data: zipBombPng() }],
        url,
      );
      expect(bomb.statusCode).toBeGreaterThanOrEqual(413);
      expect(bomb.statusCode).toBeLessThan(500);
      expect(['badge_too_large', 'badge_unreadable', 'badge_unsupported']).toContain(bomb.json().code);

      const extra = await upload(earner, [{ name: 'note', data: 'hi' }], url);
      expect(extra.statusCode).toBe(400);
      expect(extra.json().code).toBe('validation_failed');

      const none = await upload(earner, [], url);
      expect(none.statusCode).toBeGreaterThanOrEqual(400);
      expect(none.statusCode).toBeLessThan(500);
      expect(await count(earner)).toBe(0);

      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
    },
  );

  it('keeps the 1 MB body limit for JSON and refuses multipart elsewhere', async () => {
    const earner = await createEarner(app);
    const huge = await add(earner, { jws: 'a'.repeat(1_100_000) });
    expect(huge.statusCode).toBe(413);
    const body = multipartBody([{ name: 'file', filename: 'x.png', data: tinyPng() }]);
    const elsewhere = await app.inject({
      method: 'POST',
      url: `/v1/badges/${randomUUID()}/verification`,
      headers: { ...headers(earner), ...body.headers },
      payload: body.payload,
    });
    expect(elsewhere.statusCode).toBeGreaterThanOrEqual(400);
    expect(elsewhere.statusCode).toBeLessThan(500);
  });
});
