// The public statistics are aggregates that resist the three ways small counts leak: extra
// accounts made to hold a badge class (sybils), subtracting the classes shown from their
// issuer's count, and watching the totals move as one person joins.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../support/app.ts';
import { insertBadge } from '../support/badge-rows.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner } from '../support/earners.ts';

type Month = { month: string; badges: number };
interface Stats {
  earners: number | null;
  issuers: { issuerId: string; months: Month[] }[];
  badgeClasses: { badgeClassId: string | null; name: string; months: Month[] }[];
}

describeEachDatabase('statistics', (current) => {
  let app: FastifyInstance;
  let clock = new Date('2026-06-01T12:00:00Z');
  const unique = Math.random().toString(36).slice(2);
  const other = `https://other-${unique}.example/issuer`;

  beforeAll(async () => {
    app = await buildApp({ config: testConfig(), db: current().db, logger: false, now: () => clock });
    await app.ready();
  });
  afterAll(() => app.close());

  /** The statistics as published after the cache has lapsed. */
  async function stats(): Promise<Stats> {
    clock = new Date(clock.getTime() + 6 * 60_000);
    const res = await app.inject({ method: 'GET', url: '/v1/statistics' });
    expect(res.statusCode).toBe(200);
    return res.json();
  }

  /** An earner with a verified address holding a badge of each class (issuer id + "/c/" + name). */
  async function holder(classes: string[], alsoOtherIssuer = true): Promise<void> {
    const earner = await createEarner(app);
    const recipient = earner.addresses[0] ?? '';
    for (const cls of alsoOtherIssuer ? [...classes, `${other}/c/other`] : classes) {
      const issuerId = cls.slice(0, cls.indexOf('/c/'));
      await insertBadge(app, earner.id, {
        recipient,
        issuerId,
        issuerName: issuerId,
        badgeClassId: cls,
        name: cls.slice(cls.indexOf('/c/') + 3),
        issuedOn: new Date('2026-04-10T00:00:00Z'),
      });
    }
  }

  const classMonths = (s: Stats, id: string) => s.badgeClasses.find((c) => c.badgeClassId === id)?.months;
  const issuerMonths = (s: Stats, id: string) => s.issuers.find((i) => i.issuerId === id)?.months;

  it('publishes classes held by ten counted earners, rounded down to tens, without the earners', async () => {
    const issuer = `https://big-${unique}.example/issuer`;
    for (let i = 0; i < 13; i++) await holder([`${issuer}/c/popular`]);
    const s = await stats();
    expect(classMonths(s, `${issuer}/c/popular`)).toEqual([{ month: '2026-04', badges: 10 }]);
    expect(issuerMonths(s, issuer)).toEqual([{ month: '2026-04', badges: 10 }]);
    expect(s.earners).not.toBeNull();
    for (const group of [...s.issuers, ...s.badgeClasses]) {
      for (const m of group.months) expect(m.badges % 10).toBe(0);
    }
    expect(JSON.stringify(s)).not.toMatch(/earnerId|@example/);
  });

  it('nine sybil accounts holding a class do not make a tenth, real holder visible', async () => {
    const issuer = `https://sybil-${unique}.example/issuer`;
    const cls = `${issuer}/c/target`;
    // The attacker's accounts hold the class and nothing else.
    for (let i = 0; i < 9; i++) await holder([cls], false);
    const before = await stats();
    expect(classMonths(before, cls)).toBeUndefined();
    await holder([cls]);
    const after = await stats();
    expect(classMonths(after, cls)).toBeUndefined();
    expect(issuerMonths(after, issuer)).toBeUndefined();
    // Even the attacker's own accounts cannot be counted up to the threshold.
    for (let i = 0; i < 20; i++) await holder([cls], false);
    expect(classMonths(await stats(), cls)).toBeUndefined();
  });

  it('an issuer bucket minus the classes shown reveals no hidden class', async () => {
    const issuer = `https://sub-${unique}.example/issuer`;
    for (let i = 0; i < 15; i++) await holder([`${issuer}/c/shown`]);
    for (let i = 0; i < 5; i++) await holder([`${issuer}/c/hidden`]);
    const s = await stats();
    expect(classMonths(s, `${issuer}/c/hidden`)).toBeUndefined();
    const shown = classMonths(s, `${issuer}/c/shown`) ?? [];
    expect(shown).toEqual([{ month: '2026-04', badges: 10 }]);
    const total = issuerMonths(s, issuer) ?? [];
    // The issuer's count is what its shown classes add up to: the difference is always zero.
    expect((total[0]?.badges ?? 0) - (shown[0]?.badges ?? 0)).toBe(0);
  });

  it('the earners total does not move by one as one person joins', async () => {
    const seen: number[] = [];
    const first = await stats();
    seen.push(first.earners ?? 0);
    for (let i = 0; i < 12; i++) {
      await holder([`https://joined-${unique}.example/issuer/c/joined`]);
      seen.push((await stats()).earners ?? 0);
    }
    for (const value of seen) expect(value % 10).toBe(0);
    for (let i = 1; i < seen.length; i++) expect([0, 10]).toContain((seen[i] ?? 0) - (seen[i - 1] ?? 0));
    // Twelve people joined: the total moved, in a step of ten.
    expect(seen.at(-1)).toBeGreaterThan(seen[0] ?? 0);

    // Within five minutes the cached answer stands.
    const cached = await app.inject({ method: 'GET', url: '/v1/statistics' });
    await holder([`https://joined-${unique}.example/issuer/c/joined`]);
    expect((await app.inject({ method: 'GET', url: '/v1/statistics' })).json()).toEqual(cached.json());
  });
});
