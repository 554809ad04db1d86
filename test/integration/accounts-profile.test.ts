import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountsApp, expectProblem, signInByEmail, uniqueAddress } from '../support/accounts.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { lastCodeFor, mailTo } from '../support/mail.ts';
import { rowCounts } from '../support/table-walk.ts';

interface Address {
  id: string;
  email: string;
  verified: boolean;
  primary: boolean;
}

describeEachDatabase('accounts: profile and e-mail addresses', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await accountsApp(current().db, {
      SIGN_IN_RATE_LIMIT_MAX: '1000',
      VERIFICATION_MAILS_PER_ACCOUNT_PER_HOUR: '100',
    });
  });
  afterAll(() => app.close());

  const addresses = async (headers: Record<string, string>): Promise<Address[]> =>
    (await app.inject({ url: '/v1/email-addresses', headers })).json().items;
  const add = (headers: Record<string, string>, address: string) =>
    app.inject({ method: 'POST', url: '/v1/email-addresses', headers, payload: { email: address } });
  const verify = (headers: Record<string, string>, id: string, code: string) =>
    app.inject({
      method: 'POST',
      url: `/v1/email-addresses/${id}/verifications`,
      headers,
      payload: { code },
    });
  const patch = (headers: Record<string, string>, payload: Record<string, unknown>) =>
    app.inject({ method: 'PATCH', url: '/v1/profile', headers, payload });

  /** Adds and verifies a second address for the earner. */
  const addVerified = async (
    headers: Record<string, string>,
    address = uniqueAddress(),
  ): Promise<Address> => {
    const added = await add(headers, address);
    expect(added.statusCode).toBe(201);
    const res = await verify(headers, added.json().id, lastCodeFor(app, address));
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  it('shows and changes the profile', async () => {
    const me = await signInByEmail(app);
    const before = await app.inject({ url: '/v1/profile', headers: me.headers });
    expect(before.json()).toMatchObject({ displayName: null, handle: null, pushPolicy: 'hold' });
    const handle = `ada-${Date.now().toString(36)}`;
    const res = await patch(me.headers, { displayName: '  Ada L.  ', handle, pushPolicy: 'accept' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ displayName: 'Ada L.', handle, pushPolicy: 'accept' });
    expect(res.json().addresses).toEqual([expect.objectContaining({ email: me.address, primary: true })]);
    const unpublished = await patch(me.headers, { handle: null, displayName: null });
    expect(unpublished.json()).toMatchObject({ handle: null, displayName: null, pushPolicy: 'accept' });
  });

  it('keeps handles unique and well-formed, changing nothing on refusal', async () => {
    const a = await signInByEmail(app);
    const b = await signInByEmail(app);
    const handle = `taken-${Date.now().toString(36)}`;
    expect((await patch(a.headers, { handle })).statusCode).toBe(200);
    const before = await rowCounts(current().db);
    expectProblem(await patch(b.headers, { handle, displayName: 'B' }), 409, 'handle_taken');
    expect((await app.inject({ url: '/v1/profile', headers: b.headers })).json().displayName).toBeNull();
    for (const bad of ['ab', 'Ada', '-ada', 'a'.repeat(41), 'ada lovelace', 'ada_l']) {
      const body = expectProblem(await patch(b.headers, { handle: bad }), 400, 'validation_failed');
      expect((body.errors as { pointer: string }[])[0]?.pointer).toBe('/handle');
    }
    expectProblem(await patch(b.headers, { pushPolicy: 'always' }), 400, 'validation_failed');
    expectProblem(await patch(b.headers, {}), 400, 'validation_failed');
    expectProblem(await patch(b.headers, { displayName: 'x'.repeat(101) }), 400, 'validation_failed');
    const unknown = expectProblem(await patch(b.headers, { id: 'someone-else' }), 400, 'validation_failed');
    expect(unknown.errors).toEqual([{ in: 'body', pointer: '/id', message: 'is not a known field' }]);
    const wrongType = expectProblem(await patch(b.headers, { displayName: 42 }), 400, 'validation_failed');
    expect((wrongType.errors as { pointer: string }[])[0]?.pointer).toBe('/displayName');
    expect(await rowCounts(current().db)).toEqual(before);
  });

  it('adds an address unverified, mails it a code, and verifies it', async () => {
    const me = await signInByEmail(app);
    const address = uniqueAddress('work');
    const added = await add(me.headers, address.toUpperCase());
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ email: address, verified: false, verifiedAt: null, primary: false });
    expect(mailTo(app, address)).toHaveLength(1);
    const verified = await verify(me.headers, added.json().id, lastCodeFor(app, address));
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ email: address, verified: true, primary: false });
    expect(await app.services.accounts.service.addresses(await earnerId(me.headers))).toEqual([
      { address: me.address, verified: true },
      { address, verified: true },
    ]);
  });

  it('sends a new code on request, and the code works once', async () => {
    const me = await signInByEmail(app);
    const address = uniqueAddress();
    const { id } = (await add(me.headers, address)).json();
    const resent = await app.inject({
      method: 'POST',
      url: `/v1/email-addresses/${id}/verification-codes`,
      headers: me.headers,
    });
    expect(resent.statusCode).toBe(202);
    expect(mailTo(app, address)).toHaveLength(2);
    const code = lastCodeFor(app, address);
    expect((await verify(me.headers, id, code)).statusCode).toBe(200);
    expectProblem(await verify(me.headers, id, code), 409, 'address_already_verified');
    expectProblem(
      await app.inject({
        method: 'POST',
        url: `/v1/email-addresses/${id}/verification-codes`,
        headers: me.headers,
      }),
      409,
      'address_already_verified',
    );
  });

  it('refuses wrong codes: unknown, for another address, or another earner’s', async () => {
    const me = await signInByEmail(app);
    const other = await signInByEmail(app);
    const mine = (await add(me.headers, uniqueAddress())).json();
    const theirsAddress = uniqueAddress();
    const theirs = (await add(other.headers, theirsAddress)).json();
    const before = await rowCounts(current().db);
    expectProblem(await verify(me.headers, mine.id, 'A'.repeat(43)), 400, 'code_invalid');
    expectProblem(await verify(me.headers, mine.id, lastCodeFor(app, theirsAddress)), 400, 'code_invalid');
    expectProblem(await verify(me.headers, mine.id, 'short'), 400, 'validation_failed');
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await verify(other.headers, theirs.id, lastCodeFor(app, theirsAddress))).statusCode).toBe(200);
  });

  it('cannot verify an address another account has verified, without saying which', async () => {
    const holder = await signInByEmail(app);
    const me = await signInByEmail(app);
    const added = await add(me.headers, holder.address);
    expect(added.statusCode).toBe(201);
    const before = await rowCounts(current().db);
    const res = await verify(me.headers, added.json().id, lastCodeFor(app, holder.address));
    const body = expectProblem(res, 409, 'address_unavailable');
    expect(JSON.stringify(body)).not.toContain(await earnerId(holder.headers));
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await addresses(me.headers)).find((a) => a.email === holder.address)?.verified).toBe(false);
  });

  it('refuses a duplicate, a malformed address and too many addresses', async () => {
    const me = await signInByEmail(app);
    const before = await rowCounts(current().db);
    expectProblem(await add(me.headers, me.address.toUpperCase()), 409, 'address_exists');
    for (const bad of ['nope', 'a b@example.org', '@example.org']) {
      expectProblem(await add(me.headers, bad), 400, 'validation_failed');
    }
    expect(await rowCounts(current().db)).toEqual(before);
    for (let i = 0; i < 9; i++) expect((await add(me.headers, uniqueAddress())).statusCode).toBe(201);
    expectProblem(await add(me.headers, uniqueAddress()), 409, 'address_limit_reached');
  });

  it('changes the primary address to a verified one only', async () => {
    const me = await signInByEmail(app);
    const second = await addVerified(me.headers);
    const unverified = (await add(me.headers, uniqueAddress())).json();
    expectProblem(
      await app.inject({
        method: 'PATCH',
        url: `/v1/email-addresses/${unverified.id}`,
        headers: me.headers,
        payload: { primary: true },
      }),
      409,
      'address_not_verified',
    );
    const res = await app.inject({
      method: 'PATCH',
      url: `/v1/email-addresses/${second.id}`,
      headers: me.headers,
      payload: { primary: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().primary).toBe(true);
    const list = await addresses(me.headers);
    expect(list.filter((a) => a.primary).map((a) => a.id)).toEqual([second.id]);
    expectProblem(
      await app.inject({
        method: 'PATCH',
        url: `/v1/email-addresses/${second.id}`,
        headers: me.headers,
        payload: { primary: false },
      }),
      400,
      'validation_failed',
    );
  });

  it('removes addresses but never the last verified one, passing primary on', async () => {
    const me = await signInByEmail(app);
    const [first] = await addresses(me.headers);
    if (!first) throw new Error('no address');
    const before = await rowCounts(current().db);
    expectProblem(
      await app.inject({ method: 'DELETE', url: `/v1/email-addresses/${first.id}`, headers: me.headers }),
      409,
      'last_verified_address',
    );
    expect(await rowCounts(current().db)).toEqual(before);
    const pending = (await add(me.headers, uniqueAddress())).json();
    expectProblem(
      await app.inject({ method: 'DELETE', url: `/v1/email-addresses/${first.id}`, headers: me.headers }),
      409,
      'last_verified_address',
    );
    const second = await addVerified(me.headers);
    const removed = await app.inject({
      method: 'DELETE',
      url: `/v1/email-addresses/${first.id}`,
      headers: me.headers,
    });
    expect(removed.statusCode).toBe(204);
    const left = await addresses(me.headers);
    expect(left.map((a) => a.id).sort()).toEqual([pending.id, second.id].sort());
    expect(left.find((a) => a.id === second.id)?.primary).toBe(true);
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/email-addresses/${pending.id}`, headers: me.headers }))
        .statusCode,
    ).toBe(204);
  });

  it('keeps each earner’s addresses their own (404, nothing changed)', async () => {
    const me = await signInByEmail(app);
    const stranger = await signInByEmail(app);
    const theirs = (await add(stranger.headers, uniqueAddress())).json();
    const [theirPrimary] = await addresses(stranger.headers);
    const before = await rowCounts(current().db);
    const attempts = [
      app.inject({ method: 'DELETE', url: `/v1/email-addresses/${theirs.id}`, headers: me.headers }),
      app.inject({
        method: 'PATCH',
        url: `/v1/email-addresses/${theirPrimary?.id}`,
        headers: me.headers,
        payload: { primary: true },
      }),
      app.inject({
        method: 'POST',
        url: `/v1/email-addresses/${theirs.id}/verification-codes`,
        headers: me.headers,
      }),
      verify(me.headers, theirs.id, 'A'.repeat(43)),
    ];
    for (const res of await Promise.all(attempts)) expectProblem(res, 404, 'not_found');
    expect(await rowCounts(current().db)).toEqual(before);
    expect(await addresses(stranger.headers)).toHaveLength(2);
    expect((await addresses(me.headers)).map((a) => a.email)).toEqual([me.address]);
  });

  it('refuses cross-site changes to the profile and addresses', async () => {
    const me = await signInByEmail(app);
    const evil = { cookie: me.headers.cookie, origin: 'https://evil.example' };
    const before = await rowCounts(current().db);
    expectProblem(await patch(evil, { displayName: 'pwned' }), 403, 'cross_site_request');
    expectProblem(await add(evil, uniqueAddress()), 403, 'cross_site_request');
    expectProblem(
      await app.inject({
        method: 'POST',
        url: '/v1/email-addresses',
        headers: { ...evil, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'email=attacker%40evil.example',
      }),
      403,
      'cross_site_request',
    );
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await app.inject({ url: '/v1/profile', headers: me.headers })).json().displayName).toBeNull();
  });

  async function earnerId(headers: Record<string, string>): Promise<string> {
    const exported = await app.inject({ url: '/v1/account/export', headers });
    return exported.json().account.id;
  }
});
