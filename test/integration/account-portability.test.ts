// Taking a backpack elsewhere: the export is streamed as it is read and carries every badge's
// image; an import on another instance (its own database) re-verifies the badges, rebuilds the
// groups around the new ids, skips what is held already and carries no share link over.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { testApp } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { snapshot } from '../support/contract-requests.ts';
import { createMigratedDatabase, describeEachDatabase } from '../support/databases.ts';
import { createEarner, createToken, type TestEarner } from '../support/earners.ts';

interface ExportDoc {
  account: { id: string };
  sections: {
    badges: {
      id: string;
      name: string;
      status: string;
      original: { format: string; text: string };
      image: { contentType: string; data: string } | null;
    }[];
    groups: { name: string; badgeIds: string[] }[];
    shareLinks: unknown[];
  };
}

describeEachDatabase('account export and import', (current) => {
  let issuer: LocalIssuer;
  let one: FastifyInstance;
  let two: FastifyInstance;
  let otherDb: Database;
  let dropOther: () => Promise<void>;
  const env = () => ({
    FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
    FETCH_TIMEOUT_MS: '3000',
    RATE_LIMIT_MAX: '100000',
    LOG_LEVEL: process.env.DEBUG_LOG ?? 'silent',
  });

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    one = await testApp(current().db, env());
    const created = await createMigratedDatabase(current().name);
    dropOther = created.drop;
    otherDb = await openDatabase(created.url, { poolSize: 4 });
    two = await testApp(otherDb, env());
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await otherDb?.close();
    await dropOther?.();
    await issuer?.close();
  });

  const headers = (e: TestEarner) => ({ cookie: e.session.cookie, origin: e.session.origin });
  const exportOf = async (app: FastifyInstance, e: TestEarner) => {
    const res = await app.inject({ url: '/v1/account/export', headers: headers(e) });
    expect(res.statusCode, res.body).toBe(200);
    return { text: res.body, doc: res.json() as ExportDoc };
  };
  const importInto = (app: FastifyInstance, auth: Record<string, string>, body: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/account/imports',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: body,
    });
  const addBadge = async (e: TestEarner, payload: Record<string, string>) => {
    const res = await one.inject({ method: 'POST', url: '/v1/badges', headers: headers(e), payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };

  it('streams the export (chunked, no Content-Length) with every badge, page after page, and its image', async () => {
    const earner = await createEarner(one);
    const { jws } = await issuer.signed(earner.addresses[0] as string, { name: 'Signed' });
    const signedId = await addBadge(earner, { jws });
    // More badges than one page of the export's reads.
    const rows: string[] = [];
    for (let i = 0; i < 120; i++) {
      rows.push(
        await insertBadge(one, earner.id, { recipient: earner.addresses[0] as string, name: `Row ${i}` }),
      );
    }
    // Over a real connection, where the framing shows.
    const served = await testApp(current().db, env());
    await served.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = served.server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/v1/account/export`, { headers: headers(earner) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBeNull();
      expect(res.headers.get('transfer-encoding')).toBe('chunked');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const doc = (await res.json()) as ExportDoc;
      const ids = doc.sections.badges.map((b) => b.id);
      expect(new Set(ids).size).toBe(121);
      expect(ids.sort()).toEqual([signedId, ...rows].sort());
      const signed = doc.sections.badges.find((b) => b.id === signedId);
      expect(signed).toMatchObject({ name: 'Signed', original: { format: 'jws', text: jws } });
      const image = await one.inject({ url: `/v1/badges/${signedId}/image`, headers: headers(earner) });
      expect(signed?.image).toEqual({ contentType: 'image/png', data: image.rawPayload.toString('base64') });
      expect(doc.account.id).toBe(earner.id);
      expect(Object.keys(doc.sections).sort()).toEqual(
        ['badges', 'connectedIssuers', 'groups', 'holderDids', 'notices', 'reports', 'shareLinks'].sort(),
      );
    } finally {
      await served.close();
    }
    // Rows are written one by one: a loaded machine needs longer than the default.
  }, 120_000);

  it('round trip: another instance gets the same badges (verified), groups and images, and no share link', async () => {
    const address = `mover.${Date.now()}@example.org`;
    const a = await createEarner(one, [address]);
    const { jws } = await issuer.signed(address, { name: 'Signed Skill' });
    const signedId = await addBadge(a, { jws });
    const hosted = issuer.hosted(address, { name: 'Hosted Skill' });
    const hostedId = await addBadge(a, { url: hosted.url });
    const group = await one.inject({
      method: 'POST',
      url: '/v1/groups',
      headers: headers(a),
      payload: { name: 'Work', description: 'What I do', badgeIds: [hostedId, signedId] },
    });
    expect(group.statusCode, group.body).toBe(201);
    await one.inject({ method: 'POST', url: '/v1/groups', headers: headers(a), payload: { name: 'Empty' } });
    const link = await one.inject({
      method: 'POST',
      url: '/v1/share-links',
      headers: headers(a),
      payload: { groupId: group.json().id },
    });
    expect(link.statusCode, link.body).toBe(201);
    const exported = await exportOf(one, a);
    expect(exported.doc.sections.shareLinks).toHaveLength(1);
    expect(exported.doc.sections.badges.every((b) => b.image?.contentType === 'image/png')).toBe(true);

    // The issuer's image is gone: what the other backpack shows can only come from the export.
    issuer.switchOff(`${issuer.origin}/badge.png`);
    try {
      const b = await createEarner(two, [address]);
      const res = await importInto(two, headers(b), exported.text);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        complete: true,
        stoppedBy: null,
        badges: {
          inExport: 2,
          imported: 2,
          alreadyHeld: 0,
          unverified: 0,
          refused: 0,
          notTried: 0,
          refusals: [],
        },
        groups: { inExport: 2, created: 2, merged: 0, refused: 0 },
      });

      const list = (await two.inject({ url: '/v1/badges?sort=name', headers: headers(b) })).json();
      expect(list.items.map((i: { name: string; status: string }) => [i.name, i.status])).toEqual([
        ['Hosted Skill', 'valid'],
        ['Signed Skill', 'valid'],
      ]);
      const byName = new Map<string, string>(
        list.items.map((i: { name: string; id: string }) => [i.name, i.id]),
      );
      for (const item of list.items as { id: string }[]) {
        expect([signedId, hostedId]).not.toContain(item.id);
        const image = await two.inject({ url: `/v1/badges/${item.id}/image`, headers: headers(b) });
        expect(image.statusCode).toBe(200);
        expect(image.headers['content-type']).toBe('image/png');
      }
      const signedDetail = (
        await two.inject({ url: `/v1/badges/${byName.get('Signed Skill')}`, headers: headers(b) })
      ).json();
      expect(signedDetail.original).toEqual({ format: 'jws', text: jws });
      expect(signedDetail.checks.find((c: { code: string }) => c.code === 'signature_valid')?.status).toBe(
        'passed',
      );

      const groups = (await two.inject({ url: '/v1/groups', headers: headers(b) })).json().items;
      expect(groups.map((g: { name: string }) => g.name).sort()).toEqual(['Empty', 'Work']);
      const work = groups.find((g: { name: string }) => g.name === 'Work');
      const detail = (await two.inject({ url: `/v1/groups/${work.id}`, headers: headers(b) })).json();
      expect(detail.description).toBe('What I do');
      expect(detail.badges.map((x: { id: string }) => x.id)).toEqual([
        byName.get('Hosted Skill'),
        byName.get('Signed Skill'),
      ]);
      expect(detail.shared).toBe(false);
      const links = (await two.inject({ url: '/v1/share-links', headers: headers(b) })).json();
      expect(links.items).toEqual([]);

      // B's own export has the same badges and images (baked with their assertion now).
      const again = await exportOf(two, b);
      expect(again.doc.sections.badges.map((x) => x.original.text).sort()).toEqual(
        exported.doc.sections.badges.map((x) => x.original.text).sort(),
      );
      expect(again.doc.sections.badges.every((x) => x.image?.contentType === 'image/png')).toBe(true);

      // The same export again: nothing is held twice.
      const before = await snapshot(otherDb);
      const repeat = await importInto(two, headers(b), exported.text);
      expect(repeat.statusCode, repeat.body).toBe(200);
      expect(repeat.json()).toMatchObject({
        complete: true,
        badges: { imported: 0, alreadyHeld: 2, refused: 0 },
        groups: { created: 0, merged: 0 },
      });
      expect(await snapshot(otherDb)).toEqual(before);
    } finally {
      issuer.switchOn(`${issuer.origin}/badge.png`);
    }
  });

  it('imports with a token that may write badges and groups, and reports badges it refuses', async () => {
    const a = await createEarner(one);
    const { jws } = await issuer.signed(a.addresses[0] as string, { name: 'Mine' });
    await addBadge(a, { jws });
    const exported = await exportOf(one, a);
    // Someone else imports it: the badge names none of their addresses.
    const stranger = await createEarner(two);
    const narrow = await createToken(two, stranger.id, ['badges:write']);
    const refused = await importInto(two, { authorization: narrow }, exported.text);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('insufficient_scope');
    const token = await createToken(two, stranger.id, ['badges:write', 'groups:write']);
    const res = await importInto(two, { authorization: token }, exported.text);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().badges).toMatchObject({
      imported: 0,
      refused: 1,
      refusals: [{ id: exported.doc.sections.badges[0]?.id, code: 'recipient_mismatch' }],
    });
    expect((await two.inject({ url: '/v1/badges', headers: headers(stranger) })).json().total).toBe(0);
  });

  it('counts imported badges against the hourly upload allowance, and stops there', async () => {
    const capped = await testApp(otherDb, { ...env(), UPLOAD_BYTES_PER_ACCOUNT_PER_HOUR: '4096' });
    try {
      const address = `capped.${Date.now()}@example.org`;
      const a = await createEarner(one, [address]);
      for (const name of ['First', 'Second', 'Third']) {
        await addBadge(a, { jws: (await issuer.signed(address, { name })).jws });
      }
      const exported = await exportOf(one, a);
      const b = await createEarner(capped, [address]);
      const res = await importInto(capped, headers(b), exported.text);
      expect(res.statusCode, res.body).toBe(200);
      const report = res.json();
      expect(report).toMatchObject({ complete: false, stoppedBy: 'limit_reached' });
      expect(report.badges.imported).toBeGreaterThan(0);
      expect(report.badges.notTried).toBeGreaterThan(0);
      expect(report.badges.imported + report.badges.notTried).toBe(3);
      const held = (await capped.inject({ url: '/v1/badges', headers: headers(b) })).json().total;
      expect(held).toBe(report.badges.imported);
    } finally {
      await capped.close();
    }
  });

  it('refuses a malformed or foreign document with a stable code, changing nothing', async () => {
    const a = await createEarner(one);
    const { jws } = await issuer.signed(a.addresses[0] as string, { name: 'Kept' });
    await addBadge(a, { jws });
    const { text, doc } = await exportOf(one, a);
    const b = await createEarner(two, a.addresses);
    const before = await snapshot(otherDb);
    const cases: [string, string, number, string][] = [
      ['cut short', text.slice(0, Math.floor(text.length * 0.8)), 400, 'export_malformed'],
      ['not JSON', 'badges: all of them', 400, 'export_malformed'],
      ['trailing bytes', `${text}]`, 400, 'export_malformed'],
      ['a badge, not an export', JSON.stringify({ jws }), 422, 'export_unrecognized'],
      ['a list', '[]', 422, 'export_unrecognized'],
      [
        'a badge without its original',
        JSON.stringify({ ...doc, sections: { ...doc.sections, badges: [{ id: 'x', name: 'No original' }] } }),
        422,
        'export_unrecognized',
      ],
      [
        'an image that is not base64',
        JSON.stringify({
          ...doc,
          sections: {
            ...doc.sections,
            badges: doc.sections.badges.map((x) => ({
              ...x,
              image: { contentType: 'image/png', data: '<svg>' },
            })),
          },
        }),
        422,
        'export_unrecognized',
      ],
      ['badges twice', `${text.slice(0, -2)},"badges":[]}}`, 422, 'export_unrecognized'],
    ];
    for (const [what, body, status, code] of cases) {
      const res = await importInto(two, headers(b), body);
      expect(res.statusCode, `${what}: ${res.body}`).toBe(status);
      expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
      expect(res.json().code, what).toBe(code);
    }
    const wrongType = await two.inject({
      method: 'POST',
      url: '/v1/account/imports',
      headers: { ...headers(b), 'content-type': 'text/plain' },
      payload: text,
    });
    expect(wrongType.statusCode).toBe(415);
    expect(await snapshot(otherDb)).toEqual(before);
  });

  it('refuses an export over IMPORT_MAX_BYTES with 413, storing nothing', async () => {
    const small = await testApp(otherDb, { ...env(), IMPORT_MAX_BYTES: '2048' });
    try {
      const a = await createEarner(one);
      await addBadge(a, { jws: (await issuer.signed(a.addresses[0] as string, { name: 'Big' })).jws });
      const { text } = await exportOf(one, a);
      expect(text.length).toBeGreaterThan(2048);
      const b = await createEarner(small, a.addresses);
      const before = await snapshot(otherDb);
      const res = await importInto(small, headers(b), text);
      expect(res.statusCode).toBe(413);
      expect(res.json().code).toBe('body_too_large');
      expect(await snapshot(otherDb)).toEqual(before);
    } finally {
      await small.close();
    }
  });
});
