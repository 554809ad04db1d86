// OB 2.0 endorsements embedded in an assertion, its BadgeClass or its Issuer: each verified on its
// own (hosted or signed, by its endorser) and shown with its verdict; none changes the badge's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSafeFetcher,
  type NormalizedEndorsement,
  type VerifyContext,
  verifyBadge,
} from '../../../src/modules/openbadges/index.ts';
import { LocalIssuer } from '../../support/badge-issuer.ts';

const ADDRESS = 'learner@example.org';
let issuer: LocalIssuer;
let ctx: VerifyContext;

beforeAll(async () => {
  issuer = await LocalIssuer.start();
  ctx = {
    fetcher: createSafeFetcher({ allowPrivateHosts: [issuer.hostPort], timeoutMs: 3000 }),
    now: () => new Date('2025-06-01T00:00:00Z'),
    recipients: [{ address: ADDRESS, verified: true }],
  };
});
afterAll(() => issuer.close());

/** A hosted assertion carrying `endorsement`, served at its own id. */
function endorsedAssertion(endorsement: unknown[]): string {
  const { url, json } = issuer.hosted(ADDRESS);
  return issuer.serve(new URL(url).pathname, { ...json, endorsement });
}

type Doc = Record<string, unknown>;
const getJson = async (url: string) => (await (await fetch(url)).json()) as Doc;

async function verifyUrl(url: string, c: VerifyContext = ctx) {
  const v = await verifyBadge({ kind: 'url', url }, c);
  const endorsements = (v.badge?.endorsements ?? []) as NormalizedEndorsement[];
  return { v, endorsements, summary: v.checks.find((c) => c.code === 'endorsements_verified') };
}

describe('OB 2.0 endorsements', () => {
  it('verifies a hosted endorsement given by URL and one given inline, with claim and endorser', async () => {
    const byUrl = issuer.hostedEndorsement(`${issuer.origin}/issuer`, 'A careful issuer.');
    const inline = issuer.hostedEndorsement(`${issuer.origin}/issuer`, 'Fair assessments.');
    const served = await getJson(inline);
    const { v, endorsements, summary } = await verifyUrl(endorsedAssertion([byUrl, served]));
    expect(v.status).toBe('valid');
    expect(endorsements).toEqual([
      {
        id: byUrl,
        endorser: { id: `${issuer.origin}/issuer`, name: 'Local Issuer' },
        claim: 'A careful issuer.',
        endorsedId: `${issuer.origin}/issuer`,
        issuedOn: '2024-01-01T00:00:00Z',
        verdict: 'valid',
        problems: [],
      },
      expect.objectContaining({ id: inline, claim: 'Fair assessments.', verdict: 'valid' }),
    ]);
    expect(summary).toMatchObject({ status: 'passed', message: '2 of 2 endorsements verify' });
  });

  it('shows the served claim of an inline hosted endorsement, not a tampered inline copy', async () => {
    const url = issuer.hostedEndorsement(`${issuer.origin}/issuer`, 'Faint praise.');
    const served = (await getJson(url)) as Doc & { claim: Doc };
    const tampered = { ...served, claim: { ...served.claim, endorsementComment: 'The best in the world.' } };
    const { v, endorsements } = await verifyUrl(endorsedAssertion([tampered]));
    expect(v.status).toBe('valid');
    expect(endorsements[0]).toMatchObject({ claim: 'Faint praise.', verdict: 'valid' });
  });

  it('lists unreachable, mismatched and wrongly typed endorsements as invalid; the badge stays valid', async () => {
    const off = issuer.hostedEndorsement(`${issuer.origin}/issuer`, 'Gone quiet.');
    issuer.switchOff(off);
    const elsewhere = issuer.serve('/endorsements/elsewhere', {
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'Endorsement',
      id: `${issuer.origin}/endorsements/other`,
      claim: { id: `${issuer.origin}/issuer`, endorsementComment: 'Moved.' },
      issuer: `${issuer.origin}/issuer`,
      issuedOn: '2024-01-01T00:00:00Z',
      verification: { type: 'hosted' },
    });
    const { v, endorsements, summary } = await verifyUrl(
      endorsedAssertion([off, elsewhere, { type: 'Assertion', id: `${issuer.origin}/x` }]),
    );
    expect(v.status).toBe('valid');
    expect(v.ok).toBe(true);
    expect(endorsements.map((e) => e.verdict)).toEqual(['invalid', 'invalid', 'invalid']);
    expect(endorsements[0]?.problems).toEqual([expect.stringContaining('hosted_fetched')]);
    expect(endorsements[1]?.problems).toEqual([expect.stringContaining('another id')]);
    expect(endorsements[2]?.problems).toEqual([expect.stringContaining('type_valid')]);
    expect(summary).toMatchObject({ status: 'warned', message: '0 of 3 endorsements verify' });
  });

  it('verifies a signed endorsement by the endorser key and refuses a tampered one', async () => {
    const jws = await issuer.signedEndorsement(`${issuer.origin}/issuer`, 'Signed praise.');
    const [h, p, s] = jws.split('.');
    const payload = JSON.parse(Buffer.from(p as string, 'base64url').toString('utf8'));
    payload.claim.endorsementComment = 'Forged praise.';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    const { v, endorsements } = await verifyUrl(endorsedAssertion([jws, forged]));
    expect(v.status).toBe('valid');
    expect(endorsements[0]).toMatchObject({ claim: 'Signed praise.', verdict: 'valid', problems: [] });
    expect(endorsements[1]).toMatchObject({ claim: 'Forged praise.', verdict: 'invalid' });
    expect(endorsements[1]?.problems).toEqual([expect.stringContaining('signature_valid')]);
  });

  it('finds endorsements on the BadgeClass and the Issuer too', async () => {
    const onIssuer = issuer.hostedEndorsement(`${issuer.origin}/issuer`, 'On the issuer.');
    const { url, json } = issuer.hosted(ADDRESS);
    const badgeUrl = json.badge as string;
    const badgeClass = await getJson(badgeUrl);
    const onBadge = issuer.hostedEndorsement(badgeUrl, 'On the badge.');
    issuer.serve(new URL(badgeUrl).pathname, { ...badgeClass, endorsement: onBadge });
    const profile = await getJson(`${issuer.origin}/issuer`);
    issuer.serve('/issuer', { ...profile, endorsement: [onIssuer] });
    try {
      const { v, endorsements } = await verifyUrl(url);
      expect(v.status).toBe('valid');
      expect(endorsements.map((e) => [e.claim, e.verdict])).toEqual([
        ['On the badge.', 'valid'],
        ['On the issuer.', 'valid'],
      ]);
    } finally {
      issuer.serve('/issuer', profile);
    }
  });

  it('keeps endorsement fetches within a share of the verification limits, never failing the badge', async () => {
    const many = Array.from({ length: 6 }, (_, i) =>
      issuer.hostedEndorsement(`${issuer.origin}/issuer`, `Praise ${i}.`),
    );
    const { v, endorsements } = await verifyUrl(endorsedAssertion(many), {
      ...ctx,
      limits: { maxFetches: 12 },
    });
    expect(v.status).toBe('valid');
    expect(v.checks.some((c) => c.code === 'limits_exceeded')).toBe(false);
    // A third of 12 fetches: two endorsements of two fetches each, the rest refused.
    expect(endorsements.map((e) => e.verdict)).toEqual([
      'valid',
      'valid',
      'invalid',
      'invalid',
      'invalid',
      'invalid',
    ]);
    expect(endorsements[5]?.problems.join(' ')).toContain('more fetches');
  });
});
