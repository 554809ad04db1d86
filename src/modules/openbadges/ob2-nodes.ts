// The documents an OB 2.0 (or older) assertion leans on, fetched and judged the same way for
// the assertion itself and for each endorsement it embeds: its BadgeClass and Issuer, the
// origin it is hosted at, and the issuer's RSA key behind a signed one.
import { type CryptoKey, decodeProtectedHeader, importSPKI } from 'jose';
import type { CheckList } from './checks.ts';
import { fetchJson } from './common.ts';
import { ob2BadgeClassSchema, ob2KeySchema, ob2ProfileSchema, validateSchema } from './schemas.ts';
import type { VerifyContext } from './types.ts';
import {
  asArray,
  hostOf,
  isHttpUrl,
  isRecord,
  JSON_LIMITS,
  type JsonRecord,
  parseJsonWithin,
  refId,
  str,
  strings,
} from './util.ts';

/** A 0.5/1.x document: no JSON-LD context and no type of its own. */
export function looksLegacyBadge(doc: JsonRecord): boolean {
  return !doc['@context'] && !doc.type;
}

function upgradeNode(doc: JsonRecord, url: string, type: 'BadgeClass' | 'Issuer'): JsonRecord {
  if (!looksLegacyBadge(doc)) return doc;
  return { ...doc, id: url, type, legacy: true };
}

export async function loadNode(
  ref: unknown,
  ctx: VerifyContext,
  checks: CheckList,
  code: 'badge_class_fetched' | 'issuer_fetched',
  type: 'BadgeClass' | 'Issuer',
): Promise<JsonRecord | null> {
  if (isRecord(ref)) return ref;
  const url = str(ref);
  if (!url) {
    checks.fail(code, `${type} is missing`);
    return null;
  }
  const res = await fetchJson(ctx.fetcher, url);
  if (!res.ok || !isRecord(res.doc)) {
    checks.fail(code, res.ok ? `${url} is not a JSON object` : res.reason);
    return null;
  }
  const node = upgradeNode(res.doc, url, type);
  const declared = str(node.id);
  if (declared && declared !== url) {
    checks.warn('id_matches_source', `${url} declares the id ${declared}`);
  }
  return node;
}

export function validateNode(
  node: JsonRecord,
  checks: CheckList,
  code: 'badge_class_fetched' | 'issuer_fetched',
): boolean {
  const schema = code === 'badge_class_fetched' ? ob2BadgeClassSchema : ob2ProfileSchema;
  // Upgraded 0.5/1.x nodes had no id or type of their own; they are judged on the rest.
  const problem = validateSchema(
    schema,
    node.legacy
      ? {
          ...node,
          id: str(node.id) ?? 'urn:legacy',
          type: code === 'issuer_fetched' ? 'Issuer' : 'BadgeClass',
        }
      : node,
  );
  if (problem) {
    checks.fail(
      code,
      `${code === 'issuer_fetched' ? 'issuer' : 'BadgeClass'} ${refId(node) ?? ''}: ${problem}`,
    );
    return false;
  }
  checks.pass(
    code,
    `${code === 'issuer_fetched' ? 'issuer' : 'BadgeClass'} ${refId(node) ?? ''} is well formed`,
  );
  return true;
}

export function originCheck(
  assertionId: string,
  issuer: JsonRecord,
  legacyOrigin: string | null,
  checks: CheckList,
): void {
  const policy = isRecord(issuer.verification) ? issuer.verification : {};
  const starts = strings(policy.startsWith);
  const origins = strings(policy.allowedOrigins).map((o) => o.toLowerCase());
  const host = hostOf(assertionId);
  if (starts.length || origins.length) {
    const startOk = !starts.length || starts.some((p) => assertionId.startsWith(p));
    const originOk = !origins.length || (host !== null && origins.includes(host));
    if (startOk && originOk) checks.pass('hosted_origin_allowed', `${assertionId} is allowed by the issuer`);
    else checks.fail('hosted_origin_allowed', `${assertionId} is outside the issuer's allowed origins`);
    return;
  }
  const issuerUrl = legacyOrigin ?? (issuer.legacy ? str(issuer.url) : str(issuer.id));
  if (!isHttpUrl(issuerUrl)) {
    checks.warn(
      'hosted_origin_allowed',
      'the issuer id is not an HTTP URL, so the hosting origin cannot be compared',
    );
    return;
  }
  if (host !== null && host === hostOf(issuerUrl)) {
    checks.pass('hosted_origin_allowed', `${assertionId} is on the issuer's host`);
  } else {
    checks.fail('hosted_origin_allowed', `${assertionId} is not on the issuer's host ${hostOf(issuerUrl)}`);
  }
}

/** Signature algorithms and headers that must never select or carry the verification key. */
export function refusedJwsHeader(jws: string): string | null {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(jws) as Record<string, unknown>;
  } catch {
    return 'unreadable JWS header';
  }
  if (header.alg !== 'RS256') return `algorithm ${String(header.alg)} is refused (RS256 only)`;
  for (const h of ['jwk', 'jku', 'x5u', 'x5c', 'crit']) {
    if (h in header) return `header ${h} is refused`;
  }
  return null;
}

// Importing an RSA key costs milliseconds, and its PEM text names it exactly: a key document
// reused from the HTTP cache, or served again unchanged, is imported once. A rotated key is new text.
const importedKeys = new Map<string, CryptoKey>();
const IMPORTED_KEYS_MAX = 256;

async function importPem(pem: string): Promise<CryptoKey> {
  const hit = importedKeys.get(pem);
  if (hit) {
    importedKeys.delete(pem);
    importedKeys.set(pem, hit);
    return hit;
  }
  const key = await importSPKI(pem, 'RS256');
  importedKeys.set(pem, key);
  const oldest = importedKeys.keys().next();
  if (importedKeys.size > IMPORTED_KEYS_MAX && !oldest.done) importedKeys.delete(oldest.value);
  return key;
}

export async function signedKey(
  creator: string | null,
  issuer: JsonRecord,
  ctx: VerifyContext,
  checks: CheckList,
): Promise<CryptoKey | null> {
  if (!creator) {
    checks.fail('key_fetched', 'verification.creator is missing');
    return null;
  }
  const issuerId = str(issuer.id);
  const listed = asArray(issuer.publicKey).map(refId);
  const cached = ctx.keyCache?.get(creator);
  let key: CryptoKey | null = cached?.key ?? null;
  let owner: string | null = cached?.owner ?? null;
  if (!cached) {
    try {
      const limits = JSON_LIMITS.document;
      const res = await ctx.fetcher(creator, { maxBytes: limits.maxChars });
      if (res.status < 200 || res.status >= 300) throw new Error(`${creator} answered HTTP ${res.status}`);
      if (res.body.length > limits.maxChars) throw new Error(`${creator} serves more than a key`);
      const text = Buffer.from(res.body).toString('utf8');
      let pem = text;
      if (!text.trimStart().startsWith('-----')) {
        const parsed = parseJsonWithin(text, limits);
        if (!parsed.ok) throw new Error(`key document ${creator} is ${parsed.reason}`);
        const doc = parsed.value;
        const problem = validateSchema(ob2KeySchema, doc);
        if (problem || !isRecord(doc)) throw new Error(`key document: ${problem}`);
        pem = String(doc.publicKeyPem);
        owner = str(doc.owner);
      } else if (issuer.legacy) {
        // A 1.0 key is bare PEM, owned by whoever controls the issuer's origin.
        owner = hostOf(creator) === hostOf(str(issuer.url)) ? issuerId : null;
      }
      key = await importPem(pem);
      checks.pass('key_fetched', `key ${creator} fetched`);
    } catch (err) {
      checks.fail('key_fetched', (err as Error).message);
      return null;
    }
  } else {
    checks.pass('key_fetched', `key ${creator} from cache`);
  }
  const ownerOk = owner !== null && owner === issuerId;
  const listedOk = issuer.legacy ? true : listed.includes(creator);
  if (!ownerOk || !listedOk) {
    checks.fail(
      'key_owned_by_issuer',
      !ownerOk
        ? `key owner ${owner ?? '(none)'} is not the issuer ${issuerId}`
        : `issuer does not list key ${creator}`,
    );
    return null;
  }
  checks.pass('key_owned_by_issuer', `key ${creator} belongs to ${issuerId}`);
  if (!cached && key && owner) ctx.keyCache?.set(creator, { key, owner });
  return key;
}
