// Prints a body for POST /v1/badges holding an Open Badges 3.0 credential awarded to the given
// address, signed as a VC-JWT by a fresh did:key issuer. A first badge for the quick start:
// the backpack verifies it without any network (the key is in the issuer's identifier).
//   npx tsx scripts/example-badge.ts ada@example.org > badge.json
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { base58btcEncode } from '../src/modules/openbadges/multikey.ts';

const address = process.argv[2];
if (!address?.includes('@')) {
  process.stderr.write('usage: tsx scripts/example-badge.ts <e-mail address of the earner>\n');
  process.exit(2);
}

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
// Multicodec ed25519-pub (0xed 0x01), then the raw key, as did:key spells it.
const did = `did:key:z${base58btcEncode(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;

const credential = {
  '@context': [
    'https://www.w3.org/ns/credentials/v2',
    'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
  ],
  id: `urn:uuid:${randomUUID()}`,
  type: ['VerifiableCredential', 'OpenBadgeCredential'],
  issuer: { id: did, type: ['Profile'], name: 'Quick Start Academy' },
  validFrom: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  name: 'First badge',
  credentialSubject: {
    type: ['AchievementSubject'],
    identifier: [
      { type: 'IdentityObject', identityHash: address, identityType: 'emailAddress', hashed: false },
    ],
    achievement: {
      id: `urn:uuid:${randomUUID()}`,
      type: ['Achievement'],
      name: 'First badge',
      description: 'Stored a first badge in a Badge Backpack.',
      criteria: { narrative: 'Run the quick start.' },
    },
  },
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const input = `${b64({ alg: 'EdDSA', typ: 'JWT', kid: `${did}#${did.slice('did:key:'.length)}` })}.${b64(credential)}`;
const signature = sign(null, Buffer.from(input), privateKey).toString('base64url');
process.stdout.write(`${JSON.stringify({ jws: `${input}.${signature}` })}\n`);
