// A token cannot become the account: with the widest personal access token, the steps that
// would give its holder a sign-in of their own (a new address, verified, then an e-mailed
// link) are refused, as are new tokens, the sessions and the export. The session that manages
// addresses and tokens must have signed in recently.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TOKEN_SCOPES } from '../../src/modules/accounts/index.ts';
import {
  accountsApp,
  type Clock,
  expectProblem,
  fakeClock,
  signInByEmail,
  uniqueAddress,
} from '../support/accounts.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { lastCodeFor, mailTo } from '../support/mail.ts';
import { rowCounts } from '../support/table-walk.ts';

describeEachDatabase('accounts: what a token and a stale session cannot do', (current) => {
  let app: FastifyInstance;
  let clock: Clock;
  beforeAll(async () => {
    clock = fakeClock();
    app = await accountsApp(
      current().db,
      { SIGN_IN_RATE_LIMIT_MAX: '1000', FRESH_SIGN_IN_MINUTES: '10' },
      { now: clock.now },
    );
  });
  afterAll(() => app.close());

  const tokenFor = async (headers: Record<string, string>, scopes: string[]): Promise<string> => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/access-tokens',
      headers,
      payload: { name: 'script', scopes },
    });
    expect(res.statusCode, res.body).toBe(201);
    return `Bearer ${res.json().token}`;
  };

  it('refuses every step of an account takeover to a token with every scope, changing nothing', async () => {
    const victim = await signInByEmail(app);
    const authorization = await tokenFor(victim.headers, [...TOKEN_SCOPES]);
    const attacker = uniqueAddress('attacker');
    const { items } = (await app.inject({ url: '/v1/email-addresses', headers: victim.headers })).json();
    const own = items[0].id as string;
    const before = await rowCounts(current().db);
    const attempts: [string, string, unknown?][] = [
      ['POST', '/v1/email-addresses', { email: attacker }],
      ['POST', `/v1/email-addresses/${own}/verification-codes`],
      ['POST', `/v1/email-addresses/${own}/verifications`, { code: 'A'.repeat(43) }],
      ['PATCH', `/v1/email-addresses/${own}`, { primary: true }],
      ['DELETE', `/v1/email-addresses/${own}`],
      ['POST', '/v1/access-tokens', { name: 'more', scopes: ['badges:read'] }],
      ['GET', '/v1/access-tokens'],
      ['GET', '/v1/sessions'],
      ['DELETE', '/v1/sessions'],
      ['GET', '/v1/account/export'],
      ['POST', '/v1/account/deletion-codes'],
      ['DELETE', '/v1/account'],
    ];
    for (const [method, url, payload] of attempts) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { authorization },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(403);
      expect(res.json().code, `${method} ${url}`).toBe('forbidden');
    }
    expect(mailTo(app, attacker)).toEqual([]);
    expect(await rowCounts(current().db)).toEqual(before);
    // What the token is for still works.
    expect((await app.inject({ url: '/v1/profile', headers: { authorization } })).statusCode).toBe(200);
  });

  it('asks a session that signed in long ago to sign in again before managing addresses or tokens', async () => {
    const me = await signInByEmail(app);
    const second = uniqueAddress();
    const added = await app.inject({
      method: 'POST',
      url: '/v1/email-addresses',
      headers: me.headers,
      payload: { email: second },
    });
    expect(added.statusCode).toBe(201);
    const code = lastCodeFor(app, second);
    clock.advance(11 * 60_000);
    try {
      const before = await rowCounts(current().db);
      const stale: [string, string, unknown?][] = [
        ['POST', '/v1/email-addresses', { email: uniqueAddress() }],
        ['POST', `/v1/email-addresses/${added.json().id}/verifications`, { code }],
        ['PATCH', `/v1/email-addresses/${added.json().id}`, { primary: true }],
        ['DELETE', `/v1/email-addresses/${added.json().id}`],
        ['POST', '/v1/access-tokens', { name: 'late', scopes: ['badges:read'] }],
      ];
      for (const [method, url, payload] of stale) {
        expectProblem(
          await app.inject({
            method: method as 'GET',
            url,
            headers: me.headers,
            ...(payload === undefined ? {} : { payload: payload as object }),
          }),
          403,
          'reauthentication_required',
        );
      }
      expect(await rowCounts(current().db)).toEqual(before);
      // Everyday use goes on with the same session.
      expect((await app.inject({ url: '/v1/badges', headers: me.headers })).statusCode).toBe(200);

      const again = await signInByEmail(app, me.address);
      const verified = await app.inject({
        method: 'POST',
        url: `/v1/email-addresses/${added.json().id}/verifications`,
        headers: again.headers,
        payload: { code },
      });
      expect(verified.statusCode, verified.body).toBe(200);
      await tokenFor(again.headers, ['badges:read']);
    } finally {
      clock.advance(-11 * 60_000);
    }
  });
});
