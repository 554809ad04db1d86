import { createHash, sign as cryptoSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { createDiscloseCryptosuite, createSignCryptosuite } from '@digitalbazaar/ecdsa-sd-2023-cryptosuite';
import { decode as cborDecode, encode as cborEncode, Token, Type } from 'cborg';
import jsonld from 'jsonld';
import jsigs from 'jsonld-signatures';
import { describe, expect, it } from 'vitest';
import { cryptosuiteOf, verifyProof } from '../../../src/modules/openbadges/cryptosuites.ts';
import { type Verdict, verifyBadge } from '../../../src/modules/openbadges/index.ts';
import { documentLoader } from '../../../src/modules/openbadges/jsonld-loader.ts';
import {
  base58btcEncode,
  publicKeyFromMultibase,
  publicKeyToMultibase,
} from '../../../src/modules/openbadges/multikey.ts';

// ECDSA credentials are signed by Digital Bazaar's libraries (what most issuers run), the Ed25519 ones
// by hand from the specifications: either way the verifier never sees its own signer.

type Doc = Record<string, unknown>;
const VC_V1 = 'https://www.w3.org/2018/credentials/v1';
const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const OB_303 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
const OB_300 = 'https://purl.imsglobal.org/spec/ob/v3p0/context.json';
const ED25519_2020 = 'https://w3id.org/security/suites/ed25519-2020/v1';
const ADDRESS = 'learner@example.org';
const ctx = {
  fetcher: async () => {
    throw new Error('offline');
  },
  now: () => new Date('2025-06-01T00:00:00Z'),
  recipients: [{ address: ADDRESS, verified: true }],
};
const failed = (v: Verdict) => v.checks.filter((c) => c.status === 'failed').map((c) => c.code);

function credential(issuer: string, context: unknown[] = [VC_V2, OB_303]): Doc {
  const v1 = context[0] === VC_V1;
  return {
    '@context': context,
    id: 'urn:uuid:6a1d0f5e-5b6a-4d39-9a4c-3c1f1f6a9b21',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer, type: ['Profile'], name: 'Suite Issuer' },
    [v1 ? 'issuanceDate' : 'validFrom']: '2024-01-01T00:00:00Z',
    name: 'Suite Badge',
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [
        { type: 'IdentityObject', identityHash: ADDRESS, identityType: 'emailAddress', hashed: false },
      ],
      achievement: {
        id: 'urn:uuid:0c8d2f0e-94a4-4d5e-8d0b-2b1d1f3f7a10',
        type: ['Achievement'],
        name: 'Suite Achievement',
        description: 'Signed with a suite in use in the wild.',
        criteria: { narrative: 'Be signed.' },
      },
    },
  };
}

const canon = (d: unknown) =>
  jsonld.canonize(d, { algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true });
const sha256 = (s: string) => createHash('sha256').update(s).digest();

function ed25519() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const did = `did:key:${publicKeyToMultibase(publicKey)}`;
  return { publicKey, privateKey, did, vm: `${did}#${did.slice(8)}` };
}

/** eddsa-rdfc-2022 or Ed25519Signature2020: signature over hash(options) || hash(document), base58btc. */
async function signEd25519(
  doc: Doc,
  key: ReturnType<typeof ed25519>,
  type: 'DataIntegrityProof' | 'Ed25519Signature2020',
) {
  const options: Doc = {
    type,
    ...(type === 'DataIntegrityProof' ? { cryptosuite: 'eddsa-rdfc-2022' } : {}),
    created: '2024-01-01T00:00:00Z',
    verificationMethod: key.vm,
    proofPurpose: 'assertionMethod',
  };
  const data = Buffer.concat([
    sha256(await canon({ ...options, '@context': doc['@context'] })),
    sha256(await canon(doc)),
  ]);
  return {
    ...doc,
    proof: { ...options, proofValue: `z${base58btcEncode(cryptoSign(null, data, key.privateKey))}` },
  };
}

/** Ed25519Signature2018: a detached unencoded-payload JWS over hash(options) || hash(document). */
async function signEd25519Signature2018(doc: Doc, key: ReturnType<typeof ed25519>, optionsContext?: unknown) {
  const options: Doc = {
    type: 'Ed25519Signature2018',
    created: '2022-05-26T20:31:11Z',
    verificationMethod: key.vm,
    proofPurpose: 'assertionMethod',
  };
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', b64: false, crit: ['b64'] })).toString(
    'base64url',
  );
  const data = Buffer.concat([
    Buffer.from(`${header}.`),
    sha256(await canon({ ...options, '@context': optionsContext ?? doc['@context'] })),
    sha256(await canon(doc)),
  ]);
  const signature = cryptoSign(null, data, key.privateKey).toString('base64url');
  return { ...doc, proof: { ...options, jws: `${header}..${signature}` } };
}

async function ecdsaKey(curve: 'P-256' | 'P-384') {
  const pair = await EcdsaMultikey.generate({ curve });
  const did = `did:key:${pair.publicKeyMultibase}`;
  pair.id = `${did}#${pair.publicKeyMultibase}`;
  pair.controller = did;
  const publicKey = publicKeyFromMultibase(pair.publicKeyMultibase) as KeyObject;
  return { pair, did, publicKey };
}

const purpose = () => new jsigs.purposes.AssertionProofPurpose();

async function signEcdsaRdfc(doc: Doc, key: Awaited<ReturnType<typeof ecdsaKey>>): Promise<Doc> {
  const suite = new DataIntegrityProof({ signer: key.pair.signer(), cryptosuite: ecdsaRdfc2019 });
  return jsigs.sign(structuredClone(doc), { suite, purpose: purpose(), documentLoader });
}

const MANDATORY = ['/issuer', '/validFrom', '/type', '/credentialSubject/type'];

async function signEcdsaSdBase(doc: Doc, key: Awaited<ReturnType<typeof ecdsaKey>>): Promise<Doc> {
  const cryptosuite = createSignCryptosuite({ mandatoryPointers: MANDATORY });
  const suite = new DataIntegrityProof({ signer: key.pair.signer(), cryptosuite });
  return jsigs.sign(structuredClone(doc), { suite, purpose: purpose(), documentLoader });
}

async function deriveEcdsaSd(base: Doc, selectivePointers: string[]): Promise<Doc> {
  const suite = new DataIntegrityProof({ cryptosuite: createDiscloseCryptosuite({ selectivePointers }) });
  return jsigs.derive(structuredClone(base), { suite, purpose: purpose(), documentLoader });
}

const proofOf = (doc: Doc) => doc.proof as Doc;
const tamper = (doc: Doc): Doc => ({ ...doc, name: 'Forged Badge' });
const verify = (doc: Doc, key: KeyObject) => verifyProof(doc, proofOf(doc), key);
const stranger = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;

describe('multikey', () => {
  it('decodes Ed25519, P-256 and P-384 multikeys to the same key, and refuses other codecs and points', async () => {
    const ed = generateKeyPairSync('ed25519').publicKey;
    const edText = publicKeyToMultibase(ed) as string;
    expect(edText.startsWith('z6Mk')).toBe(true);
    expect(publicKeyFromMultibase(edText)?.equals(ed)).toBe(true);
    for (const curve of ['P-256', 'P-384'] as const) {
      const { pair, publicKey } = await ecdsaKey(curve);
      expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe(curve === 'P-256' ? 'prime256v1' : 'secp384r1');
      expect(publicKeyToMultibase(publicKey)).toBe(pair.publicKeyMultibase);
    }
    // secp256k1 (0xe701), a truncated key, a point off the curve, base64 multibase, garbage.
    const k1 = base58btcEncode(Buffer.concat([Buffer.from([0xe7, 0x01]), Buffer.alloc(33, 2)]));
    const offCurve = base58btcEncode(
      Buffer.concat([Buffer.from([0x80, 0x24, 0x02]), Buffer.alloc(32, 0xff)]),
    );
    for (const bad of [`z${k1}`, edText.slice(0, -2), `z${offCurve}`, `u${edText.slice(1)}`, 'z0OIl', '']) {
      expect(publicKeyFromMultibase(bad)).toBeNull();
    }
  });
});

describe('cryptosuites', () => {
  it('names the suites it verifies and no others', () => {
    expect(cryptosuiteOf({ type: 'DataIntegrityProof', cryptosuite: 'eddsa-2022' })).toBe('eddsa-rdfc-2022');
    expect(cryptosuiteOf({ type: 'DataIntegrityProof', cryptosuite: 'ecdsa-rdfc-2019' })).toBe(
      'ecdsa-rdfc-2019',
    );
    expect(cryptosuiteOf({ type: 'DataIntegrityProof', cryptosuite: 'ecdsa-sd-2023' })).toBe('ecdsa-sd-2023');
    expect(cryptosuiteOf({ type: 'Ed25519Signature2018' })).toBe('Ed25519Signature2018');
    expect(cryptosuiteOf({ type: 'DataIntegrityProof', cryptosuite: 'bbs-2023' })).toBeNull();
    expect(cryptosuiteOf({ type: 'RsaSignature2018' })).toBeNull();
  });

  for (const type of ['DataIntegrityProof', 'Ed25519Signature2020'] as const) {
    it(`${type} (Ed25519): valid, tampered, wrong key`, async () => {
      const key = ed25519();
      const context = type === 'DataIntegrityProof' ? undefined : [VC_V1, OB_300, ED25519_2020];
      const doc = await signEd25519(credential(key.did, context), key, type);
      expect(await verify(doc, key.publicKey)).toMatchObject({ verified: true });
      expect(await verify(tamper(doc), key.publicKey)).toMatchObject({ verified: false });
      expect((await verify(doc, ed25519().publicKey)).verified).toBe(false);
      expect((await verify(doc, stranger())).reason).toMatch(/takes Ed25519 keys, not P-256/);
    });
  }

  it('Ed25519Signature2018: detached b64:false JWS, valid under the document or security contexts, tampered, wrong key', async () => {
    const key = ed25519();
    const doc = credential(key.did, [VC_V1, OB_300]);
    const signed = await signEd25519Signature2018(doc, key);
    expect(await verify(signed, key.publicKey)).toMatchObject({ verified: true });
    // Older signers canonicalized the proof options under the security vocabulary.
    const older = await signEd25519Signature2018(doc, key, 'https://w3id.org/security/v2');
    expect(await verify(older, key.publicKey)).toMatchObject({ verified: true });
    expect((await verify(tamper(signed), key.publicKey)).verified).toBe(false);
    expect((await verify(signed, ed25519().publicKey)).verified).toBe(false);
    // A JWS that encodes its payload, or another algorithm, is not this suite.
    const jws = String(proofOf(signed).jws);
    const encoded = Buffer.from(JSON.stringify({ alg: 'EdDSA' })).toString('base64url');
    const rewritten = {
      ...signed,
      proof: { ...proofOf(signed), jws: `${encoded}${jws.slice(jws.indexOf('.'))}` },
    };
    expect(await verify(rewritten, key.publicKey)).toMatchObject({ verified: false, reason: /JWS header/ });
    const attached = { ...signed, proof: { ...proofOf(signed), jws: jws.replace('..', '.e30.') } };
    expect((await verify(attached, key.publicKey)).reason).toMatch(/detached JWS/);
  });

  for (const curve of ['P-256', 'P-384'] as const) {
    it(`ecdsa-rdfc-2019 ${curve}: valid, tampered, wrong key, wrong curve`, async () => {
      const key = await ecdsaKey(curve);
      const doc = await signEcdsaRdfc(credential(key.did), key);
      expect(proofOf(doc).cryptosuite).toBe('ecdsa-rdfc-2019');
      expect(await verify(doc, key.publicKey)).toMatchObject({ verified: true });
      expect((await verify(tamper(doc), key.publicKey)).verified).toBe(false);
      expect((await verify(doc, (await ecdsaKey(curve)).publicKey)).verified).toBe(false);
      const other = (await ecdsaKey(curve === 'P-256' ? 'P-384' : 'P-256')).publicKey;
      expect((await verify(doc, other)).verified).toBe(false);
      expect((await verify(doc, ed25519().publicKey)).reason).toMatch(
        /takes P-256 or P-384 keys, not Ed25519/,
      );
    });
  }

  it('ecdsa-sd-2023 P-256: base and derived proofs verify; tampered, undisclosed-then-added and wrong key do not', async () => {
    const key = await ecdsaKey('P-256');
    const base = await signEcdsaSdBase(credential(key.did), key);
    expect(await verify(base, key.publicKey)).toMatchObject({ verified: true, reason: /base proof/ });
    expect((await verify(tamper(base), key.publicKey)).verified).toBe(false);

    const derived = await deriveEcdsaSd(base, ['/credentialSubject/achievement/name', '/name']);
    const subject = derived.credentialSubject as Doc;
    expect((subject.achievement as Doc).name).toBe('Suite Achievement');
    expect((subject.achievement as Doc).description).toBeUndefined();
    expect(await verify(derived, key.publicKey)).toMatchObject({ verified: true, reason: /derived proof/ });
    expect((await verify(tamper(derived), key.publicKey)).verified).toBe(false);
    // A statement the holder did not disclose cannot be put back in unsigned.
    const added = structuredClone(derived);
    ((added.credentialSubject as Doc).achievement as Doc).description = 'Added later.';
    expect((await verify(added, key.publicKey)).verified).toBe(false);
    // Nor can a mandatory one be dropped.
    const { validFrom: _dropped, ...dropped } = derived;
    expect((await verify(dropped, key.publicKey)).verified).toBe(false);
    expect((await verify(derived, (await ecdsaKey('P-256')).publicKey)).verified).toBe(false);
    expect((await verify(derived, (await ecdsaKey('P-384')).publicKey)).reason).toMatch(
      /takes P-256 keys, not P-384/,
    );
  });

  it('ecdsa-sd-2023: byte strings written as typed arrays (CBOR tag 64) read the same', async () => {
    const key = await ecdsaKey('P-256');
    const derived = await deriveEcdsaSd(await signEcdsaSdBase(credential(key.did), key), ['/name']);
    const proofValue = String(proofOf(derived).proofValue);
    const bytes = Buffer.from(proofValue.slice(1), 'base64url');
    const items = cborDecode(bytes.subarray(3), { useMaps: true });
    const tagged = cborEncode(items, {
      typeEncoders: { Uint8Array: (b: Uint8Array) => [new Token(Type.tag, 64), new Token(Type.bytes, b)] },
    });
    const rewritten = `u${Buffer.concat([bytes.subarray(0, 3), tagged]).toString('base64url')}`;
    expect(rewritten).not.toBe(proofValue);
    const result = await verify(
      { ...derived, proof: { ...proofOf(derived), proofValue: rewritten } },
      key.publicKey,
    );
    expect(result).toMatchObject({ verified: true });
  });

  it('ecdsa-sd-2023: an unreadable or truncated proofValue is a reasoned failure', async () => {
    const key = await ecdsaKey('P-256');
    const base = await signEcdsaSdBase(credential(key.did), key);
    const derived = await deriveEcdsaSd(base, ['/name']);
    const pv = String(proofOf(derived).proofValue);
    for (const proofValue of [`z${pv.slice(1)}`, pv.slice(0, 40), 'u2V0C', `${pv.slice(0, -8)}`]) {
      const result = await verify({ ...derived, proof: { ...proofOf(derived), proofValue } }, key.publicKey);
      expect(result.verified).toBe(false);
      expect(result.reason.length).toBeGreaterThan(0);
    }
  });
});

describe('proofs through the verifier', () => {
  const cases: [string, () => Promise<{ doc: Doc; forged: Doc }>][] = [
    [
      'Ed25519Signature2018',
      async () => {
        const key = ed25519();
        const doc = await signEd25519Signature2018(credential(key.did, [VC_V1, OB_300]), key);
        return { doc, forged: tamper(doc) };
      },
    ],
    [
      'ecdsa-rdfc-2019 P-384',
      async () => {
        const key = await ecdsaKey('P-384');
        const doc = await signEcdsaRdfc(credential(key.did), key);
        return { doc, forged: tamper(doc) };
      },
    ],
    [
      'ecdsa-sd-2023 derived',
      async () => {
        const key = await ecdsaKey('P-256');
        const base = await signEcdsaSdBase(credential(key.did), key);
        const doc = await deriveEcdsaSd(base, [
          '/name',
          '/credentialSubject/identifier',
          '/credentialSubject/achievement',
        ]);
        return { doc, forged: tamper(doc) };
      },
    ],
  ];
  for (const [name, make] of cases) {
    it(`${name} with a did:key verification method: passes, and fails when tampered`, async () => {
      const { doc, forged } = await make();
      const v = await verifyBadge({ kind: 'json', json: doc }, ctx);
      expect(failed(v), JSON.stringify(v.checks)).toEqual([]);
      expect(v.checks.find((c) => c.code === 'proof_valid')?.status).toBe('passed');
      expect(v.badge?.name).toBe('Suite Achievement');
      expect(failed(await verifyBadge({ kind: 'json', json: forged }, ctx))).toContain('proof_valid');
    });
  }
});
