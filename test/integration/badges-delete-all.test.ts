// Deleting all badges takes the same confirmation as deleting the account (a recent sign-in, or
// a code mailed for it), never a bearer token, and ends the share links it empties: single-badge
// links and the links of groups left without badges. Another account's links live on.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountsApp, type Clock, expectProblem, fakeClock } from '../support/accounts.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, createToken, type TestEarner } from '../support/earners.ts';
import { lastCodeFor, mailTo } from '../support/mail.ts';
import { rowCounts } from '../support/table-walk.ts';

describeEachDatabase('deleting all badges', (current) => {
  let app: FastifyInstance;
  let clock: Clock;
  beforeAll(async () => {
    clock = fakeClock();
    app = await accountsApp(current().db, { RATE_LIMIT_MAX: '100000' }, { now: clock.now });
  });
  afterAll(() => app.close());

  /** Two badges, a group holding both shared by link, and a link to the first badge alone. */
  async function backpack(earner: TestEarner) {
    const recipient = earner.addresses[0] as string;
    const first = await insertBadge(app, earner.id, { recipient, name: 'First' });
    const second = await insertBadge(app, earner.id, { recipient, name: 'Second' });
    const group = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: earner.session,
      payload: { name: 'Shown', badgeIds: [first, second] },
    });
    expect(group.statusCode, group.body).toBe(201);
    const share = async (payload: Record<string, string>) => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/share-links',
        headers: earner.session,
        payload,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().token as string;
    };
    return {
      groupLink: await share({ groupId: group.json().id }),
      badgeLink: await share({ badgeId: first }),
    };
  }

  const page = (token: string) => app.inject({ url: `/v1/shared-pages/${token}` });
  const deleteAll = (earner: TestEarner, payload?: Record<string, string>) =>
    app.inject({
      method: 'DELETE',
      url: '/v1/badges',
      headers: earner.session,
      ...(payload ? { payload } : {}),
    });

  it('with a recent sign-in, deletes every badge and ends the share links it empties', async () => {
    const earner = await createEarner(app);
    const links = await backpack(earner);
    const bystander = await createEarner(app);
    const theirs = await backpack(bystander);
    expect((await page(links.groupLink)).statusCode).toBe(200);

    const res = await deleteAll(earner);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ deleted: 2, endedShareLinks: 2 });
    for (const token of [links.groupLink, links.badgeLink]) {
      expectProblem(await page(token), 404, 'not_found');
      expect((await app.inject({ url: `/share/${token}` })).statusCode).toBe(404);
    }
    const listed = await app.inject({ url: '/v1/share-links', headers: earner.session });
    expect(listed.json().items).toEqual([]);
    // The group itself stays, empty; the account is untouched.
    const groups = await app.inject({ url: '/v1/groups', headers: earner.session });
    expect(groups.json().items).toEqual([
      expect.objectContaining({ name: 'Shown', badgeCount: 0, shared: false }),
    ]);
    expect((await app.inject({ url: '/v1/profile', headers: earner.session })).statusCode).toBe(200);
    // Another account's pages are not touched.
    for (const token of [theirs.groupLink, theirs.badgeLink])
      expect((await page(token)).statusCode).toBe(200);
  });

  it('after the sign-in grows old, needs a code mailed for it, which works once', async () => {
    const earner = await createEarner(app);
    const links = await backpack(earner);
    const stranger = await createEarner(app);
    await insertBadge(app, stranger.id, { recipient: stranger.addresses[0] as string });
    clock.advance(11 * 60_000);
    try {
      const before = await rowCounts(current().db);
      expectProblem(await deleteAll(earner), 403, 'confirmation_required');
      expectProblem(await deleteAll(earner, { confirmationCode: 'A'.repeat(43) }), 400, 'code_invalid');
      expect(await rowCounts(current().db)).toEqual(before);

      // A code mailed to delete the account confirms that, not this.
      const accountCode = await app.inject({
        method: 'POST',
        url: '/v1/account/deletion-codes',
        headers: earner.session,
      });
      expect(accountCode.statusCode).toBe(202);
      const address = earner.addresses[0] as string;
      expectProblem(
        await deleteAll(earner, { confirmationCode: lastCodeFor(app, address) }),
        400,
        'code_invalid',
      );

      const asked = await app.inject({
        method: 'POST',
        url: '/v1/account/badge-deletion-codes',
        headers: earner.session,
      });
      expect(asked.statusCode, asked.body).toBe(202);
      expect(mailTo(app, address).at(-1)?.text).toContain('delete all the badges');
      const code = lastCodeFor(app, address);
      // Another account, whose sign-in is as old, cannot use it.
      expectProblem(await deleteAll(stranger, { confirmationCode: code }), 400, 'code_invalid');

      const res = await deleteAll(earner, { confirmationCode: code });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ deleted: 2, endedShareLinks: 2 });
      expectProblem(await page(links.groupLink), 404, 'not_found');
      expectProblem(await deleteAll(earner, { confirmationCode: code }), 400, 'code_used');
    } finally {
      clock.advance(-11 * 60_000);
    }
  });

  it('is never open to a bearer token, whatever its scopes', async () => {
    const earner = await createEarner(app);
    await backpack(earner);
    const token = await createToken(app, earner.id, ['badges:read', 'badges:write', 'shares:write']);
    const before = await rowCounts(current().db);
    const res = await app.inject({ method: 'DELETE', url: '/v1/badges', headers: { authorization: token } });
    expectProblem(res, 403, 'forbidden');
    expect(await rowCounts(current().db)).toEqual(before);
  });
});
