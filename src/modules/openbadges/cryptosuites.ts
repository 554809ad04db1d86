import { createHash, createHmac, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { decode as cborDecode } from 'cborg';
import jsonld from 'jsonld';
import { documentLoader } from './jsonld-loader.ts';
import { base58btcDecode, base58btcEncode, publicKeyFromMulticodec } from './multikey.ts';
import { isRecord, type JsonRecord, str } from './util.ts';

// Linked-data proofs: given a credential, one of its proofs and the public key the verification method
// resolved to, does the proof verify? Who owns the key is decided elsewhere. Every suite canonicalizes with
// RDFC-1.0 through the bundled contexts only, as the Digital Bazaar libraries most issuers use do.

export interface ProofResult {
  verified: boolean;
  /** Why, in words fit for a check message. */
  reason: string;
}

export type CryptosuiteName =
  | 'eddsa-rdfc-2022'
  | 'Ed25519Signature2020'
  | 'Ed25519Signature2018'
  | 'ecdsa-rdfc-2019'
  | 'ecdsa-sd-2023';

/** The suite a proof uses, when it is one this module verifies. */
export function cryptosuiteOf(proof: JsonRecord): CryptosuiteName | null {
  const type = str(proof.type);
  if (type === 'Ed25519Signature2020' || type === 'Ed25519Signature2018') return type;
  if (type !== 'DataIntegrityProof') return null;
  switch (str(proof.cryptosuite)) {
    // The -2022/-2019 names are the drafts' names for the same algorithms, still found in issued credentials.
    case 'eddsa-rdfc-2022':
    case 'eddsa-2022':
      return 'eddsa-rdfc-2022';
    case 'ecdsa-rdfc-2019':
    case 'ecdsa-2019':
      return 'ecdsa-rdfc-2019';
    case 'ecdsa-sd-2023':
      return 'ecdsa-sd-2023';
    default:
      return null;
  }
}

type KeyKind = 'Ed25519' | 'P-256' | 'P-384';

function keyKind(key: KeyObject): KeyKind | null {
  if (key.type !== 'public' && key.type !== 'private') return null;
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType !== 'ec') return null;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return 'P-256';
  if (curve === 'secp384r1') return 'P-384';
  return null;
}

const ACCEPTED_KEYS: Record<CryptosuiteName, KeyKind[]> = {
  'eddsa-rdfc-2022': ['Ed25519'],
  Ed25519Signature2020: ['Ed25519'],
  Ed25519Signature2018: ['Ed25519'],
  'ecdsa-rdfc-2019': ['P-256', 'P-384'],
  // The base signature is P-256 in the specification and in the libraries that issue these proofs.
  'ecdsa-sd-2023': ['P-256'],
};

const HASH: Record<KeyKind, 'sha256' | 'sha384'> = {
  Ed25519: 'sha256',
  'P-256': 'sha256',
  'P-384': 'sha384',
};
const SIGNATURE_BYTES: Record<KeyKind, number> = { Ed25519: 64, 'P-256': 64, 'P-384': 96 };

const ok = (reason: string): ProofResult => ({ verified: true, reason });
const no = (reason: string): ProofResult => ({ verified: false, reason });

class CanonicalizationError extends Error {}

/**
 * RDFC-1.0 N-Quads. `alg` is the hash RDFC-1.0 labels blank nodes with: ecdsa-rdfc-2019 uses the curve's
 * (SHA-384 for P-384), every other suite SHA-256.
 */
async function canonize(
  doc: unknown,
  alg: 'sha256' | 'sha384' = 'sha256',
  canonicalIdMap?: Map<string, string>,
): Promise<string> {
  try {
    return await jsonld.canonize(doc, {
      algorithm: 'RDFC-1.0',
      format: 'application/n-quads',
      documentLoader,
      safe: true,
      base: null,
      rdfDirection: 'i18n-datatype',
      canonizeOptions: {
        algorithm: 'RDFC-1.0',
        messageDigestAlgorithm: alg,
        ...(canonicalIdMap && { canonicalIdMap }),
      },
    });
  } catch (err) {
    throw new CanonicalizationError((err as Error).message.slice(0, 200));
  }
}

const digest = (alg: 'sha256' | 'sha384', data: string | Uint8Array) => createHash(alg).update(data).digest();

/** Ed25519 (pure, no pre-hash) or ECDSA with the curve's hash and r||s signatures. */
function signatureVerifies(kind: KeyKind, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES[kind]) return false;
  if (kind === 'Ed25519') return cryptoVerify(null, data, key, signature);
  return cryptoVerify(HASH[kind], data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

/**
 * The contexts a proof's options may have been canonicalized under: the proof's own when it carries one,
 * otherwise the document's (what the specifications say), then what older signers used.
 */
function configContexts(doc: JsonRecord, proof: JsonRecord, older: string[]): unknown[] {
  return [proof['@context'] ?? doc['@context'], ...older];
}

const ED25519_2020_CONTEXT = 'https://w3id.org/security/suites/ed25519-2020/v1';
const ED25519_2018_CONTEXT = 'https://w3id.org/security/suites/ed25519-2018/v1';
const SECURITY_V2_CONTEXT = 'https://w3id.org/security/v2';

/**
 * Hashes of the proof options under each candidate context; a context under which the options cannot be
 * canonicalized is skipped (an older signer's guess that does not apply).
 */
async function configHashes(
  options: JsonRecord,
  contexts: unknown[],
  alg: 'sha256' | 'sha384',
): Promise<Buffer[]> {
  const hashes: Buffer[] = [];
  for (const context of contexts) {
    try {
      hashes.push(digest(alg, await canonize({ ...options, '@context': context }, alg)));
    } catch (err) {
      if (!(err instanceof CanonicalizationError)) throw err;
    }
  }
  return hashes;
}

function withoutProof(doc: JsonRecord): JsonRecord {
  const { proof: _proof, ...unsecured } = doc;
  return unsecured;
}

/** eddsa-rdfc-2022, ecdsa-rdfc-2019 and Ed25519Signature2020: hash(options) || hash(document), signed. */
async function verifyRdfcProof(
  suite: CryptosuiteName,
  doc: JsonRecord,
  proof: JsonRecord,
  key: KeyObject,
  kind: KeyKind,
): Promise<ProofResult> {
  const proofValue = str(proof.proofValue);
  if (!proofValue?.startsWith('z')) return no('the proofValue is not multibase base58btc');
  const signature = base58btcDecode(proofValue.slice(1));
  if (signature?.length !== SIGNATURE_BYTES[kind]) {
    return no(`the proofValue is not a ${kind} signature`);
  }
  const alg = HASH[kind];
  const docHash = digest(alg, await canonize(withoutProof(doc), alg));
  const { proofValue: _pv, '@context': _ctx, ...options } = proof;
  const older = suite === 'Ed25519Signature2020' ? [ED25519_2020_CONTEXT] : [];
  for (const configHash of await configHashes(options, configContexts(doc, proof, older), alg)) {
    if (signatureVerifies(kind, key, Buffer.concat([configHash, docHash]), signature)) {
      return ok(`${suite} proof verifies with the ${kind} key`);
    }
  }
  return no('the proof does not verify');
}

/**
 * Ed25519Signature2018: a detached JWS with an unencoded payload (RFC 7797), the payload being
 * hash(options) || hash(document).
 */
async function verifyEd25519Signature2018(
  doc: JsonRecord,
  proof: JsonRecord,
  key: KeyObject,
): Promise<ProofResult> {
  const jws = str(proof.jws);
  const parts = jws?.split('.') ?? [];
  if (parts.length !== 3 || parts[1] !== '' || !parts[0] || !parts[2]) {
    return no('the proof has no detached JWS');
  }
  const [encodedHeader, , encodedSignature] = parts as [string, string, string];
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
  } catch {
    return no('the JWS header is unreadable');
  }
  if (
    !isRecord(header) ||
    header.alg !== 'EdDSA' ||
    header.b64 !== false ||
    !Array.isArray(header.crit) ||
    !header.crit.includes('b64')
  ) {
    return no('the JWS header must be {"alg":"EdDSA","b64":false,"crit":["b64"]}');
  }
  const signature = Buffer.from(encodedSignature, 'base64url');
  const docHash = digest('sha256', await canonize(withoutProof(doc)));
  const { jws: _jws, proofValue: _pv, signatureValue: _sv, '@context': _ctx, ...options } = proof;
  // Signers before jsonld-signatures 5 canonicalized the options under the security vocabulary alone.
  const contexts = configContexts(doc, proof, [SECURITY_V2_CONTEXT, ED25519_2018_CONTEXT]);
  for (const configHash of await configHashes(options, contexts, 'sha256')) {
    const signingInput = Buffer.concat([Buffer.from(`${encodedHeader}.`, 'ascii'), configHash, docHash]);
    if (signatureVerifies('Ed25519', key, signingInput, signature)) {
      return ok('Ed25519Signature2018 proof verifies with the Ed25519 key');
    }
  }
  return no('the proof does not verify');
}

// ecdsa-sd-2023 proof values: multibase base64url of a 3-byte CBOR tag header then a CBOR array.
const SD_BASE = 0x00;
const SD_DERIVED = 0x01;
// Some encoders (the specification's own test vectors among them) write byte strings as typed arrays
// (RFC 8746 tag 64) instead of major type 2. Anything else under that tag is refused as malformed.
const CBOR_TAGS = {
  64: (decode: () => unknown) => {
    const inner = decode();
    if (!(inner instanceof Uint8Array)) throw new Error('tag 64 must hold a byte string');
    return inner;
  },
};

const isBytes = (x: unknown, length?: number): x is Uint8Array =>
  x instanceof Uint8Array && (length === undefined || x.length === length);

interface SdProof {
  mode: 'base' | 'derived';
  baseSignature: Uint8Array;
  /** The issuer's per-credential P-256 key, as multicodec bytes. */
  ephemeralKey: Uint8Array;
  signatures: Uint8Array[];
  /** Derived: the canonical label (`c14nN`) of each blank node and the HMAC'd label the issuer signed. */
  labelMap?: Map<string, string>;
  mandatoryIndexes?: number[];
  /** Base: the key labels were HMAC'd with. */
  hmacKey?: Uint8Array;
}

function parseSdProofValue(proofValue: string | null): SdProof | string {
  if (!proofValue?.startsWith('u')) return 'the proofValue is not multibase base64url';
  const bytes = Buffer.from(proofValue.slice(1), 'base64url');
  if (bytes.length < 4 || bytes[0] !== 0xd9 || bytes[1] !== 0x5d)
    return 'the proofValue is not ecdsa-sd-2023';
  const mode = bytes[2];
  let items: unknown;
  try {
    items = cborDecode(bytes.subarray(3), { useMaps: true, tags: CBOR_TAGS, rejectDuplicateMapKeys: true });
  } catch {
    return 'the proofValue is not readable CBOR';
  }
  if (!Array.isArray(items) || items.length !== 5) return 'the proofValue does not hold five components';
  const [baseSignature, ephemeralKey, third, fourth, fifth] = items as unknown[];
  if (!isBytes(baseSignature) || !isBytes(ephemeralKey, 35)) {
    return 'the proofValue base signature or public key is malformed';
  }
  if (mode === SD_BASE) {
    const signatures = fourth;
    if (!isBytes(third, 32) || !Array.isArray(signatures) || !signatures.every((s) => isBytes(s, 64))) {
      return 'the base proofValue is malformed';
    }
    if (!Array.isArray(fifth) || !fifth.every((p) => typeof p === 'string')) {
      return 'the base proofValue mandatory pointers are malformed';
    }
    return { mode: 'base', baseSignature, ephemeralKey, signatures, hmacKey: third };
  }
  if (mode === SD_DERIVED) {
    const signatures = third;
    if (!Array.isArray(signatures) || !signatures.every((s) => isBytes(s, 64))) {
      return 'the derived proofValue signatures are malformed';
    }
    if (!(fourth instanceof Map)) return 'the derived proofValue label map is malformed';
    const labelMap = new Map<string, string>();
    for (const [k, v] of fourth) {
      if (!Number.isSafeInteger(k) || k < 0 || !isBytes(v, 32))
        return 'the derived proofValue label map is malformed';
      labelMap.set(`c14n${k}`, `u${Buffer.from(v).toString('base64url')}`);
    }
    if (!Array.isArray(fifth) || !fifth.every((i) => Number.isSafeInteger(i) && i >= 0)) {
      return 'the derived proofValue mandatory indexes are malformed';
    }
    return { mode: 'derived', baseSignature, ephemeralKey, signatures, labelMap, mandatoryIndexes: fifth };
  }
  return 'the proofValue is neither a base nor a derived ecdsa-sd-2023 proof';
}

/**
 * The document's canonical N-Quads with each blank node relabelled as the issuer labelled it (from the
 * derived proof's map, or HMAC'd with the base proof's key), then sorted: the statements the issuer signed.
 */
async function relabelledQuads(doc: JsonRecord, labelOf: (c14nLabel: string) => string | undefined) {
  const idMap = new Map<string, string>();
  const canonical = await canonize(doc, 'sha256', idMap);
  const c14nLabels = new Set([...idMap.values()].map((l) => (l.startsWith('_:') ? l.slice(2) : l)));
  const missing = [...c14nLabels].filter((l) => labelOf(l) === undefined);
  if (missing.length) return null;
  return canonical
    .split('\n')
    .slice(0, -1)
    .map((line) => `${line.replace(/_:([^\s]+)/g, (_m, label: string) => `_:${labelOf(label)}`)}\n`)
    .sort();
}

/**
 * ecdsa-sd-2023. A derived proof (what a holder presents) says which statements were mandatory; a base
 * proof (what the issuer hands the holder) can be checked whole too: every statement is either signed on
 * its own by the per-credential key or, taken together with the other unsigned ones, covered by the
 * issuer's base signature. Statements are unique and each signature binds one, so they pair up in order.
 */
async function verifyEcdsaSd(
  doc: JsonRecord,
  proof: JsonRecord,
  key: KeyObject,
  kind: KeyKind,
): Promise<ProofResult> {
  const parsed = parseSdProofValue(str(proof.proofValue));
  if (typeof parsed === 'string') return no(parsed);
  const ephemeral = publicKeyFromMulticodec(parsed.ephemeralKey);
  if (!ephemeral || keyKind(ephemeral) !== 'P-256')
    return no('the proof’s per-credential key is not a P-256 key');
  if (parsed.baseSignature.length !== SIGNATURE_BYTES[kind])
    return no(`the base signature is not a ${kind} signature`);

  const { hmacKey, labelMap } = parsed;
  const labelOf = hmacKey
    ? (c14n: string) => `u${createHmac('sha256', hmacKey).update(c14n, 'utf8').digest('base64url')}`
    : (c14n: string) => labelMap?.get(c14n);
  const quads = await relabelledQuads(withoutProof(doc), labelOf);
  if (!quads) return no('the proof’s label map does not cover every blank node');

  const signed = (quad: string, signature: Uint8Array) =>
    signatureVerifies('P-256', ephemeral, Buffer.from(quad, 'utf8'), signature);
  const mandatory: string[] = [];
  if (parsed.mode === 'derived') {
    const indexes = new Set(parsed.mandatoryIndexes);
    const optional: string[] = [];
    for (const [i, quad] of quads.entries()) (indexes.has(i) ? mandatory : optional).push(quad);
    if (optional.length !== parsed.signatures.length) {
      return no(`${parsed.signatures.length} signatures for ${optional.length} disclosed statements`);
    }
    if (!optional.every((q, i) => signed(q, parsed.signatures[i] as Uint8Array))) {
      return no('a disclosed statement does not verify');
    }
  } else {
    let next = 0;
    for (const quad of quads) {
      const signature = parsed.signatures[next];
      if (signature && signed(quad, signature)) next++;
      else mandatory.push(quad);
    }
    if (next !== parsed.signatures.length) return no('a signed statement is missing from the credential');
  }

  const { proofValue: _pv, '@context': _ctx, ...options } = proof;
  const [proofHash] = await configHashes(options, [proof['@context'] ?? doc['@context']], 'sha256');
  if (!proofHash) return no('the proof options cannot be canonicalized');
  const mandatoryHash = digest('sha256', mandatory.join(''));
  const baseData = Buffer.concat([proofHash, parsed.ephemeralKey, mandatoryHash]);
  if (!signatureVerifies(kind, key, baseData, parsed.baseSignature)) {
    return no('the base signature does not verify');
  }
  return ok(`ecdsa-sd-2023 ${parsed.mode} proof verifies with the ${kind} key`);
}

/** Verifies one proof of `doc` with the key its verification method resolved to. Never throws. */
export async function verifyProof(doc: JsonRecord, proof: JsonRecord, key: KeyObject): Promise<ProofResult> {
  const suite = cryptosuiteOf(proof);
  if (!suite) return no(`proof ${str(proof.type) ?? '(no type)'} is not verified by this service`);
  const kind = keyKind(key);
  if (!kind || !ACCEPTED_KEYS[suite].includes(kind)) {
    return no(`${suite} takes ${ACCEPTED_KEYS[suite].join(' or ')} keys, not ${kind ?? 'this key type'}`);
  }
  try {
    if (suite === 'Ed25519Signature2018') return await verifyEd25519Signature2018(doc, proof, key);
    if (suite === 'ecdsa-sd-2023') return await verifyEcdsaSd(doc, proof, key, kind);
    return await verifyRdfcProof(suite, doc, proof, key, kind);
  } catch (err) {
    if (err instanceof CanonicalizationError)
      return no(`the credential cannot be canonicalized: ${err.message}`);
    return no(`the proof cannot be checked: ${(err as Error).message.slice(0, 200)}`);
  }
}

export interface Eddsa2022ProofOptions {
  verificationMethod: string;
  proofPurpose: 'authentication' | 'assertionMethod';
  /** When the proof is made, as an XML date-time. */
  created: string;
  challenge?: string;
  domain?: string;
}

/**
 * Secures `doc` with an eddsa-rdfc-2022 Data Integrity proof, canonicalized exactly as this
 * module verifies one (the bundled contexts, safe mode): the proof options under the document's
 * context, hashed, then the document, hashed, and the pair signed by `sign` (Ed25519).
 */
export async function addEddsaRdfc2022Proof(
  doc: JsonRecord,
  options: Eddsa2022ProofOptions,
  sign: (data: Uint8Array) => Promise<Uint8Array>,
): Promise<JsonRecord> {
  const proof: JsonRecord = {
    type: 'DataIntegrityProof',
    cryptosuite: 'eddsa-rdfc-2022',
    created: options.created,
    verificationMethod: options.verificationMethod,
    proofPurpose: options.proofPurpose,
    ...(options.challenge === undefined ? {} : { challenge: options.challenge }),
    ...(options.domain === undefined ? {} : { domain: options.domain }),
  };
  const unsecured = withoutProof(doc);
  const configHash = digest('sha256', await canonize({ ...proof, '@context': doc['@context'] }));
  const docHash = digest('sha256', await canonize(unsecured));
  const signature = await sign(Buffer.concat([configHash, docHash]));
  return { ...unsecured, proof: { ...proof, proofValue: `z${base58btcEncode(signature)}` } };
}
