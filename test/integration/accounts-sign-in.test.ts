import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { applyMigrations } from '../../src/db/migrations.ts';
import type { Mailer, MailMessage } from '../../src/mail/index.ts';
import {
  accountsApp,
  cookieFrom,
  expectProblem,
  fakeClock,
  ORIGIN,
  signInByEmail,
  uniqueAddress,
} from '../support/accounts.ts';
import { createEmptyDatabase, describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';
import { lastCodeFor, mailTo } from '../support/mail.ts';
import { findTraces, rowCounts } from '../support/table-walk.ts';

const LINK = '/v1/auth/email-links';
const REDEEM = '/v1/auth/email-sign-ins';

describeEachDatabase('accounts: sign-in by e-mail link', (current) => {
  let app: FastifyInstance;
  const clock = fakeClock();
  beforeAll(async () => {
    app = await accountsApp(current().db, { SIGN_IN_RATE_LIMIT_MAX: '1000' }, { now: clock.now });
  });
  afterAll(() => app.close());

  const ask = (email: string, headers: Record<string, string> = { origin: ORIGIN }) =>
    app.inject({ method: 'POST', url: LINK, headers, payload: { email } });
  const redeem = (payload: Record<string, unknown>, headers: Record<string, string> = { origin: ORIGIN }) =>
    app.inject({ method: 'POST', url: REDEEM, headers, payload });

  it('mails a link to the front end with the secret in the fragment, and stores only its hash', async () => {
    const address = uniqueAddress();
    const res = await ask(address);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted' });
    const [mail] = mailTo(app, address);
    expect(mail?.subject).toMatch(/sign-in link/);
    const link = /(http\S+)/.exec(mail?.text ?? '')?.[1] ?? '';
    const url = new URL(link);
    expect(`${url.origin}${url.pathname}`).toBe('http://localhost:3000/sign-in');
    expect(url.search).toBe('');
    const secret = lastCodeFor(app, address);
    expect(url.hash).toBe(`#code=${secret}`);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    const traces = await findTraces(current().db, [secret]);
    expect(traces).toEqual([]);
  });

  it('answers the same whether or not the address has an account', async () => {
    const known = await signInByEmail(app);
    const unknown = uniqueAddress();
    const a = await ask(known.address);
    const b = await ask(unknown);
    expect(a.statusCode).toBe(b.statusCode);
    expect(a.body).toBe(b.body);
    expect(Object.keys(a.headers).sort()).toEqual(Object.keys(b.headers).sort());
    // Both get a message of the same kind: the mailbox, not the service, learns which.
    expect(mailTo(app, known.address).at(-1)?.subject).toBe(mailTo(app, unknown).at(-1)?.subject);
  });

  it('creates the account on the first sign-in, sets a strict session cookie, and verifies the address', async () => {
    const address = uniqueAddress();
    await ask(address);
    const res = await redeem(
      { code: lastCodeFor(app, address), age: 13 },
      {
        origin: ORIGIN,
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      },
    );
    expect(res.statusCode).toBe(200);
    const body = res.json() as { accountCreated: boolean; session: Record<string, unknown> };
    expect(body.accountCreated).toBe(true);
    expect(body.session).toMatchObject({ method: 'email', current: true, userAgent: 'Firefox on Linux' });
    const cookie = res.cookies.find((c) => c.name === 'backpack_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.secure).toBeUndefined();
    expect(cookie?.expires).toBeInstanceOf(Date);
    const profile = await app.inject({
      url: '/v1/profile',
      headers: { cookie: cookieFrom(res, 'backpack_session') },
    });
    expect(profile.statusCode).toBe(200);
    expect(profile.json().addresses).toEqual([
      expect.objectContaining({ email: address, verified: true, primary: true }),
    ]);
  });

  it('signs an existing earner in without asking the age again', async () => {
    const earner = await signInByEmail(app);
    await ask(earner.address);
    const res = await redeem({ code: lastCodeFor(app, earner.address) });
    expect(res.statusCode).toBe(200);
    expect(res.json().accountCreated).toBe(false);
    const sessions = await app.inject({ url: '/v1/sessions', headers: earner.headers });
    expect(sessions.json().items).toHaveLength(2);
  });

  it('asks for the age before creating an account, and keeps the code usable meanwhile', async () => {
    const address = uniqueAddress();
    await ask(address);
    const code = lastCodeFor(app, address);
    const before = await rowCounts(current().db);
    expectProblem(await redeem({ code }), 400, 'age_required');
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await redeem({ code, age: 40 })).statusCode).toBe(200);
  });

  it('refuses anyone under 13 and keeps nothing about them', async () => {
    const address = uniqueAddress('child');
    await ask(address);
    await ask(address);
    const res = await redeem({ code: lastCodeFor(app, address), age: 12 });
    expectProblem(res, 403, 'under_minimum_age');
    expect(res.cookies).toEqual([]);
    expect(await findTraces(current().db, [address])).toEqual([]);
  });

  it('sends a secure __Host- cookie when the public URL is https', async () => {
    const secureApp = await accountsApp(current().db, {
      PUBLIC_URL: 'https://backpack.example',
      SIGN_IN_URL: 'https://app.example/login',
    });
    try {
      const address = uniqueAddress();
      await secureApp.inject({
        method: 'POST',
        url: LINK,
        headers: { origin: 'https://backpack.example' },
        payload: { email: address },
      });
      expect(mailTo(secureApp, address)[0]?.text).toContain('https://app.example/login#code=');
      const res = await secureApp.inject({
        method: 'POST',
        url: REDEEM,
        headers: { origin: 'https://backpack.example' },
        payload: { code: lastCodeFor(secureApp, address), age: 20 },
      });
      expect(res.statusCode).toBe(200);
      const cookie = res.cookies.find((c) => c.name === '__Host-backpack_session');
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    } finally {
      await secureApp.close();
    }
  });

  it('refuses a used, an expired and an unknown code, changing nothing', async () => {
    const address = uniqueAddress();
    await ask(address);
    const code = lastCodeFor(app, address);
    expect((await redeem({ code, age: 30 })).statusCode).toBe(200);
    let before = await rowCounts(current().db);
    expectProblem(await redeem({ code, age: 30 }), 400, 'code_used');
    expectProblem(await redeem({ code: 'A'.repeat(43), age: 30 }), 400, 'code_invalid');
    expect(await rowCounts(current().db)).toEqual(before);

    const late = uniqueAddress();
    await ask(late);
    const stale = lastCodeFor(app, late);
    clock.advance(16 * 60_000);
    try {
      before = await rowCounts(current().db);
      expectProblem(await redeem({ code: stale, age: 30 }), 400, 'code_expired');
      expect(await rowCounts(current().db)).toEqual(before);
    } finally {
      clock.advance(-16 * 60_000);
    }
  });

  it('does not accept a code issued for another purpose', async () => {
    const earner = await signInByEmail(app);
    const deletion = await app.inject({
      method: 'POST',
      url: '/v1/account/deletion-codes',
      headers: earner.headers,
    });
    expect(deletion.statusCode).toBe(202);
    const code = lastCodeFor(app, earner.address);
    expectProblem(await redeem({ code }), 400, 'code_invalid');
  });

  it('rejects malformed addresses and bodies with precise field errors', async () => {
    const before = await rowCounts(current().db);
    for (const email of ['not-an-address', 'a@', '', `${'x'.repeat(250)}@example.org`]) {
      const body = expectProblem(await ask(email), 400, 'validation_failed');
      const errors = body.errors as { in: string; pointer: string }[];
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(e).toMatchObject({ in: 'body', pointer: '/email' });
    }
    const unknown = await app.inject({
      method: 'POST',
      url: LINK,
      headers: { origin: ORIGIN },
      payload: { email: uniqueAddress(), remember: true },
    });
    expect(expectProblem(unknown, 400, 'validation_failed').errors).toEqual([
      { in: 'body', pointer: '/remember', message: 'is not a known field' },
    ]);
    const wrongType = await redeem({ code: 'A'.repeat(43), age: '30' });
    expect(expectProblem(wrongType, 400, 'validation_failed').errors).toEqual([
      expect.objectContaining({ in: 'body', pointer: '/age' }),
    ]);
    expect(await rowCounts(current().db)).toEqual(before);
  });

  it('refuses text/plain and form bodies (415) and bodies over the limit (413)', async () => {
    const before = await rowCounts(current().db);
    const text = await app.inject({
      method: 'POST',
      url: LINK,
      headers: { origin: ORIGIN, 'content-type': 'text/plain' },
      payload: JSON.stringify({ email: uniqueAddress() }),
    });
    expectProblem(text, 415, 'unsupported_media_type');
    const form = await app.inject({
      method: 'POST',
      url: REDEEM,
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `code=${'A'.repeat(43)}&age=30`,
    });
    expectProblem(form, 415, 'unsupported_media_type');
    const big = await app.inject({
      method: 'POST',
      url: LINK,
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      payload: JSON.stringify({ email: uniqueAddress(), pad: 'x'.repeat(1_100_000) }),
    });
    expectProblem(big, 413, 'body_too_large');
    expect(await rowCounts(current().db)).toEqual(before);
  });

  it('refuses sign-in posts from another site (login forgery)', async () => {
    const address = uniqueAddress();
    await ask(address);
    const code = lastCodeFor(app, address);
    const before = await rowCounts(current().db);
    expectProblem(await ask(uniqueAddress(), { origin: 'https://evil.example' }), 403, 'cross_site_request');
    const forged = await redeem({ code, age: 30 }, { origin: 'https://evil.example' });
    expectProblem(forged, 403, 'cross_site_request');
    expect(forged.cookies).toEqual([]);
    expectProblem(
      await redeem({ code, age: 30 }, { 'sec-fetch-site': 'cross-site' }),
      403,
      'cross_site_request',
    );
    expect(await rowCounts(current().db)).toEqual(before);
    expect((await redeem({ code, age: 30 })).statusCode).toBe(200);
  });

  it('limits the codes mailed to one address per hour', async () => {
    const address = uniqueAddress();
    const limit = loadConfig({}).codesPerAddressPerHour;
    for (let i = 0; i < limit; i++) expect((await ask(address)).statusCode).toBe(202);
    const res = await ask(address);
    expectProblem(res, 429, 'rate_limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(mailTo(app, address)).toHaveLength(limit);
    clock.advance(61 * 60_000);
    try {
      expect((await ask(address)).statusCode).toBe(202);
    } finally {
      clock.advance(-61 * 60_000);
    }
  });
});

describeEachDatabase('accounts: strangers cannot lock an owner out of signing in', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await accountsApp(current().db, {
      SIGN_IN_RATE_LIMIT_MAX: '1000',
      SIGN_IN_LINKS_PENDING_PER_REQUESTER: '3',
    });
  });
  afterAll(() => app.close());

  const STRANGER = '198.51.100.7';
  const OWNER = '203.0.113.9';
  const ask = (email: string, remoteAddress: string) =>
    app.inject({ method: 'POST', url: LINK, remoteAddress, headers: { origin: ORIGIN }, payload: { email } });
  const redeem = (code: string, remoteAddress = OWNER) =>
    app.inject({
      method: 'POST',
      url: REDEEM,
      remoteAddress,
      headers: { origin: ORIGIN },
      payload: { code, age: 30 },
    });

  it("spends only the asking network's allowance for an address, never the owner's", async () => {
    const owner = await signInByEmail(app);
    const limit = loadConfig({}).codesPerAddressPerHour;
    for (let i = 0; i < limit; i++) expect((await ask(owner.address, STRANGER)).statusCode).toBe(202);
    expectProblem(await ask(owner.address, STRANGER), 429, 'rate_limited');
    // A neighbour on the stranger's network shares its allowance; the owner's network does not.
    expectProblem(await ask(owner.address, '198.51.100.200'), 429, 'rate_limited');
    expect((await ask(owner.address, OWNER)).statusCode).toBe(202);
    const res = await redeem(lastCodeFor(app, owner.address));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().accountCreated).toBe(false);
  });

  it('replaces the older links a network asked for the same address instead of refusing a new one', async () => {
    const address = uniqueAddress();
    expect((await ask(address, OWNER)).statusCode).toBe(202);
    const first = lastCodeFor(app, address);
    expect((await ask(address, OWNER)).statusCode).toBe(202);
    const second = lastCodeFor(app, address);
    expect(second).not.toBe(first);
    expectProblem(await redeem(first), 400, 'code_expired');
    expect((await redeem(second)).statusCode).toBe(200);
  });

  it('limits the links one network may have out at once, over all addresses', async () => {
    const network = '192.0.2.44';
    const addresses = [uniqueAddress(), uniqueAddress(), uniqueAddress(), uniqueAddress()];
    for (const a of addresses.slice(0, 3)) expect((await ask(a, network)).statusCode).toBe(202);
    // Asking again for one it has out replaces that link, so it is not refused.
    expect((await ask(addresses[0] as string, network)).statusCode).toBe(202);
    const before = await rowCounts(current().db);
    expectProblem(await ask(addresses[3] as string, network), 429, 'rate_limited');
    expect(await rowCounts(current().db)).toEqual(before);
    expect(mailTo(app, addresses[3] as string)).toEqual([]);
    expect((await ask(addresses[3] as string, OWNER)).statusCode).toBe(202);
    // A link used is no longer out.
    expect((await redeem(lastCodeFor(app, addresses[1] as string), network)).statusCode).toBe(200);
    expect((await ask(uniqueAddress(), network)).statusCode).toBe(202);
  });
});

describeEachDatabase('accounts: sign-in rate limit per client', (current) => {
  it('limits sign-in requests per client address', async () => {
    const app = await accountsApp(current().db, { SIGN_IN_RATE_LIMIT_MAX: '3' });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await app.inject({ method: 'POST', url: LINK, payload: { email: uniqueAddress() } });
        expect(res.statusCode).toBe(202);
      }
      const res = await app.inject({ method: 'POST', url: LINK, payload: { email: uniqueAddress() } });
      expectProblem(res, 429, 'rate_limited');
      expect(app.services.mail.outbox).toHaveLength(3);
      // Another client address has its own allowance.
      const other = await app.inject({
        method: 'POST',
        url: LINK,
        remoteAddress: '192.0.2.7',
        payload: { email: uniqueAddress() },
      });
      expect(other.statusCode).toBe(202);
    } finally {
      await app.close();
    }
  });
});

describe('accounts: the log of a refused child', () => {
  it('carries neither the address nor the code', async () => {
    const created = await createEmptyDatabase('sqlite');
    await applyMigrations(created.url);
    const db = await openDatabase(created.url);
    let log = '';
    const app = await accountsApp(
      db,
      { LOG_LEVEL: 'debug' },
      {
        logStream: {
          write: (line) => {
            log += line;
          },
        },
      },
    );
    try {
      const address = uniqueAddress('child');
      await app.inject({ method: 'POST', url: LINK, payload: { email: address } });
      const code = lastCodeFor(app, address);
      const res = await app.inject({ method: 'POST', url: REDEEM, payload: { code, age: 9 } });
      expect(res.statusCode).toBe(403);
      expect(log).toContain('mail written to outbox');
      expect(log).toContain('"statusCode":403');
      expect(log.toLowerCase()).not.toContain(address.toLowerCase());
      expect(log).not.toContain(code);
    } finally {
      await app.close();
      await db.close();
      await created.drop();
    }
  });
});

describeEachDatabase('accounts: an injected mailer', (current) => {
  it('receives the mail instead of the outbox, and a failing one answers 503 without detail', async () => {
    const sent: MailMessage[] = [];
    let failing = false;
    const mailer: Mailer = {
      send: async (message) => {
        if (failing) throw new Error('smtp down: 421 try later');
        sent.push(message);
      },
      close: async () => undefined,
    };
    const app = await accountsApp(current().db, {}, { mailer });
    try {
      const address = uniqueAddress();
      const res = await app.inject({ method: 'POST', url: LINK, payload: { email: address } });
      expect(res.statusCode).toBe(202);
      expect(sent).toEqual([
        expect.objectContaining({ to: address, subject: expect.stringMatching(/sign-in/) }),
      ]);
      expect(app.services.mail.outbox).toEqual([]);
      failing = true;
      const failed = await app.inject({ method: 'POST', url: LINK, payload: { email: uniqueAddress() } });
      expectProblem(failed, 503, 'mail_unavailable');
      expect(failed.headers['retry-after']).toBeDefined();
      expect(failed.body).not.toContain('smtp');
    } finally {
      await app.close();
    }
  });
});

describeEachDatabase('accounts: a mail server that fails', (current) => {
  it('answers 503 and spends none of the limits, for links and for every kind of code', async () => {
    let failing = false;
    const mailer: Mailer = {
      send: async () => {
        if (failing) throw new Error('421 service not available');
      },
      close: async () => undefined,
    };
    const app = await accountsApp(
      current().db,
      { CODES_PER_ADDRESS_PER_HOUR: '1', VERIFICATION_MAILS_PER_ACCOUNT_PER_HOUR: '1' },
      { mailer },
    );
    try {
      const address = uniqueAddress();
      const me = { headers: (await createEarner(app)).session };
      const second = uniqueAddress();
      failing = true;
      const before = await rowCounts(current().db);
      expectProblem(
        await app.inject({
          method: 'POST',
          url: LINK,
          headers: { origin: ORIGIN },
          payload: { email: address },
        }),
        503,
        'mail_unavailable',
      );
      const adding = () =>
        app.inject({
          method: 'POST',
          url: '/v1/email-addresses',
          headers: me.headers,
          payload: { email: second },
        });
      expectProblem(await adding(), 503, 'mail_unavailable');
      expectProblem(
        await app.inject({ method: 'POST', url: '/v1/account/deletion-codes', headers: me.headers }),
        503,
        'mail_unavailable',
      );
      expect(await rowCounts(current().db)).toEqual(before);

      failing = false;
      expect(
        (
          await app.inject({
            method: 'POST',
            url: LINK,
            headers: { origin: ORIGIN },
            payload: { email: address },
          })
        ).statusCode,
      ).toBe(202);
      expect((await adding()).statusCode).toBe(201);
      expect(
        (await app.inject({ method: 'POST', url: '/v1/account/deletion-codes', headers: me.headers }))
          .statusCode,
      ).toBe(202);
    } finally {
      await app.close();
    }
  });
});

describeEachDatabase('accounts: verification mails', (current) => {
  it('are capped per account and for the whole service per hour', async () => {
    const clock = fakeClock();
    const app = await accountsApp(
      current().db,
      {
        SIGN_IN_RATE_LIMIT_MAX: '1000',
        VERIFICATION_MAILS_PER_ACCOUNT_PER_HOUR: '2',
        VERIFICATION_MAILS_PER_HOUR: '3',
      },
      { now: clock.now },
    );
    try {
      const me = await signInByEmail(app);
      const add = (headers: Record<string, string>, email: string) =>
        app.inject({ method: 'POST', url: '/v1/email-addresses', headers, payload: { email } });
      const first = await add(me.headers, uniqueAddress());
      expect(first.statusCode).toBe(201);
      const resent = await app.inject({
        method: 'POST',
        url: `/v1/email-addresses/${first.json().id}/verification-codes`,
        headers: me.headers,
      });
      expect(resent.statusCode).toBe(202);
      const before = await rowCounts(current().db);
      const refused = uniqueAddress();
      expectProblem(await add(me.headers, refused), 429, 'rate_limited');
      expectProblem(
        await app.inject({
          method: 'POST',
          url: `/v1/email-addresses/${first.json().id}/verification-codes`,
          headers: me.headers,
        }),
        429,
        'rate_limited',
      );
      expect(await rowCounts(current().db)).toEqual(before);
      expect(mailTo(app, refused)).toEqual([]);

      // Another account has its own allowance, until the service's is spent.
      const other = await signInByEmail(app);
      expect((await add(other.headers, uniqueAddress())).statusCode).toBe(201);
      expectProblem(await add(other.headers, uniqueAddress()), 429, 'rate_limited');

      clock.advance(61 * 60_000);
      const later = await signInByEmail(app, me.address);
      expect((await add(later.headers, uniqueAddress())).statusCode).toBe(201);
    } finally {
      clock.advance(-61 * 60_000);
      await app.close();
    }
  });
});
