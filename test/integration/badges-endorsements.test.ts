// Endorsements: those embedded in a badge are verified each on its own and shown with their
// verdict in the badge's normalized view; one submitted on its own is refused as what it is.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../support/app.ts';
import { LocalIssuer } from '../support/badge-issuer.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';

describeEachDatabase('badges: endorsements', (current) => {
  let app: FastifyInstance;
  let issuer: LocalIssuer;

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    app = await testApp(current().db, {
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      FETCH_TIMEOUT_MS: '3000',
      RATE_LIMIT_MAX: '100000',
    });
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  const add = (e: TestEarner, payload: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/v1/badges',
      headers: { cookie: e.session.cookie, origin: e.session.origin },
      payload,
    });
  const held = (e: TestEarner) => app.db.prisma.backpackItem.count({ where: { earnerId: e.id } });

  it('verifies embedded endorsements and shows each with its verdict, without changing the badge status', async () => {
    const earner = await createEarner(app);
    const good = await issuer.endorsement(issuer.did, 'A careful issuer.');
    const forged = { ...(await issuer.endorsement(issuer.did, 'Faint praise.')) };
    forged.credentialSubject = {
      ...(forged.credentialSubject as Record<string, unknown>),
      endorsementComment: 'The best issuer in the world.',
    };
    const credential = await issuer.credential(earner.addresses[0] as string, 'Endorsed Badge', {
      endorsement: [good, forged],
    });
    const res = await add(earner, { json: credential });
    expect(res.statusCode, res.body).toBe(201);
    const badge = res.json();
    expect(badge.status).toBe('valid');
    expect(badge.normalized.endorsements).toEqual([
      expect.objectContaining({
        id: good.id,
        endorser: { id: issuer.did, name: 'Key Issuer' },
        claim: 'A careful issuer.',
        endorsedId: issuer.did,
        verdict: 'valid',
        problems: [],
      }),
      expect.objectContaining({
        claim: 'The best issuer in the world.',
        verdict: 'invalid',
        problems: [expect.stringContaining('proof_valid')],
      }),
    ]);
    expect(badge.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'endorsements_verified',
          status: 'warned',
          message: '1 of 2 endorsements verify',
        }),
      ]),
    );
    const again = await app.inject({
      url: `/v1/badges/${badge.id}`,
      headers: { cookie: earner.session.cookie },
    });
    expect(again.json().normalized.endorsements.map((e: { verdict: string }) => e.verdict)).toEqual([
      'valid',
      'invalid',
    ]);
  });

  it('verifies OB 2.0 endorsements embedded in an assertion: a hosted one valid, a tampered and an unreachable one not, the badge valid', async () => {
    const earner = await createEarner(app);
    const good = issuer.hostedEndorsement(`${issuer.origin}/issuer`, 'A careful issuer.');
    const off = issuer.hostedEndorsement(`${issuer.origin}/issuer`, 'Gone quiet.');
    issuer.switchOff(off);
    const jws = await issuer.signedEndorsement(`${issuer.origin}/issuer`, 'Faint praise.');
    const [h, p, sig] = jws.split('.');
    const payload = JSON.parse(Buffer.from(p as string, 'base64url').toString('utf8'));
    payload.claim.endorsementComment = 'The best issuer in the world.';
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
    const { url, json } = issuer.hosted(earner.addresses[0] as string, { name: 'Endorsed 2.0 Badge' });
    issuer.serve(new URL(url).pathname, { ...json, endorsement: [good, tampered, off] });
    const res = await add(earner, { url });
    expect(res.statusCode, res.body).toBe(201);
    const badge = res.json();
    expect(badge.status).toBe('valid');
    expect(badge.normalized.endorsements).toEqual([
      expect.objectContaining({
        id: good,
        endorser: { id: `${issuer.origin}/issuer`, name: 'Local Issuer' },
        claim: 'A careful issuer.',
        endorsedId: `${issuer.origin}/issuer`,
        verdict: 'valid',
        problems: [],
      }),
      expect.objectContaining({
        claim: 'The best issuer in the world.',
        verdict: 'invalid',
        problems: [expect.stringContaining('signature_valid')],
      }),
      expect.objectContaining({
        id: off,
        verdict: 'invalid',
        problems: [expect.stringContaining('hosted_fetched')],
      }),
    ]);
    expect(badge.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'endorsements_verified',
          status: 'warned',
          message: '1 of 3 endorsements verify',
        }),
      ]),
    );
    const again = await app.inject({
      url: `/v1/badges/${badge.id}`,
      headers: { cookie: earner.session.cookie },
    });
    expect(again.json().normalized.endorsements.map((e: { verdict: string }) => e.verdict)).toEqual([
      'valid',
      'invalid',
      'invalid',
    ]);
  });

  it('refuses an OB 3.0 EndorsementCredential submitted on its own as endorsement_not_award', async () => {
    const earner = await createEarner(app);
    const endorsement = await issuer.endorsement(issuer.did, 'Endorsing, not awarding.');
    const res = await add(earner, { json: endorsement });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'endorsement_not_award' });
    expect(await held(earner)).toBe(0);
  });

  it('refuses an OB 2.0 Endorsement submitted on its own as endorsement_not_award', async () => {
    const earner = await createEarner(app);
    const res = await add(earner, {
      json: {
        '@context': 'https://w3id.org/openbadges/v2',
        type: 'Endorsement',
        id: `${issuer.origin}/endorsements/1`,
        claim: { id: `${issuer.origin}/issuer`, endorsementComment: 'A fine issuer.' },
        issuer: `${issuer.origin}/issuer`,
        issuedOn: '2024-01-01T00:00:00Z',
        verification: { type: 'hosted' },
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'endorsement_not_award' });
    expect(await held(earner)).toBe(0);
  });
});
