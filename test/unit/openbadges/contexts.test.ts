import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Verdict, verifyBadge } from '../../../src/modules/openbadges/index.ts';
import {
  documentLoader,
  knownContext,
  OB3_CONTEXTS,
  OB3_CURRENT_CONTEXT,
} from '../../../src/modules/openbadges/jsonld-loader.ts';
import { ed25519Issuer } from './sign.ts';

const ADDRESS = 'learner@example.org';
const ctx = {
  fetcher: async () => {
    throw new Error('offline');
  },
  now: () => new Date('2025-06-01T00:00:00Z'),
  recipients: [{ address: ADDRESS, verified: true }],
};
const issuer = ed25519Issuer();
const did = issuer.did;
const statusOf = (v: Verdict, code: string) => v.checks.filter((c) => c.code === code).map((c) => c.status);
const failed = (v: Verdict) => v.checks.filter((c) => c.status === 'failed').map((c) => c.code);

/**
 * The 3.0.0 and 3.0.1 contexts were written for VCDM 1.1 and clash with 2.0's protected terms; the drafts
 * had no IdentityObject, so their subjects are named by id.
 */
async function signed(obContext: string, extra: Record<string, unknown> = {}, vcdm1 = false, draft = false) {
  const doc = {
    '@context': vcdm1
      ? ['https://www.w3.org/2018/credentials/v1', obContext, 'https://w3id.org/security/data-integrity/v2']
      : ['https://www.w3.org/ns/credentials/v2', obContext],
    id: 'urn:uuid:9b0f7e02-3c43-4a8e-8f55-5b7c2a0e4d11',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: did, type: ['Profile'], name: 'Context Issuer' },
    [vcdm1 ? 'issuanceDate' : 'validFrom']: '2024-01-01T00:00:00Z',
    credentialSubject: {
      type: ['AchievementSubject'],
      ...(draft && { id: `mailto:${ADDRESS}` }),
      identifier: draft
        ? undefined
        : [{ type: 'IdentityObject', identityHash: ADDRESS, identityType: 'emailAddress', hashed: false }],
      achievement: {
        id: 'urn:uuid:5d7e1b52-8c5e-4d3a-b7c2-0e3a1f9b6c20',
        type: ['Achievement'],
        name: 'Context Achievement',
        criteria: { narrative: 'Name a published context.' },
      },
    },
    ...extra,
  };
  return issuer.sign(doc);
}

describe('Open Badges 3.0 contexts', () => {
  it('lists every published context URL once, each served by the loader', async () => {
    expect([...OB3_CONTEXTS.keys()]).toEqual(
      expect.arrayContaining([
        'https://purl.imsglobal.org/spec/ob/v3p0/context.json',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
        'https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld',
      ]),
    );
    for (const url of OB3_CONTEXTS.keys()) {
      expect(knownContext(url)).toBe(true);
      const { document } = await documentLoader(url);
      expect(document).toHaveProperty('@context');
    }
    await expect(
      documentLoader('https://purl.imsglobal.org/spec/ob/v3p0/context-9.9.9.json'),
    ).rejects.toThrow(/never fetched/);
  });

  // 1EdTech's validator lists the contexts it bundles, the Open Badges 3.0 ones among them.
  const urls = resolve(
    dirname(fileURLToPath(import.meta.url)),
    '../../../../shared/fixtures/1edtech-validator/contexts/URLS.md',
  );
  it.skipIf(!existsSync(urls))('knows every Open Badges 3.0 context URL 1EdTech’s validator bundles', () => {
    const listed = [
      ...readFileSync(urls, 'utf8').matchAll(/\| (https:\/\/purl\.imsglobal\.org\/spec\/ob\/v3p0\/\S+) \|/g),
    ].map((m) => m[1] as string);
    expect(listed.length).toBeGreaterThanOrEqual(6);
    for (const url of listed) {
      expect(knownContext(url), url).toBe(true);
      if (!url.endsWith('/extensions.json')) expect(OB3_CONTEXTS.has(url), url).toBe(true);
    }
  });

  // The check once accepted only the context(-3.0.N).json spelling, refusing credentials the loader could read.
  for (const [url, { release }] of OB3_CONTEXTS) {
    it(`accepts a credential under ${url} (${release}), current or outdated`, async () => {
      const vcdm1 = release !== '3.0.2' && release !== '3.0.3';
      const doc = await signed(url, {}, vcdm1, release === 'draft');
      const v = await verifyBadge({ kind: 'json', json: JSON.parse(JSON.stringify(doc)) }, ctx);
      expect(failed(v), JSON.stringify(v.checks)).toEqual([]);
      expect(statusOf(v, 'proof_valid')).toEqual(['passed']);
      expect(statusOf(v, 'context_valid')).toEqual([url === OB3_CURRENT_CONTEXT ? 'passed' : 'warned']);
    });
  }

  it('knows the terms 1EdTech added to the published 3.0.3 context (endorsementJwt)', async () => {
    const doc = await signed(OB3_CURRENT_CONTEXT, { endorsementJwt: ['eyJhbGciOiJFUzI1NiJ9.e30.c2ln'] });
    const v = await verifyBadge({ kind: 'json', json: doc }, ctx);
    expect(failed(v), JSON.stringify(v.checks)).toEqual([]);
    const forged = { ...doc, endorsementJwt: ['eyJhbGciOiJFUzI1NiJ9.e30.b3RoZXI'] };
    expect(failed(await verifyBadge({ kind: 'json', json: forged }, ctx))).toContain('proof_valid');
  });

  it('still refuses a credential without any Open Badges context, or with one that is not bundled', async () => {
    const doc = await signed(OB3_CURRENT_CONTEXT);
    const without = { ...doc, '@context': ['https://www.w3.org/ns/credentials/v2'] };
    expect(failed(await verifyBadge({ kind: 'json', json: without }, ctx))).toContain('context_valid');
    const unknown = {
      ...doc,
      '@context': [
        'https://www.w3.org/ns/credentials/v2',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.9.json',
      ],
    };
    expect(failed(await verifyBadge({ kind: 'json', json: unknown }, ctx))).toContain('context_valid');
  });
});
