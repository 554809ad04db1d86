// A badge an issuer platform pushes that is held for the earner's review mails the earner once,
// through the service's mail transport: never again for the same badge, never for one accepted
// at once (`pushPolicy` `accept`), and never once the earner turns `pushReviewMail` off in the
// profile, which the export shows too.
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SCOPES } from '../../src/modules/connect/index.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { type ConnectServer, connectPlatform, insecure, startConnectServer } from '../support/connect.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';
import { mailTo } from '../support/mail.ts';

const SUBJECT = 'A badge waits for your review in your Badge Backpack';

describeEachDatabase('connect: a held push mails the earner once', (current) => {
  let server: ConnectServer;
  let issuer: LocalIssuer;

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    server = await startConnectServer(current().db, { FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  async function push(token: string, url: string): Promise<number> {
    const res = await oauth.protectedResourceRequest(
      token,
      'POST',
      new URL('/ims/ob/v2p1/assertions', server.base),
      new Headers({ 'content-type': 'application/json' }),
      JSON.stringify({ id: url }),
      insecure,
    );
    await res.text();
    return res.status;
  }

  const reviewMail = (earner: TestEarner) =>
    mailTo(server.app, earner.addresses[0] as string).filter((m) => m.subject === SUBJECT);

  const profile = (earner: TestEarner, payload?: Record<string, unknown>) =>
    server.app.inject({
      method: payload ? 'PATCH' : 'GET',
      url: '/v1/profile',
      // This server's own origin: the fixture's session names the default one.
      headers: { cookie: earner.session.cookie, origin: server.base },
      ...(payload ? { payload } : {}),
    });

  it('mails once per held badge, naming the badge, its issuer and the platform', async () => {
    const earner = await createEarner(server.app);
    const address = earner.addresses[0] as string;
    expect((await profile(earner)).json()).toMatchObject({ pushPolicy: 'hold', pushReviewMail: true });
    const { tokens } = await connectPlatform(server, earner, SCOPES.assertionCreate);

    const first = issuer.hosted(address, { name: 'Held Once' });
    expect(await push(tokens.access_token, first.url)).toBe(201);
    const mails = reviewMail(earner);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.text).toContain('"Held Once"');
    expect(mails[0]?.text).toContain('Test Issuer Platform');
    expect(mails[0]?.text).toContain('pushReviewMail');

    // The same badge pushed again is the badge held: no second message.
    expect(await push(tokens.access_token, first.url)).toBe(200);
    expect(reviewMail(earner)).toHaveLength(1);
    // Another held badge is another message.
    expect(await push(tokens.access_token, issuer.hosted(address, { name: 'Held Twice' }).url)).toBe(201);
    expect(reviewMail(earner).map((m) => /"([^"]+)"/.exec(m.text)?.[1])).toEqual(['Held Once', 'Held Twice']);
    // No one else hears of it.
    const bystander = await createEarner(server.app);
    expect(reviewMail(bystander)).toEqual([]);
  });

  it('sends nothing for a badge accepted at once, nor after the earner opts out', async () => {
    const earner = await createEarner(server.app);
    const address = earner.addresses[0] as string;
    const { tokens } = await connectPlatform(server, earner, SCOPES.assertionCreate);

    expect((await profile(earner, { pushPolicy: 'accept' })).statusCode).toBe(200);
    expect(await push(tokens.access_token, issuer.hosted(address, { name: 'Accepted' }).url)).toBe(201);
    expect(reviewMail(earner)).toEqual([]);

    const optedOut = await profile(earner, { pushPolicy: 'hold', pushReviewMail: false });
    expect(optedOut.statusCode, optedOut.body).toBe(200);
    expect(optedOut.json()).toMatchObject({ pushPolicy: 'hold', pushReviewMail: false });
    expect(await push(tokens.access_token, issuer.hosted(address, { name: 'Quiet' }).url)).toBe(201);
    expect(reviewMail(earner)).toEqual([]);
    const held = await server.app.inject({ url: '/v1/pushed-badges', headers: earner.session });
    expect(held.json().items).toContainEqual(
      expect.objectContaining({ name: 'Quiet', acceptance: 'pending' }),
    );

    const exported = await server.app.inject({ url: '/v1/account/export', headers: earner.session });
    expect(exported.statusCode).toBe(200);
    expect(exported.json().account).toMatchObject({ pushPolicy: 'hold', pushReviewMail: false });

    // Turned back on, the next held badge is mailed again.
    expect((await profile(earner, { pushReviewMail: true })).json().pushReviewMail).toBe(true);
    expect(await push(tokens.access_token, issuer.hosted(address, { name: 'Loud' }).url)).toBe(201);
    expect(reviewMail(earner)).toHaveLength(1);
  });

  it('refuses a pushReviewMail that is not a boolean, changing nothing', async () => {
    const earner = await createEarner(server.app);
    const res = await profile(earner, { pushReviewMail: 'no' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
    expect((await profile(earner)).json().pushReviewMail).toBe(true);
  });
});
