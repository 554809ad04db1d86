import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { fetchJson, JSON_TYPES } from './common.ts';
import { base58btcDecode, publicKeyFromMultibase } from './multikey.ts';
import type { VerifyContext } from './types.ts';
import { asArray, isRecord, type JsonRecord, str } from './util.ts';

export { base58btcDecode };

function ed25519FromRaw(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/** A public JWK as a key; a JWK carrying private parts is refused rather than silently trimmed. */
export function keyFromJwk(jwk: unknown): KeyObject | null {
  if (!isRecord(jwk) || 'd' in jwk || 'p' in jwk || 'k' in jwk) return null;
  try {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    return key.type === 'public' ? key : null;
  } catch {
    return null;
  }
}

/** The key material of a verification method, whichever property its type uses. */
export function keyFromMethod(vm: JsonRecord): KeyObject | null {
  const multibase = str(vm.publicKeyMultibase);
  if (multibase) return publicKeyFromMultibase(multibase);
  if (vm.publicKeyJwk !== undefined) return keyFromJwk(vm.publicKeyJwk);
  // Ed25519VerificationKey2018 (still used by many issuers) writes the raw key in base58.
  const base58 = str(vm.publicKeyBase58);
  if (base58) {
    const raw = base58btcDecode(base58);
    return raw?.length === 32 ? ed25519FromRaw(raw) : null;
  }
  return null;
}

/** One verification method, found in the document that publishes it. */
export interface ResolvedMethod {
  /** Absolute id of the method. */
  id: string;
  key: KeyObject;
}

/** Whether the issuer vouches for a key, and why not when it does not. */
export type Vouching = { ok: true; how: string } | { ok: false; reason: string };

const split = (id: string): [string, string | null] => {
  const hash = id.indexOf('#');
  return hash < 0 ? [id, null] : [id.slice(0, hash), id.slice(hash + 1)];
};

/** A did:key names its one method `did:key:X#X`; the bare DID stands for it too. */
function canonicalMethodId(id: string): string {
  const [base, fragment] = split(id);
  if (base.startsWith('did:key:') && fragment === null) return `${base}#${base.slice('did:key:'.length)}`;
  return id;
}

function absolute(ref: string, base: string): string {
  return canonicalMethodId(ref.startsWith('#') ? `${base}${ref}` : ref);
}

// DID documents and JWKs have media types of their own besides plain JSON.
const KEY_DOCUMENT_TYPES = [
  ...JSON_TYPES,
  'application/did+json',
  'application/did+ld+json',
  'application/jwk+json',
  'application/jwk-set+json',
];

const DID_WEB_SEGMENT = /^[A-Za-z0-9._~!$&'()*+,;=@%-]+$/;

/**
 * Where a did:web document lives (https://host[:port]/path/did.json or /.well-known/did.json), or
 * why the DID cannot name one. Plain http only for hosts the operator listed.
 */
export function didWebUrl(did: string, httpHosts: readonly string[]): string | { error: string } {
  const parts = did.slice('did:web:'.length).split(':');
  let decoded: string[];
  try {
    decoded = parts.map((p) => {
      if (!DID_WEB_SEGMENT.test(p)) throw new Error();
      return decodeURIComponent(p);
    });
  } catch {
    return { error: `${did} is not a well-formed did:web` };
  }
  const [host, ...path] = decoded;
  if (!host || !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host) || host.startsWith('.')) {
    return { error: `${did} does not name a host` };
  }
  if (path.some((s) => s === '' || s === '.' || s === '..' || /[/?#\\]/.test(s))) {
    return { error: `${did} has a path that cannot be a URL path` };
  }
  const scheme = httpHosts.includes(hostPortOf(host, 80)) ? 'http' : 'https';
  const suffix = path.length ? `${path.map(encodeURIComponent).join('/')}/did.json` : '.well-known/did.json';
  return `${scheme}://${host.toLowerCase()}/${suffix}`;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function hostPortOf(host: string, defaultPort: number): string {
  return (/:\d+$/.test(host) ? host : `${host}:${defaultPort}`).toLowerCase();
}

/** Key documents over plain http are read only from hosts the operator listed (tests, intranets). */
function httpAllowed(url: string, httpHosts: readonly string[]): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${url} is not a URL`;
  }
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:' && httpHosts.includes(hostPortOf(u.host, 80))) return null;
  return `${url} is not https; keys are read over https only`;
}

function didKeyDocument(did: string): JsonRecord | string {
  const multibase = did.slice('did:key:'.length);
  if (!publicKeyFromMultibase(multibase)) return `${did} is not an Ed25519, P-256 or P-384 did:key`;
  const id = `${did}#${multibase}`;
  return {
    id: did,
    verificationMethod: [{ id, type: 'Multikey', controller: did, publicKeyMultibase: multibase }],
    assertionMethod: [id],
  };
}

function didJwkDocument(did: string): JsonRecord | string {
  let jwk: unknown;
  try {
    jwk = JSON.parse(Buffer.from(did.slice('did:jwk:'.length), 'base64url').toString('utf8'));
  } catch {
    return `${did} does not hold a JSON Web Key`;
  }
  if (!keyFromJwk(jwk) || !isRecord(jwk)) return `${did} does not hold a public JSON Web Key`;
  const id = `${did}#0`;
  return {
    id: did,
    verificationMethod: [{ id, type: 'JsonWebKey', controller: did, publicKeyJwk: jwk }],
    // A key marked for encryption only is not one the DID asserts with.
    assertionMethod: jwk.use === 'enc' ? [] : [id],
  };
}

/** Every key an issuer may sign with is resolved here, once per verification, through the context's fetcher. */
export class KeyResolver {
  private readonly documents = new Map<string, Promise<JsonRecord | string>>();
  private readonly httpHosts: readonly string[];

  constructor(private readonly ctx: VerifyContext) {
    this.httpHosts = (ctx.didWebHttpHosts ?? []).map((h) => h.toLowerCase());
  }

  /** The document a DID or URL (without fragment) stands for, or why it cannot be read. */
  document(base: string): Promise<JsonRecord | string> {
    let pending = this.documents.get(base);
    if (!pending) {
      pending = this.load(base);
      this.documents.set(base, pending);
    }
    return pending;
  }

  private async load(base: string): Promise<JsonRecord | string> {
    if (base.startsWith('did:key:')) return didKeyDocument(base);
    if (base.startsWith('did:jwk:')) return didJwkDocument(base);
    let url: string;
    if (base.startsWith('did:web:')) {
      const located = didWebUrl(base, this.httpHosts);
      if (typeof located !== 'string') return located.error;
      url = located;
    } else if (base.startsWith('did:')) {
      return `${base.split(':', 2).join(':')} DIDs are not resolved by this service`;
    } else if (/^https?:\/\//i.test(base)) {
      const refused = httpAllowed(base, this.httpHosts);
      if (refused) return refused;
      url = base;
    } else {
      return `${base} is neither a DID nor an https URL`;
    }
    const res = await fetchJson(this.ctx.fetcher, url, 'document', KEY_DOCUMENT_TYPES);
    if (!res.ok) return res.reason;
    // A redirect off the origin (an open redirect on the issuer's site) would let anyone answer for it.
    if (originOf(res.url) !== originOf(url)) return `${url} redirects to another origin`;
    if (!isRecord(res.doc)) return `${url} is not a JSON object`;
    // A DID document for another DID proves nothing about this one (a host serving many tenants).
    if (base.startsWith('did:') && res.doc.id !== base)
      return `${url} is the document of ${String(res.doc.id)}`;
    return res.doc;
  }

  /** Resolves a verification method id to its key, from the document that publishes it. */
  async method(methodId: string): Promise<ResolvedMethod | string> {
    const id = canonicalMethodId(methodId);
    const [base, fragment] = split(id);
    const doc = await this.document(base);
    if (typeof doc === 'string') return doc;
    if (fragment === null) {
      // A URL dereferencing to a bare key: a JWK, or a JWK Set holding exactly one key.
      const direct = this.bareKey(doc);
      if (direct) return { id, key: direct };
    }
    const found = findMethod(doc, base, id);
    if (found) {
      const key = keyFromMethod(found);
      return key ? { id, key } : `${id} has no usable public key`;
    }
    if (fragment !== null && Array.isArray(doc.keys)) {
      // A JWK Set: the fragment names the key by its kid.
      const jwk = doc.keys.filter(isRecord).find((k) => k.kid === fragment || k.kid === id);
      const key = jwk ? keyFromJwk(jwk) : null;
      if (key) return { id, key };
    }
    return `${base} does not publish ${id}`;
  }

  private bareKey(doc: JsonRecord): KeyObject | null {
    if (typeof doc.kty === 'string') return keyFromJwk(doc);
    if (Array.isArray(doc.keys) && doc.keys.length === 1) return keyFromJwk(doc.keys[0]);
    return null;
  }

  /**
   * Whether the issuer's own document (its DID document, or the profile its https id serves)
   * authorizes this key for assertionMethod: by listing the method, by reference or embedded.
   * The key's own identifier never counts: anyone can name a key after anybody.
   */
  async vouch(issuerId: string | null, key: KeyObject): Promise<Vouching> {
    if (!issuerId) return { ok: false, reason: 'the credential names no issuer to vouch for its key' };
    if (issuerId.includes('#')) return { ok: false, reason: `issuer id ${issuerId} has a fragment` };
    const doc = await this.document(issuerId);
    if (typeof doc === 'string') {
      return { ok: false, reason: `no document of the issuer ${issuerId} confirms the key: ${doc}` };
    }
    if (!issuerId.startsWith('did:') && str(doc.id) !== issuerId) {
      return { ok: false, reason: `${issuerId} serves a profile with another id (${String(doc.id)})` };
    }
    let external = 0;
    for (const entry of asArray(doc.assertionMethod).slice(0, 32)) {
      let candidate: KeyObject | null = null;
      if (isRecord(entry)) {
        candidate = keyFromMethod(entry);
      } else if (typeof entry === 'string') {
        const id = absolute(entry, issuerId);
        const local = findMethod(doc, issuerId, id);
        if (local) {
          candidate = keyFromMethod(local);
        } else if (external < 4) {
          // A method published elsewhere (a did:key, another document) that the issuer adopts.
          external += 1;
          const resolved = await this.method(id);
          if (typeof resolved !== 'string') candidate = resolved.key;
        }
      }
      if (candidate?.equals(key)) {
        const id = isRecord(entry) ? str(entry.id) : String(entry);
        return { ok: true, how: `${issuerId} lists ${id ?? 'the key'} for assertionMethod` };
      }
    }
    return { ok: false, reason: `${issuerId} does not list this key for assertionMethod` };
  }
}

/** A verification method listed (or embedded in a verification relationship) by a document. */
function findMethod(doc: JsonRecord, base: string, id: string): JsonRecord | null {
  // A document may itself be the method (a key document at its own URL).
  const self = keyFromMethod(doc) ? [doc] : [];
  const candidates = [
    ...self,
    ...asArray(doc.verificationMethod),
    ...asArray(doc.assertionMethod),
    ...asArray(doc.authentication),
    ...asArray(doc.publicKey),
  ].filter(isRecord);
  return candidates.find((m) => typeof m.id === 'string' && absolute(m.id, base) === id) ?? null;
}
