// Revocation fails closed: a badge whose status list cannot be fetched is kept as `unverified`
// and shown so everywhere (the earner's list and badge, public pages in HTML and JSON, the
// displayer API, the OB 3.0 API), and the re-verification job tries it again with backoff until
// it is `valid` or `revoked`. A local issuer serves the signed status list and switches it off.
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../../src/modules/connect/index.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { type ConnectServer, connectPlatform, insecure, startConnectServer } from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

const JOB = 'badges-reverify';
const MINUTE = 60_000;

describeEachDatabase('badges: unverified until their status can be checked', (current) => {
  let server: ConnectServer;
  let issuer: LocalIssuer;

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    server = await startConnectServer(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      FETCH_TIMEOUT_MS: '10000',
    });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  const headers = (e: TestEarner) => ({ cookie: e.session.cookie, origin: server.base });
  const get = (e: TestEarner | null, url: string) =>
    server.app.inject({ method: 'GET', url, ...(e ? { headers: headers(e) } : {}) });
  const send = (e: TestEarner, method: 'POST' | 'PATCH', url: string, payload: unknown) =>
    server.app.inject({ method, url, headers: headers(e), payload: payload as Record<string, unknown> });
  const runJob = () => server.app.services.scheduler.runOnce(JOB, server.clock.now);
  const row = (id: string) => server.app.db.prisma.backpackItem.findUniqueOrThrow({ where: { id } });

  /** Every place a badge's status is shown, read the way each audience reads it. */
  async function statusesEverywhere(
    earner: TestEarner,
    badgeId: string,
    share: { token: string; handle: string },
    ob3Token: string,
  ) {
    const list = (await get(earner, '/v1/badges')).json() as { items: { id: string; status: string }[] };
    const detail = (await get(earner, `/v1/badges/${badgeId}`)).json() as { status: string };
    const page = await server.app.inject({
      method: 'GET',
      url: `/share/${share.token}`,
      headers: { accept: 'application/json' },
    });
    const html = await server.app.inject({
      method: 'GET',
      url: `/share/${share.token}`,
      headers: { accept: 'text/html' },
    });
    const displayer = (await get(null, `/v1/displayers/${share.handle}/groups`)).json() as {
      items: { badges: { status: string }[] }[];
    };
    const ob3 = await oauth.protectedResourceRequest(
      ob3Token,
      'GET',
      new URL('/ims/ob/v3p0/credentials', server.base),
      new Headers(),
      null,
      insecure,
    );
    const ob3Body = (await ob3.json()) as { verification: { credential: { status: string }[] } };
    return {
      list: list.items.find((i) => i.id === badgeId)?.status,
      detail: detail.status,
      page: (page.json() as { badges: { status: string }[] }).badges[0]?.status,
      html: /class="status status-(\w+)"/.exec(html.body)?.[1],
      displayer: displayer.items[0]?.badges[0]?.status,
      ob3: ob3Body.verification.credential[0]?.status,
    };
  }

  const everywhere = (status: string) => ({
    list: status,
    detail: status,
    page: status,
    html: status,
    displayer: status,
    ob3: status,
  });

  async function published(earner: TestEarner, badgeId: string) {
    const group = await send(earner, 'POST', '/v1/groups', { name: 'Shown', badgeIds: [badgeId] });
    expect(group.statusCode, group.body).toBe(201);
    const link = await send(earner, 'POST', '/v1/share-links', { groupId: group.json().id });
    expect(link.statusCode, link.body).toBe(201);
    const handle = `status-${Math.random().toString(36).slice(2, 10)}`;
    expect((await send(earner, 'PATCH', '/v1/profile', { handle })).statusCode).toBe(200);
    const { tokens } = await connectPlatform(server, earner, SCOPES.credentialReadonly);
    return { share: { token: link.json().token as string, handle }, ob3Token: tokens.access_token };
  }

  it('keeps a badge whose status list is off as unverified everywhere, retries with backoff, and shows it valid once the list answers', async () => {
    const earner = await createEarner(server.app);
    const { entry } = issuer.statusEntry();
    const credential = await issuer.credential(earner.addresses[0] as string, 'Status Unknown', {
      credentialStatus: entry,
    });
    issuer.switchOff(issuer.statusListUrl);

    const added = await send(earner, 'POST', '/v1/badges', { json: credential });
    expect(added.statusCode, added.body).toBe(201);
    const badge = added.json();
    expect(badge.status).toBe('unverified');
    expect(badge.statusReason).toEqual({
      code: 'revocation_unchecked',
      message: expect.stringContaining('answered HTTP 503'),
    });
    expect(badge.checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'revocation_unchecked', status: 'failed' })]),
    );
    const { share, ob3Token } = await published(earner, badge.id);
    expect(await statusesEverywhere(earner, badge.id, share, ob3Token)).toEqual(everywhere('unverified'));
    expect((await get(earner, '/v1/badges?status=valid')).json().total).toBe(0);
    expect((await get(earner, '/v1/badges?status=unverified')).json().total).toBe(1);
    const html = (await server.app.inject({ url: `/share/${share.token}`, headers: { accept: 'text/html' } }))
      .body;
    expect(html).toContain('Not verified');
    expect(html).not.toContain('class="status status-valid"');
    const addedAt = await row(badge.id);
    expect(addedAt.recheckAttempts).toBe(1);
    expect(addedAt.recheckAt?.getTime()).toBe(server.clock.now.getTime() + 10 * MINUTE);

    // Not due yet: the job leaves it alone.
    server.clock.advance(5 * MINUTE);
    expect(await runJob()).toBe(true);
    expect((await row(badge.id)).verifiedAt.getTime()).toBe(addedAt.verifiedAt.getTime());

    // Due, still off: still unverified, and the next try waits twice as long. (Each run is
    // more than the job's 10-minute period after the last, so that it gets the job's lease.)
    server.clock.advance(11 * MINUTE);
    expect(await runJob()).toBe(true);
    const retried = await row(badge.id);
    expect(retried.status).toBe('unverified');
    expect(retried.recheckAttempts).toBe(2);
    expect(retried.recheckAt?.getTime()).toBe(server.clock.now.getTime() + 20 * MINUTE);
    expect(retried.verifiedAt.getTime()).toBe(server.clock.now.getTime());

    // The list answers again: the next due run settles the badge as valid, everywhere.
    issuer.switchOn(issuer.statusListUrl);
    server.clock.advance(21 * MINUTE);
    expect(await runJob()).toBe(true);
    const settled = await row(badge.id);
    expect(settled).toMatchObject({
      status: 'valid',
      statusReason: null,
      recheckAt: null,
      recheckAttempts: 0,
    });
    expect(await statusesEverywhere(earner, badge.id, share, ob3Token)).toEqual(everywhere('valid'));
    expect((await get(earner, `/v1/badges/${badge.id}`)).json().statusReason).toBeNull();
  });

  it('settles an unverified badge as revoked when the list it could not read says so', async () => {
    const earner = await createEarner(server.app);
    const { entry, index } = issuer.statusEntry();
    const credential = await issuer.credential(earner.addresses[0] as string, 'Revoked Meanwhile', {
      credentialStatus: entry,
    });
    issuer.switchOff(issuer.statusListUrl);
    const added = await send(earner, 'POST', '/v1/badges', { json: credential });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().status).toBe('unverified');
    const { share, ob3Token } = await published(earner, added.json().id);

    await issuer.setStatus(index, true);
    issuer.switchOn(issuer.statusListUrl);
    server.clock.advance(11 * MINUTE);
    expect(await runJob()).toBe(true);
    expect((await row(added.json().id)).status).toBe('revoked');
    expect(await statusesEverywhere(earner, added.json().id, share, ob3Token)).toEqual(everywhere('revoked'));
  });

  it('does not trust a status list signed by another key: the badge stays unverified', async () => {
    const earner = await createEarner(server.app);
    const { entry, index } = issuer.statusEntry();
    const credential = await issuer.credential(earner.addresses[0] as string, 'Forged List', {
      credentialStatus: entry,
    });
    await issuer.forgeStatusList();
    try {
      const added = await send(earner, 'POST', '/v1/badges', { json: credential });
      expect(added.statusCode, added.body).toBe(201);
      expect(added.json().status).toBe('unverified');
      expect(added.json().statusReason.message).toContain('its own proof is not verifiable');
    } finally {
      // Publishes the genuine list again.
      await issuer.setStatus(index, false);
    }
  });

  it('turns a held valid badge unverified when its status list goes away, never leaving it valid', async () => {
    const earner = await createEarner(server.app);
    const { entry } = issuer.statusEntry();
    const credential = await issuer.credential(earner.addresses[0] as string, 'Was Valid', {
      credentialStatus: entry,
    });
    const added = await send(earner, 'POST', '/v1/badges', { json: credential });
    expect(added.json().status, added.body).toBe('valid');
    issuer.switchOff(issuer.statusListUrl);
    try {
      const again = await send(earner, 'POST', `/v1/badges/${added.json().id}/verification`, undefined);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({
        status: 'unverified',
        statusReason: { code: 'revocation_unchecked' },
      });
      expect((await row(added.json().id)).recheckAt).not.toBeNull();
    } finally {
      issuer.switchOn(issuer.statusListUrl);
    }
  });

  it('turns a held hosted badge unverified while its issuer copy cannot be fetched', async () => {
    const earner = await createEarner(server.app);
    const hosted = issuer.hosted(earner.addresses[0] as string, { name: 'Hosted Away' });
    const added = await send(earner, 'POST', '/v1/badges', { url: hosted.url });
    expect(added.json().status, added.body).toBe('valid');
    issuer.switchOff(hosted.url);
    const again = await send(earner, 'POST', `/v1/badges/${added.json().id}/verification`, undefined);
    expect(again.json()).toMatchObject({ status: 'unverified', statusReason: { code: 'hosted_fetched' } });
    issuer.switchOn(hosted.url);
    const back = await send(earner, 'POST', `/v1/badges/${added.json().id}/verification`, undefined);
    expect(back.json()).toMatchObject({ status: 'valid', statusReason: null });
  });
});
