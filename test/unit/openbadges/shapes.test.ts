import { describe, expect, it } from 'vitest';
import { type Fetcher, type Verdict, verifyBadge } from '../../../src/modules/openbadges/index.ts';
import { ed25519Issuer } from './sign.ts';

// JSON-LD lets a property hold one value or an array of them; issuers write both. Each property below is
// signed both ways by the same issuer, and both forms must verify to the same badge.

type Doc = Record<string, unknown>;
type Form = 'one' | 'many';
const ADDRESS = 'learner@example.org';
const REVOCATIONS = 'https://issuer.example/revocations';
const fetcher: Fetcher = async (url) => {
  if (url !== REVOCATIONS) throw new Error(`offline: ${url}`);
  const body = new TextEncoder().encode(JSON.stringify({ revokedCredential: [] }));
  return {
    status: 200,
    url,
    contentType: 'application/json',
    body,
    headers: { 'content-type': 'application/json' },
  };
};
const ctx = {
  fetcher,
  now: () => new Date('2025-06-01T00:00:00Z'),
  recipients: [{ address: ADDRESS, verified: true }],
};
const issuer = ed25519Issuer();
const failed = (v: Verdict) =>
  v.checks.filter((c) => c.status === 'failed').map((c) => `${c.code}: ${c.message}`);

/** One value as itself or wrapped in an array. */
const as = (form: Form, value: unknown) => (form === 'one' ? value : [value]);

const identity = (form: Form) => ({
  type: as(form, 'IdentityObject'),
  identityHash: ADDRESS,
  identityType: 'emailAddress',
  hashed: false,
});

function achievement(form: Form, more: Doc = {}): Doc {
  return {
    id: 'urn:uuid:3f7b1c0e-2a4d-4e8f-9b6a-1c2d3e4f5a60',
    type: as(form, 'Achievement'),
    name: 'Shape Achievement',
    description: 'Written one way or the other.',
    criteria: { narrative: 'Hold one value or many.' },
    ...more,
  };
}

function subject(form: Form, more: Doc = {}): Doc {
  return {
    type: as(form, 'AchievementSubject'),
    identifier: [identity('many')],
    achievement: achievement('many'),
    ...more,
  };
}

function credential(more: Doc = {}): Doc {
  return {
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      // Defines the 1EdTech status and schema types used below.
      'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json',
    ],
    id: 'urn:uuid:0e4f3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d10',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer.did, type: ['Profile'], name: 'Shape Issuer' },
    validFrom: '2024-01-01T00:00:00Z',
    name: 'Shape Badge',
    credentialSubject: subject('many'),
    ...more,
  };
}

const cases: [string, (form: Form) => Doc][] = [
  ['credentialSubject', (f) => credential({ credentialSubject: as(f, subject('many')) })],
  [
    'credentialSubject.identifier',
    (f) => credential({ credentialSubject: subject('many', { identifier: as(f, identity('many')) }) }),
  ],
  [
    'credentialSubject.type and identifier type',
    (f) => credential({ credentialSubject: subject(f, { identifier: [identity(f)] }) }),
  ],
  [
    'achievement.type',
    (f) => credential({ credentialSubject: subject('many', { achievement: achievement(f) }) }),
  ],
  [
    'issuer type, and issuer as an id or a profile',
    (f) =>
      credential({
        issuer:
          f === 'one'
            ? { id: issuer.did, type: 'Profile', name: 'Shape Issuer' }
            : { id: issuer.did, type: ['Profile'], name: 'Shape Issuer' },
      }),
  ],
  [
    'achievement alignment, tag, resultDescription and otherIdentifier',
    (f) =>
      credential({
        credentialSubject: subject('many', {
          achievement: achievement('many', {
            alignment: as(f, {
              type: as(f, 'Alignment'),
              targetName: 'Teamwork',
              targetUrl: 'https://example.org/teamwork',
            }),
            tag: as(f, 'teamwork'),
            resultDescription: as(f, {
              id: 'urn:uuid:rd-1',
              type: as(f, 'ResultDescription'),
              name: 'Grade',
              resultType: 'LetterGrade',
            }),
            otherIdentifier: as(f, {
              type: as(f, 'IdentifierEntry'),
              identifier: 'A-1',
              identifierType: 'sourcedId',
            }),
          }),
          result: as(f, { type: as(f, 'Result'), resultDescription: 'urn:uuid:rd-1', value: 'A' }),
        }),
      }),
  ],
  [
    'evidence',
    (f) =>
      credential({
        evidence: as(f, { id: 'https://example.org/work/1', type: as(f, 'Evidence'), name: 'Work' }),
      }),
  ],
  [
    'credentialSchema',
    (f) =>
      credential({
        credentialSchema: as(f, {
          id: 'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json',
          type: '1EdTechJsonSchemaValidator2019',
        }),
      }),
  ],
  [
    'credentialStatus',
    (f) => credential({ credentialStatus: as(f, { id: REVOCATIONS, type: '1EdTechRevocationList' }) }),
  ],
];

describe('one value or an array', () => {
  for (const [name, make] of cases) {
    it(`${name}: both forms verify to the same badge`, async () => {
      const verdicts: Verdict[] = [];
      for (const form of ['one', 'many'] as const) {
        const v = await verifyBadge({ kind: 'json', json: await issuer.sign(make(form)) }, ctx);
        expect(failed(v), `${form}: ${JSON.stringify(v.checks)}`).toEqual([]);
        expect(v.status).toBe('valid');
        verdicts.push(v);
      }
      expect(verdicts[0]?.badge).toEqual(verdicts[1]?.badge);
      expect(verdicts[0]?.recipient).toEqual({ address: ADDRESS });
    });
  }

  it('proof: one proof or a set of them', async () => {
    const signed = await issuer.sign(credential());
    for (const proof of [signed.proof, [signed.proof]]) {
      const v = await verifyBadge({ kind: 'json', json: { ...signed, proof } }, ctx);
      expect(failed(v)).toEqual([]);
      expect(v.checks.filter((c) => c.code === 'proof_valid').map((c) => c.status)).toEqual(['passed']);
    }
  });

  it('several subjects: the one holding the achievement is the award', async () => {
    const other = { id: 'did:example:peer', type: ['AchievementSubject'] };
    const v = await verifyBadge(
      { kind: 'json', json: await issuer.sign(credential({ credentialSubject: [other, subject('many')] })) },
      ctx,
    );
    expect(failed(v)).toEqual([]);
    expect(v.badge?.name).toBe('Shape Achievement');
    expect(v.recipient).toEqual({ address: ADDRESS });
  });

  // The shape is judged before the proof is read, so these need no signature.
  it('the wrong thing in either form is still refused', async () => {
    const unsigned = { type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022' };
    const badIdentifier = { ...identity('one'), type: 'NotAnIdentityObject' };
    for (const identifier of [badIdentifier, [badIdentifier]]) {
      const doc = { ...credential({ credentialSubject: subject('many', { identifier }) }), proof: unsigned };
      const v = await verifyBadge({ kind: 'json', json: doc }, ctx);
      expect(v.checks.find((c) => c.code === 'structure_valid')?.status).toBe('failed');
    }
    for (const evidence of [{ type: 'Other' }, [{ type: 'Evidence' }, { type: 'Other' }]]) {
      const v = await verifyBadge(
        { kind: 'json', json: { ...credential({ evidence }), proof: unsigned } },
        ctx,
      );
      expect(v.checks.find((c) => c.code === 'structure_valid')?.status).toBe('failed');
    }
  });
});
