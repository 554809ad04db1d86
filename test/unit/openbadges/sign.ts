import { createHash, sign as cryptoSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jsonld from 'jsonld';
import { documentLoader } from '../../../src/modules/openbadges/jsonld-loader.ts';
import { base58btcEncode, publicKeyToMultibase } from '../../../src/modules/openbadges/multikey.ts';

// An OB 3.0 issuer of the tests' own: a fresh Ed25519 did:key that signs eddsa-rdfc-2022 proofs, written
// from the specification (hash of the canonical proof options, then of the canonical document).

export interface TestIssuer {
  did: string;
  publicKey: KeyObject;
  sign(doc: Record<string, unknown>): Promise<Record<string, unknown> & { proof: Record<string, unknown> }>;
}

const canon = (d: unknown) =>
  jsonld.canonize(d, { algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true });
const sha256 = (s: string) => createHash('sha256').update(s).digest();

export function ed25519Issuer(): TestIssuer {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const did = `did:key:${publicKeyToMultibase(publicKey)}`;
  return {
    did,
    publicKey,
    async sign(doc) {
      const options = {
        type: 'DataIntegrityProof',
        cryptosuite: 'eddsa-rdfc-2022',
        created: '2024-01-01T00:00:00Z',
        verificationMethod: `${did}#${did.slice(8)}`,
        proofPurpose: 'assertionMethod',
      };
      const data = Buffer.concat([
        sha256(await canon({ ...options, '@context': doc['@context'] })),
        sha256(await canon(doc)),
      ]);
      const proofValue = `z${base58btcEncode(cryptoSign(null, data, privateKey))}`;
      return { ...doc, proof: { ...options, proofValue } };
    },
  };
}
