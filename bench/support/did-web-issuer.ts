// A did:web issuer on 127.0.0.1 for the engine benchmark: its DID document (Ed25519 and P-256
// multikeys, an Ed25519 JWK for VC-JWTs) is served with caching headers, and it signs one Open
// Badges 3.0 credential per proof kind. ECDSA proofs come from Digital Bazaar's signer (what most
// issuers run), the Ed25519 ones from the specifications, so the verifier never sees its own signer.
import { createHash, sign as cryptoSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { createDiscloseCryptosuite, createSignCryptosuite } from '@digitalbazaar/ecdsa-sd-2023-cryptosuite';
import { CompactSign, exportJWK } from 'jose';
import jsonld from 'jsonld';
import jsigs from 'jsonld-signatures';
import { documentLoader } from '../../src/modules/openbadges/jsonld-loader.ts';
import { base58btcEncode, publicKeyToMultibase } from '../../src/modules/openbadges/multikey.ts';

type Doc = Record<string, unknown>;

export interface DidWebIssuer {
  did: string;
  /** `host:port`, for the settings that allow it over http and to a loopback address. */
  hostPort: string;
  /** Requests for the DID document, and how many were conditional ones answered 304. */
  documentRequests: () => { full: number; notModified: number };
  credentials: Record<
    | 'eddsa-rdfc-2022'
    | 'Ed25519Signature2020'
    | 'Ed25519Signature2018'
    | 'ecdsa-rdfc-2019'
    | 'ecdsa-sd-2023 derived',
    Doc
  >;
  vcJwt: string;
  close: () => Promise<void>;
}

const canon = (d: unknown) =>
  jsonld.canonize(d, { algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true });
const sha256 = (s: string) => createHash('sha256').update(s).digest();

export async function startDidWebIssuer(recipient: string, maxAgeSeconds: number): Promise<DidWebIssuer> {
  const ed = generateKeyPairSync('ed25519');
  const edMultibase = publicKeyToMultibase(ed.publicKey) as string;
  const p256 = await EcdsaMultikey.generate({ curve: 'P-256' });
  let body = '';
  let etag = '';
  const counts = { full: 0, notModified: 0 };
  const server = createServer((req, res) => {
    if (req.url !== '/.well-known/did.json') {
      res.writeHead(404).end();
      return;
    }
    const headers = { 'cache-control': `max-age=${maxAgeSeconds}`, etag };
    if (req.headers['if-none-match'] === etag) {
      counts.notModified += 1;
      res.writeHead(304, headers).end();
      return;
    }
    counts.full += 1;
    res.writeHead(200, { ...headers, 'content-type': 'application/did+json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const hostPort = `127.0.0.1:${port}`;
  const did = `did:web:127.0.0.1%3A${port}`;
  const edVm = `${did}#${edMultibase}`;
  const ecVm = `${did}#${p256.publicKeyMultibase}`;
  const jwtVm = `${did}#jwt`;
  p256.id = ecVm;
  p256.controller = did;
  const document = {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: [
      { id: edVm, type: 'Multikey', controller: did, publicKeyMultibase: edMultibase },
      { id: ecVm, type: 'Multikey', controller: did, publicKeyMultibase: p256.publicKeyMultibase },
      { id: jwtVm, type: 'JsonWebKey', controller: did, publicKeyJwk: await exportJWK(ed.publicKey) },
    ],
    assertionMethod: [edVm, ecVm, jwtVm],
  };
  body = JSON.stringify(document);
  etag = `"${createHash('sha256').update(body).digest('base64url')}"`;

  const credential = (context: string[]): Doc => ({
    '@context': context,
    id: `urn:uuid:${randomUUID()}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: did, type: ['Profile'], name: 'Benchmark Institute' },
    [context[0] === 'https://www.w3.org/2018/credentials/v1' ? 'issuanceDate' : 'validFrom']:
      '2024-01-01T00:00:00Z',
    name: 'Benchmark Credential',
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [
        { type: 'IdentityObject', identityHash: recipient, identityType: 'emailAddress', hashed: false },
      ],
      achievement: {
        id: 'urn:uuid:0c8d2f0e-94a4-4d5e-8d0b-2b1d1f3f7a10',
        type: ['Achievement'],
        name: 'Benchmark Achievement',
        description: 'Signed once, verified many times.',
        criteria: { narrative: 'Be verified.' },
      },
    },
  });
  const v2 = [
    'https://www.w3.org/ns/credentials/v2',
    'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
  ];
  const v1 = [
    'https://www.w3.org/2018/credentials/v1',
    'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
    'https://w3id.org/security/suites/ed25519-2020/v1',
  ];

  /** Signature over hash(options) || hash(document): eddsa-rdfc-2022 and Ed25519Signature2020. */
  const signEd = async (doc: Doc, type: 'DataIntegrityProof' | 'Ed25519Signature2020') => {
    const options: Doc = {
      type,
      ...(type === 'DataIntegrityProof' ? { cryptosuite: 'eddsa-rdfc-2022' } : {}),
      created: '2024-01-01T00:00:00Z',
      verificationMethod: edVm,
      proofPurpose: 'assertionMethod',
    };
    const data = Buffer.concat([
      sha256(await canon({ ...options, '@context': doc['@context'] })),
      sha256(await canon(doc)),
    ]);
    return {
      ...doc,
      proof: { ...options, proofValue: `z${base58btcEncode(cryptoSign(null, data, ed.privateKey))}` },
    };
  };
  /** Ed25519Signature2018: a detached, unencoded-payload JWS over the same two hashes. */
  const signEd2018 = async (doc: Doc) => {
    const options: Doc = {
      type: 'Ed25519Signature2018',
      created: '2024-01-01T00:00:00Z',
      verificationMethod: edVm,
      proofPurpose: 'assertionMethod',
    };
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', b64: false, crit: ['b64'] })).toString(
      'base64url',
    );
    const data = Buffer.concat([
      Buffer.from(`${header}.`),
      sha256(await canon({ ...options, '@context': doc['@context'] })),
      sha256(await canon(doc)),
    ]);
    return {
      ...doc,
      proof: { ...options, jws: `${header}..${cryptoSign(null, data, ed.privateKey).toString('base64url')}` },
    };
  };
  const signEcdsa = async (doc: Doc): Promise<Doc> => {
    const suite = new DataIntegrityProof({ signer: p256.signer(), cryptosuite: ecdsaRdfc2019 });
    return jsigs.sign(structuredClone(doc), {
      suite,
      purpose: new jsigs.purposes.AssertionProofPurpose(),
      documentLoader,
    });
  };

  /** ecdsa-sd-2023: the issuer's base proof, then what a holder derives from it to present. */
  const signEcdsaSd = async (doc: Doc): Promise<Doc> => {
    const purpose = new jsigs.purposes.AssertionProofPurpose();
    const signer = p256.signer();
    const mandatoryPointers = ['/issuer', '/validFrom', '/credentialSubject/identifier'];
    const base = await jsigs.sign(structuredClone(doc), {
      suite: new DataIntegrityProof({ signer, cryptosuite: createSignCryptosuite({ mandatoryPointers }) }),
      purpose,
      documentLoader,
    });
    const selectivePointers = ['/name', '/credentialSubject/achievement'];
    return jsigs.derive(base, {
      suite: new DataIntegrityProof({ cryptosuite: createDiscloseCryptosuite({ selectivePointers }) }),
      purpose,
      documentLoader,
    });
  };

  const vcJwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(credential(v2))))
    .setProtectedHeader({ alg: 'EdDSA', kid: jwtVm })
    .sign(ed.privateKey);
  return {
    did,
    hostPort,
    documentRequests: () => ({ ...counts }),
    credentials: {
      'eddsa-rdfc-2022': await signEd(credential(v2), 'DataIntegrityProof'),
      Ed25519Signature2020: await signEd(credential(v1), 'Ed25519Signature2020'),
      // The VCDM 1.1 context defines this older suite's terms; the 2.0 one does not.
      Ed25519Signature2018: await signEd2018(credential(v1.slice(0, 2))),
      'ecdsa-rdfc-2019': await signEcdsa(credential(v2)),
      'ecdsa-sd-2023 derived': await signEcdsaSd(credential(v2)),
    },
    vcJwt,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
