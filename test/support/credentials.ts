// OB 3.0 credentials made and signed the way an issuer would, for tests that need issuers of
// every kind (did:key, did:web, did:jwk, https profiles) and forgers with keys of their own.
import { createHash, sign as cryptoSign, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { CompactSign } from 'jose';
import jsonld from 'jsonld';
import { documentLoader } from '../../src/modules/openbadges/jsonld-loader.ts';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58btc(bytes: Uint8Array): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

export interface Ed25519Signer {
  publicKey: KeyObject;
  privateKey: KeyObject;
  /** The Multikey form of the public key (`z6Mk…`). */
  multibase: string;
  /** The did:key of the public key. */
  didKey: string;
  /** The public key as a JWK. */
  jwk: Record<string, unknown>;
}

export function ed25519Signer(): Ed25519Signer {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const raw = Buffer.from(String(jwk.x), 'base64url');
  const multibase = `z${base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;
  return { publicKey, privateKey, multibase, didKey: `did:key:${multibase}`, jwk };
}

/** A did:jwk for a public JWK. */
export function didJwk(jwk: Record<string, unknown>): string {
  return `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`;
}

/** An OpenBadgeCredential (VCDM 2.0) awarded to an e-mail address, in the given issuer's name. */
export function ob3Credential(
  issuer: string,
  recipient: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
    ],
    id: `urn:uuid:${randomUUID()}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer, type: ['Profile'], name: 'Test Issuer' },
    validFrom: '2024-01-01T00:00:00Z',
    name: 'Test Credential',
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [
        { type: 'IdentityObject', identityHash: recipient, identityType: 'emailAddress', hashed: false },
      ],
      achievement: {
        id: `urn:uuid:${randomUUID()}`,
        type: ['Achievement'],
        name: 'Test Achievement',
        description: 'Awarded in a test',
        criteria: { narrative: 'Pass.' },
      },
    },
    ...overrides,
  };
}

const sha = (s: string) => createHash('sha256').update(s).digest();
const canon = (d: unknown) =>
  jsonld.canonize(d, { algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true });

/** Adds an eddsa-rdfc-2022 Data Integrity proof made with this private key under this method id. */
export async function signDataIntegrity(
  doc: Record<string, unknown>,
  privateKey: KeyObject,
  verificationMethod: string,
  proofPurpose = 'assertionMethod',
): Promise<Record<string, unknown>> {
  const proof = {
    '@context': doc['@context'],
    type: 'DataIntegrityProof',
    cryptosuite: 'eddsa-rdfc-2022',
    created: '2024-01-01T00:00:00Z',
    verificationMethod,
    proofPurpose,
  };
  const data = Buffer.concat([sha(await canon(proof)), sha(await canon(doc))]);
  const { '@context': _context, ...stored } = proof;
  return { ...doc, proof: { ...stored, proofValue: `z${base58btc(cryptoSign(null, data, privateKey))}` } };
}

/** A compact JWS of this payload with this protected header (EdDSA unless the header says otherwise). */
export function signJwt(
  payload: Record<string, unknown>,
  privateKey: KeyObject,
  header: Record<string, unknown>,
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA', ...header })
    .sign(privateKey);
}
