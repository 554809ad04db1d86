// Deleted means gone from the database files, not only from query answers: after an earner
// deletes a badge, all badges or the account, the raw files (SQLite's main file and its
// write-ahead log; PostgreSQL's relation files, or their pages through pageinspect) hold none
// of the address or the badges' own strings. Each search first finds the strings while they
// are held, so a search that could not see them would fail instead of passing.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountsApp, type SignedInEarner, signInByEmail, uniqueAddress } from '../support/accounts.ts';
import { ed25519Signer, ob3Credential, signJwt } from '../support/credentials.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { searchDatabaseFiles } from '../support/file-bytes.ts';
import { lastCodeFor } from '../support/mail.ts';

describeEachDatabase('deletion leaves no bytes in the database files', (current) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await accountsApp(current().db, { SIGN_IN_RATE_LIMIT_MAX: '1000' });
  });
  afterAll(() => app.close());

  /** A signed OB 3.0 badge to `address` whose name and description are found nowhere else. */
  async function addBadge(earner: SignedInEarner): Promise<{ id: string; strings: string[] }> {
    const issuer = ed25519Signer();
    const name = `Quokka-${randomBytes(6).toString('hex')}`;
    const description = `Tamarind-${randomBytes(6).toString('hex')}`;
    const credential = ob3Credential(issuer.didKey, earner.address, {
      id: `urn:uuid:${randomUUID()}`,
      name,
    });
    const subject = credential.credentialSubject as { achievement: Record<string, unknown> };
    subject.achievement.name = name;
    subject.achievement.description = description;
    const jws = await signJwt(credential, issuer.privateKey, {
      kid: `${issuer.didKey}#${issuer.multibase}`,
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: earner.headers,
      payload: { jws },
    });
    expect(res.statusCode, res.body).toBe(201);
    return { id: res.json().id, strings: [name, description] };
  }

  async function groupAndShare(earner: SignedInEarner, badgeIds: string[]): Promise<string> {
    const group = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: earner.headers,
      payload: { name: `Otter-${randomBytes(6).toString('hex')}`, badgeIds },
    });
    expect(group.statusCode, group.body).toBe(201);
    const link = await app.inject({
      method: 'POST',
      url: '/v1/share-links',
      headers: earner.headers,
      payload: { groupId: group.json().id },
    });
    expect(link.statusCode, link.body).toBe(201);
    return group.json().name as string;
  }

  async function filesHold(needles: string[]): Promise<string[]> {
    await app.db.erasure.settled();
    const found = await searchDatabaseFiles(current(), needles);
    if (current().name === 'postgres') {
      // Which method this run could use, for whoever reads the log.
      console.info(`deletion-files [postgres]: searched with ${found.method}`);
    }
    return found.hits;
  }

  it('deleting the account leaves neither the address nor any badge string in the files', async () => {
    const earner = await signInByEmail(app, uniqueAddress('zanzibar'));
    const first = await addBadge(earner);
    const second = await addBadge(earner);
    const groupName = await groupAndShare(earner, [first.id, second.id]);
    const needles = [earner.address, groupName, ...first.strings, ...second.strings];
    // Held: every string is in the files (this search can see them).
    expect(new Set((await filesHold(needles)).map((h) => h.split(' in ')[0]))).toEqual(new Set(needles));

    const deleted = await app.inject({ method: 'DELETE', url: '/v1/account', headers: earner.headers });
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await filesHold(needles)).join('; ')).toBe('');
  });

  it('deleting one badge erases its strings and keeps the others', async () => {
    const earner = await signInByEmail(app);
    const gone = await addBadge(earner);
    const kept = await addBadge(earner);
    await groupAndShare(earner, [gone.id, kept.id]);
    expect(await filesHold(gone.strings)).not.toEqual([] as string[]);

    const res = await app.inject({ method: 'DELETE', url: `/v1/badges/${gone.id}`, headers: earner.headers });
    expect(res.statusCode, res.body).toBe(204);
    expect(await filesHold(gone.strings)).toEqual([] as string[]);
    expect(await filesHold(kept.strings)).toHaveLength(kept.strings.length);
  });

  it('deleting all badges erases every badge string', async () => {
    const earner = await signInByEmail(app);
    const badges = [await addBadge(earner), await addBadge(earner)];
    const strings = badges.flatMap((b) => b.strings);
    expect(await filesHold(strings)).toHaveLength(strings.length);

    const res = await app.inject({ method: 'DELETE', url: '/v1/badges', headers: earner.headers });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ deleted: 2, endedShareLinks: 0 });
    expect(await filesHold(strings)).toEqual([] as string[]);
  });

  it("deleting the account removes other accounts' unverified claims of its proven addresses", async () => {
    const owner = await signInByEmail(app, uniqueAddress('owner'));
    const unproven = uniqueAddress('unproven');
    const claimed = await app.inject({
      method: 'POST',
      url: '/v1/email-addresses',
      headers: owner.headers,
      payload: { email: unproven },
    });
    expect(claimed.statusCode, claimed.body).toBe(201);
    // Someone else types both addresses into their own account; neither can verify them.
    const other = await signInByEmail(app);
    for (const email of [owner.address, unproven]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/email-addresses',
        headers: other.headers,
        payload: { email },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    expect(lastCodeFor(app, owner.address)).toBeTruthy();

    const deleted = await app.inject({ method: 'DELETE', url: '/v1/account', headers: owner.headers });
    expect(deleted.statusCode, deleted.body).toBe(204);
    const addresses = await app.inject({ url: '/v1/email-addresses', headers: other.headers });
    const listed = (addresses.json().items as { email: string }[]).map((a) => a.email);
    // The owner's proven address goes; an address the owner never proved stays the claimant's.
    expect(listed).not.toContain(owner.address);
    expect(listed).toContain(unproven);
    expect(await filesHold([owner.address])).toEqual([] as string[]);
  });
});
