import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  accountsApp,
  expectProblem,
  fakeClock,
  ORIGIN,
  signInByEmail,
  uniqueAddress,
} from '../support/accounts.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { lastCodeFor, mailTo } from '../support/mail.ts';
import { findTraces, rowCounts } from '../support/table-walk.ts';

const OPERATOR_SECRET = 'operator-secret-for-tests-0123456789';
const OPERATOR_SHA256 = createHash('sha256').update(OPERATOR_SECRET).digest('hex');

describeEachDatabase('accounts: export, deletion and the operator', (current) => {
  let app: FastifyInstance;
  const clock = fakeClock();
  beforeAll(async () => {
    app = await accountsApp(
      current().db,
      { SIGN_IN_RATE_LIMIT_MAX: '1000', OPERATOR_TOKEN_SHA256: OPERATOR_SHA256 },
      { now: clock.now },
    );
  });
  afterAll(() => app.close());

  const earnerIdOf = async (headers: Record<string, string>): Promise<string> =>
    (await app.inject({ url: '/v1/account/export', headers })).json().account.id;

  /** An earner with a second address, a token, a badge in a group and a public link to it. */
  async function populated() {
    const me = await signInByEmail(app);
    const second = uniqueAddress('second');
    const added = await app.inject({
      method: 'POST',
      url: '/v1/email-addresses',
      headers: me.headers,
      payload: { email: second },
    });
    await app.inject({
      method: 'POST',
      url: `/v1/email-addresses/${added.json().id}/verifications`,
      headers: me.headers,
      payload: { code: lastCodeFor(app, second) },
    });
    const token = await app.inject({
      method: 'POST',
      url: '/v1/access-tokens',
      headers: me.headers,
      payload: { name: 'script', scopes: ['badges:read'] },
    });
    const id = await earnerIdOf(me.headers);
    const badgeId = await insertBadge(app, id, { recipient: me.address });
    const group = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: me.headers,
      payload: { name: 'Mine', badgeIds: [badgeId] },
    });
    expect(group.statusCode, group.body).toBe(201);
    const link = await app.inject({
      method: 'POST',
      url: '/v1/share-links',
      headers: me.headers,
      payload: { groupId: group.json().id },
    });
    expect(link.statusCode, link.body).toBe(201);
    const publicPath = new URL(link.json().url).pathname;
    expect((await app.inject({ url: publicPath, headers: { accept: 'application/json' } })).statusCode).toBe(
      200,
    );
    return { me, id, addresses: [me.address, second], token: token.json().token as string, publicPath };
  }

  it('exports everything held about me, without secrets, with the other modules’ sections', async () => {
    const { me, id, addresses, token } = await populated();
    const res = await app.inject({ url: '/v1/account/export', headers: me.headers });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toContain('attachment');
    const body = res.json();
    expect(body.account).toMatchObject({ id, displayName: null, pushPolicy: 'hold' });
    expect(body.addresses.map((a: { email: string }) => a.email).sort()).toEqual([...addresses].sort());
    expect(body.sessions).toEqual([expect.objectContaining({ id: me.sessionId, current: true })]);
    expect(body.accessTokens).toEqual([expect.objectContaining({ name: 'script', scopes: ['badges:read'] })]);
    expect(body.operatorActions).toEqual([]);
    expect(body.sections.groups).toEqual([expect.objectContaining({ name: 'Mine' })]);
    expect(body.sections.shareLinks).toHaveLength(1);
    expect(res.body).not.toContain(token);
    expect(res.body).not.toContain(me.headers.cookie.split('=')[1]);
    expect(res.body).not.toMatch(/tokenHash|codeHash/);
  });

  it('lets modules add sections to the export', async () => {
    const me = await signInByEmail(app);
    const id = await earnerIdOf(me.headers);
    app.services.accounts.addExportSection('testNotes', async (earnerId) => [{ earnerId, note: 'kept' }]);
    expect(() => app.services.accounts.addExportSection('groups', async () => [])).toThrow();
    const body = (await app.inject({ url: '/v1/account/export', headers: me.headers })).json();
    expect(body.sections.testNotes).toEqual([{ earnerId: id, note: 'kept' }]);
  });

  it('deletes the account with a fresh sign-in and leaves no trace in any table', async () => {
    const { me, id, addresses, token, publicPath } = await populated();
    const res = await app.inject({ method: 'DELETE', url: '/v1/account', headers: me.headers });
    expect(res.statusCode).toBe(204);
    expect(res.cookies.find((c) => c.name === app.services.accounts.cookieName)?.value).toBe('');
    expect(await findTraces(current().db, [id, ...addresses])).toEqual([]);
    expect((await app.inject({ url: publicPath, headers: { accept: 'application/json' } })).statusCode).toBe(
      404,
    );
    expectProblem(await app.inject({ url: '/v1/profile', headers: me.headers }), 401, 'invalid_credentials');
    expectProblem(
      await app.inject({ url: '/v1/badges', headers: { authorization: `Bearer ${token}` } }),
      401,
      'invalid_credentials',
    );

    // The same address starts an empty backpack.
    await app.inject({
      method: 'POST',
      url: '/v1/auth/email-links',
      headers: { origin: ORIGIN },
      payload: { email: me.address },
    });
    const again = await app.inject({
      method: 'POST',
      url: '/v1/auth/email-sign-ins',
      headers: { origin: ORIGIN },
      payload: { code: lastCodeFor(app, me.address) },
    });
    expectProblem(again, 400, 'age_required');
    const back = await signInByEmail(app, me.address);
    const exported = (await app.inject({ url: '/v1/account/export', headers: back.headers })).json();
    expect(exported.account.id).not.toBe(id);
    expect(exported.addresses).toHaveLength(1);
    expect(exported.sections.groups).toEqual([]);
    expect(exported.sections.shareLinks).toEqual([]);
    expect(exported.accessTokens).toEqual([]);
    expect((await app.inject({ url: '/v1/badges', headers: back.headers })).json().items).toEqual([]);
  });

  it('asks a stale session for an e-mailed confirmation code, and accepts only its own', async () => {
    const { me, id, addresses } = await populated();
    const other = await signInByEmail(app);
    clock.advance(11 * 60_000);
    try {
      const before = await rowCounts(current().db);
      expectProblem(
        await app.inject({ method: 'DELETE', url: '/v1/account', headers: me.headers }),
        403,
        'confirmation_required',
      );
      expect(await rowCounts(current().db)).toEqual(before);

      const asked = await app.inject({
        method: 'POST',
        url: '/v1/account/deletion-codes',
        headers: other.headers,
      });
      expect(asked.statusCode).toBe(202);
      const othersCode = lastCodeFor(app, other.address);
      const wrong = await app.inject({
        method: 'DELETE',
        url: '/v1/account',
        headers: me.headers,
        payload: { confirmationCode: othersCode },
      });
      expectProblem(wrong, 400, 'code_invalid');
      expectProblem(
        await app.inject({
          method: 'DELETE',
          url: '/v1/account',
          headers: me.headers,
          payload: { confirmationCode: 'A'.repeat(43) },
        }),
        400,
        'code_invalid',
      );
      expectProblem(
        await app.inject({
          method: 'DELETE',
          url: '/v1/account',
          headers: me.headers,
          payload: { confirm: true },
        }),
        400,
        'validation_failed',
      );

      expect(
        (await app.inject({ method: 'POST', url: '/v1/account/deletion-codes', headers: me.headers }))
          .statusCode,
      ).toBe(202);
      expect(mailTo(app, me.address).at(-1)?.subject).toMatch(/deletion/);
      const res = await app.inject({
        method: 'DELETE',
        url: '/v1/account',
        headers: me.headers,
        payload: { confirmationCode: lastCodeFor(app, me.address) },
      });
      expect(res.statusCode).toBe(204);
      expect(await findTraces(current().db, [id, ...addresses])).toEqual([]);
      expect((await app.inject({ url: '/v1/profile', headers: other.headers })).statusCode).toBe(200);
    } finally {
      clock.advance(-11 * 60_000);
    }
  });

  it('takes an empty body labelled JSON as no body, as generated clients send it', async () => {
    const me = await signInByEmail(app);
    const groups = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: { ...me.headers, 'content-type': 'application/json' },
      payload: '',
    });
    // Where a body is required, an empty one is still malformed.
    expectProblem(groups, 400, 'malformed_body');
    const res = await app.inject({
      method: 'DELETE',
      url: '/v1/account',
      headers: { ...me.headers, 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(204);
    expectProblem(await app.inject({ url: '/v1/profile', headers: me.headers }), 401, 'invalid_credentials');
  });

  it('refuses deletion across sites, by token, and with a form body, changing nothing', async () => {
    const me = await signInByEmail(app);
    const token = (
      await app.inject({
        method: 'POST',
        url: '/v1/access-tokens',
        headers: me.headers,
        payload: { name: 't', scopes: ['profile:write'] },
      })
    ).json().token;
    const before = await rowCounts(current().db);
    expectProblem(
      await app.inject({
        method: 'DELETE',
        url: '/v1/account',
        headers: { cookie: me.headers.cookie, origin: 'https://evil.example' },
      }),
      403,
      'cross_site_request',
    );
    expectProblem(
      await app.inject({
        method: 'DELETE',
        url: '/v1/account',
        headers: {
          cookie: me.headers.cookie,
          origin: 'https://evil.example',
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: 'confirm=1',
      }),
      403,
      'cross_site_request',
    );
    expectProblem(
      await app.inject({
        method: 'DELETE',
        url: '/v1/account',
        headers: { ...me.headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'confirm=1',
      }),
      415,
      'unsupported_media_type',
    );
    expectProblem(
      await app.inject({
        method: 'DELETE',
        url: '/v1/account',
        headers: { authorization: `Bearer ${token}` },
      }),
      403,
      'forbidden',
    );
    expect(await rowCounts(current().db)).toEqual(before);
  });

  it('lets the operator delete the account holding a verified address, recording only the action', async () => {
    const { me, id, addresses } = await populated();
    const before = await current().db.prisma.operatorAction.count();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/operator/account-deletions',
      headers: { 'x-operator-token': OPERATOR_SECRET },
      payload: { email: addresses[1]?.toUpperCase(), reason: 'parental_request' },
    });
    expect(res.statusCode).toBe(204);
    expect(await findTraces(current().db, [id, ...addresses])).toEqual([]);
    const actions = await current().db.prisma.operatorAction.findMany({ orderBy: { createdAt: 'desc' } });
    expect(actions).toHaveLength(before + 1);
    expect(actions[0]).toMatchObject({
      earnerId: null,
      action: 'delete_account',
      reason: 'parental_request',
    });
    expectProblem(await app.inject({ url: '/v1/profile', headers: me.headers }), 401, 'invalid_credentials');
  });

  it('shows the earner the operator actions recorded about them', async () => {
    const me = await signInByEmail(app);
    const id = await earnerIdOf(me.headers);
    await app.services.accounts.service.recordOperatorAction(id, 'review_handle', 'legal_request');
    const body = (await app.inject({ url: '/v1/account/export', headers: me.headers })).json();
    expect(body.operatorActions).toEqual([
      expect.objectContaining({ action: 'review_handle', reason: 'legal_request' }),
    ]);
  });

  it('refuses the operator operation without the right credential, or for a bad request', async () => {
    const me = await signInByEmail(app);
    const before = await rowCounts(current().db);
    const url = '/v1/operator/account-deletions';
    const payload = { email: me.address, reason: 'legal_request' };
    expectProblem(await app.inject({ method: 'POST', url, payload }), 401, 'unauthenticated');
    expectProblem(
      await app.inject({
        method: 'POST',
        url,
        payload,
        headers: { 'x-operator-token': `${OPERATOR_SECRET}x` },
      }),
      401,
      'invalid_credentials',
    );
    // An earner's session is not an operator credential.
    expectProblem(
      await app.inject({ method: 'POST', url, payload, headers: me.headers }),
      401,
      'unauthenticated',
    );
    const op = { 'x-operator-token': OPERATOR_SECRET };
    expectProblem(
      await app.inject({ method: 'POST', url, headers: op, payload: { ...payload, reason: 'because' } }),
      400,
      'validation_failed',
    );
    expectProblem(
      await app.inject({
        method: 'POST',
        url,
        headers: op,
        payload: { email: uniqueAddress(), reason: 'legal_request' },
      }),
      404,
      'not_found',
    );
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await app.inject({ url: '/v1/profile', headers: me.headers })).statusCode).toBe(200);
  });
});

describeEachDatabase('accounts: no operator configured', (current) => {
  it('has no operator access at all', async () => {
    const app = await accountsApp(current().db);
    try {
      const me = await signInByEmail(app);
      const res = await app.inject({
        method: 'POST',
        url: '/v1/operator/account-deletions',
        headers: { 'x-operator-token': OPERATOR_SECRET },
        payload: { email: me.address, reason: 'legal_request' },
      });
      expectProblem(res, 401, 'invalid_credentials');
      expect((await app.inject({ url: '/v1/profile', headers: me.headers })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
