import type { KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { CheckList } from './checks.ts';
import { checkDates, checkRecipient, fetchJson } from './common.ts';
import { cryptosuiteOf, verifyProof } from './cryptosuites.ts';
import { KeyResolver, keyFromJwk } from './did.ts';
import { knownContext, OB3_CURRENT_CONTEXT, ob3Context } from './jsonld-loader.ts';
import { checkEntryCounts } from './limits.ts';
import type { Ob2Outcome } from './ob2.ts';
import type { RecipientClaim } from './recipient.ts';
import { ob3AchievementCredentialSchema, ob3EndorsementCredentialSchema, validateSchema } from './schemas.ts';
import type { NormalizedBadge, NormalizedEndorsement, VerifyContext } from './types.ts';
import {
  asArray,
  canonicalJson,
  isHttpUrl,
  isRecord,
  type JsonRecord,
  parseDate,
  refId,
  sha256Hex,
  str,
  strings,
} from './util.ts';

const VC_V1 = 'https://www.w3.org/2018/credentials/v1';
const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const CANONICAL_SCHEMA = /^https:\/\/purl\.imsglobal\.org\/spec\/ob\/v3p0\/schema\/json\//;
const MAX_STATUS_LIST_BYTES = 16 * 1024 * 1024;

export function isVerifiableCredential(doc: JsonRecord): boolean {
  return (
    asArray(doc['@context']).some((c) => c === VC_V1 || c === VC_V2) ||
    strings(doc.type).includes('VerifiableCredential')
  );
}

function contextChecks(doc: JsonRecord, checks: CheckList): boolean {
  const contexts = asArray(doc['@context']);
  const first = contexts[0];
  if (first !== VC_V2 && first !== VC_V1) {
    checks.fail('context_valid', `the first @context must be ${VC_V2}`);
    return false;
  }
  const ob = contexts.find((c): c is string => ob3Context(c) !== null);
  if (!ob) {
    checks.fail('context_valid', 'the Open Badges 3.0 context is missing');
    return false;
  }
  const unknown = contexts.filter((c) => typeof c === 'string' && !knownContext(c));
  if (unknown.length) {
    checks.fail('context_valid', `unknown context ${unknown.join(', ')} (contexts are never fetched)`);
    return false;
  }
  if (first === VC_V1 || ob !== OB3_CURRENT_CONTEXT) {
    checks.warn(
      'context_valid',
      `outdated context (${first === VC_V1 ? 'VCDM 1.1' : ob}); current is VCDM 2.0 with ${OB3_CURRENT_CONTEXT}`,
    );
  } else {
    checks.pass('context_valid');
  }
  return true;
}

async function proofChecks(
  doc: JsonRecord,
  ctx: VerifyContext,
  checks: CheckList,
  issuerId: string | null,
): Promise<void> {
  const proofs = asArray(doc.proof).filter(isRecord);
  const keys = new KeyResolver(ctx);
  if (proofs.length === 0) {
    checks.fail('proof_valid', 'the credential has no proof');
    return;
  }
  for (const proof of proofs) {
    const type = str(proof.type);
    const suite = str(proof.cryptosuite);
    if (!cryptosuiteOf(proof)) {
      checks.fail(
        'proof_unsupported',
        `proof ${type ?? '(no type)'}${suite ? `/${suite}` : ''} is not verified by this service`,
      );
      continue;
    }
    const vm = str(proof.verificationMethod);
    if (!vm) {
      checks.fail('proof_valid', 'the proof has no verificationMethod');
      continue;
    }
    if (proof.proofPurpose !== 'assertionMethod') {
      checks.fail('proof_valid', `proof purpose ${String(proof.proofPurpose)} is not assertionMethod`);
      continue;
    }
    const resolved = await keys.method(vm);
    if (typeof resolved === 'string') {
      checks.fail('key_owned_by_issuer', `no issuer document confirms ${vm}`);
      checks.fail('proof_valid', resolved);
      continue;
    }
    const vouched = await keys.vouch(issuerId, resolved.key);
    if (vouched.ok) checks.pass('key_owned_by_issuer', `key ${vm}: ${vouched.how}`);
    else checks.fail('key_owned_by_issuer', `key ${vm}: ${vouched.reason}`);
    const result = await verifyProof(doc, proof, resolved.key);
    checks.add('proof_valid', result.verified ? 'passed' : 'failed', result.reason);
  }
}

function bitAt(encodedList: string, index: number): boolean | null {
  // Bitstring Status List: multibase base64url ('u') of a GZIP'd bitstring, most significant bit first.
  const b64 = encodedList.startsWith('u') ? encodedList.slice(1) : encodedList;
  let bits: Buffer;
  try {
    bits = gunzipSync(Buffer.from(b64, 'base64url'), { maxOutputLength: MAX_STATUS_LIST_BYTES });
  } catch {
    return null;
  }
  const byte = bits[Math.floor(index / 8)];
  if (byte === undefined) return null;
  return ((byte >> (7 - (index % 8))) & 1) === 1;
}

const STATUS_LIST_TYPES = ['BitstringStatusListCredential', 'StatusList2021Credential'];

type StatusList =
  | { ok: true; subject: JsonRecord; distrust: string | null; publisher: string | null }
  | { ok: false; reason: string };

/**
 * A status list credential as fetched, with why it cannot be trusted (null when it can): its
 * own proof must verify with a key its issuer vouches for, and it must still be current. A list
 * published by another issuer than the credential's (a status service the issuer delegates to,
 * as Digital Credentials Consortium issuers do) is trusted on the same terms, and named.
 */
async function fetchStatusList(url: string, ctx: VerifyContext): Promise<StatusList> {
  const res = await fetchJson(ctx.fetcher, url, 'statusList');
  if (!res.ok) return { ok: false, reason: res.reason };
  const list = res.doc;
  if (!isRecord(list) || !strings(list.type).some((t) => STATUS_LIST_TYPES.includes(t))) {
    return { ok: false, reason: `${url} is not a status list credential` };
  }
  const subject = asArray(list.credentialSubject).find(isRecord);
  if (!subject) return { ok: false, reason: `status list ${url} has no credentialSubject` };
  const publisher = refId(list.issuer);
  const own = new CheckList();
  await proofChecks(list, ctx, own, publisher);
  const broken = own.items.find((c) => c.status === 'failed');
  const until = parseDate(list.validUntil ?? list.expirationDate);
  let distrust: string | null = null;
  if (broken || !own.has('proof_valid', 'passed')) {
    distrust = `its own proof is not verifiable: ${broken?.message ?? 'no proof verifies'}`;
  } else if (until && until.getTime() <= ctx.now().getTime()) {
    distrust = `it expired on ${until.toISOString()}`;
  }
  return { ok: true, subject, distrust, publisher };
}

/**
 * Revocation and suspension. Every declared mechanism must be checked: a list that cannot be
 * fetched or trusted fails `revocation_unchecked`, which leaves the badge unverified, never valid.
 * Only "not revoked" needs a trusted list: a set bit revokes even in a list whose proof cannot be
 * verified, since believing it can only keep a badge from being shown as valid.
 */
async function statusChecks(doc: JsonRecord, ctx: VerifyContext, checks: CheckList): Promise<void> {
  const statuses = asArray(doc.credentialStatus).filter(isRecord);
  if (statuses.length === 0) {
    checks.pass('not_revoked', 'the credential declares no status mechanism');
    return;
  }
  const credentialId = str(doc.id);
  const issuerId = refId(doc.issuer);
  for (const status of statuses) {
    const type = str(status.type);
    if (type === '1EdTechRevocationList') {
      const url = str(status.id);
      const res = url ? await fetchJson(ctx.fetcher, url, 'statusList') : null;
      if (!res?.ok || !isRecord(res.doc)) {
        checks.fail(
          'revocation_unchecked',
          !res ? 'the revocation list has no URL' : !res.ok ? res.reason : `${url} is not a revocation list`,
        );
        continue;
      }
      const hit = asArray(res.doc.revokedCredential)
        .filter(isRecord)
        .find((e) => str(e.id) === credentialId && e.revoked !== false);
      if (hit)
        checks.fail(
          'revoked',
          `revoked by the issuer${str(hit.revocationReason) ? `: ${str(hit.revocationReason)}` : ''}`,
        );
      else checks.pass('not_revoked', 'not on the issuer’s revocation list');
    } else if (type === 'BitstringStatusListEntry' || type === 'StatusList2021Entry') {
      const url = str(status.statusListCredential);
      const index = Number(status.statusListIndex);
      const purpose = str(status.statusPurpose) ?? 'revocation';
      if (!url || !Number.isInteger(index) || index < 0) {
        checks.fail('revocation_unchecked', 'the status entry names no list or no valid index');
        continue;
      }
      const list = await fetchStatusList(url, ctx);
      if (!list.ok) {
        checks.fail('revocation_unchecked', list.reason);
        continue;
      }
      const listPurposes = strings(list.subject.statusPurpose);
      const encoded = str(list.subject.encodedList);
      const bit = encoded ? bitAt(encoded, index) : null;
      const by =
        list.publisher && list.publisher !== issuerId
          ? ` (published by ${list.publisher} for the issuer)`
          : '';
      if (listPurposes.length > 0 && !listPurposes.includes(purpose)) {
        checks.fail(
          'revocation_unchecked',
          `status list ${url} is for ${listPurposes.join(', ')}, not ${purpose}`,
        );
      } else if (bit === null) {
        checks.fail('revocation_unchecked', `status list ${url} is unreadable at index ${index}`);
      } else if (bit) {
        checks.fail(
          'revoked',
          `${purpose === 'suspension' ? 'suspended' : 'revoked'} by the issuer${by}${list.distrust ? `, says a list whose ${list.distrust}` : ''}`,
        );
      } else if (list.distrust) {
        checks.fail('revocation_unchecked', `status list ${url} cannot be trusted: ${list.distrust}`);
      } else {
        checks.pass('not_revoked', `status list bit is clear${by}`);
      }
    } else {
      checks.warn('credential_status_unsupported', `status type ${type ?? '(none)'} is not checked`);
    }
  }
}

/** Embedded EndorsementCredentials anywhere in the credential (issuer, achievement, top level). */
function embeddedEndorsements(node: unknown, depth = 0, out: JsonRecord[] = []): JsonRecord[] {
  if (depth > 8 || out.length > 50) return out;
  if (Array.isArray(node)) for (const n of node) embeddedEndorsements(n, depth + 1, out);
  else if (isRecord(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'endorsement') out.push(...asArray(v).filter(isRecord));
      else if (k !== 'proof') embeddedEndorsements(v, depth + 1, out);
    }
  }
  return out;
}

const MAX_ENDORSEMENTS = 20;

/**
 * An embedded EndorsementCredential judged on its own: its shape, its proof (by a key its own
 * issuer vouches for, resolved as for any credential) and its dates. Its verdict is shown with
 * the badge; it never changes the badge's own.
 */
async function verifyEndorsement(e: JsonRecord, ctx: VerifyContext): Promise<NormalizedEndorsement> {
  const own = new CheckList();
  const endorserNode = isRecord(e.issuer) ? e.issuer : {};
  const endorserId = refId(e.issuer);
  const subject = asArray(e.credentialSubject).find(isRecord) ?? {};
  if (!strings(e.type).includes('EndorsementCredential')) {
    own.fail('type_valid', `type ${strings(e.type).join(', ') || '(none)'} is not an EndorsementCredential`);
  } else {
    const problem = validateSchema(ob3EndorsementCredentialSchema, e);
    if (problem) own.fail('structure_valid', problem);
    else {
      await proofChecks(e, ctx, own, endorserId);
      checkDates(own, ctx, e.validFrom ?? e.issuanceDate, e.validUntil ?? e.expirationDate);
    }
  }
  const failed = own.items.filter((c) => c.status === 'failed');
  const verdict =
    failed.length === 0 ? 'valid' : failed.every((c) => c.code === 'expired') ? 'expired' : 'invalid';
  return {
    id: str(e.id),
    endorser: { id: endorserId ?? '', name: str(endorserNode.name) },
    claim: str(subject.endorsementComment),
    endorsedId: str(subject.id),
    issuedOn: str(e.validFrom) ?? str(e.issuanceDate),
    verdict,
    problems: failed.map((c) => `${c.code}: ${c.message}`),
  };
}

/** Every embedded endorsement verified, with one check summing them up. */
async function endorsementChecks(
  doc: JsonRecord,
  ctx: VerifyContext,
  checks: CheckList,
): Promise<NormalizedEndorsement[]> {
  const found = embeddedEndorsements(doc);
  if (found.length === 0) return [];
  const judged: NormalizedEndorsement[] = [];
  for (const e of found.slice(0, MAX_ENDORSEMENTS)) judged.push(await verifyEndorsement(e, ctx));
  const good = judged.filter((e) => e.verdict === 'valid').length;
  const summary = `${good} of ${found.length} endorsement${found.length === 1 ? '' : 's'} verify${found.length > MAX_ENDORSEMENTS ? ` (only the first ${MAX_ENDORSEMENTS} were checked)` : ''}`;
  if (good === found.length) checks.pass('endorsements_verified', summary);
  else checks.warn('endorsements_verified', summary);
  return judged;
}

async function schemaRefs(doc: JsonRecord, ctx: VerifyContext, checks: CheckList): Promise<void> {
  const schemas = [doc, ...embeddedEndorsements(doc)].flatMap((d) =>
    asArray(d.credentialSchema).filter(isRecord),
  );
  for (const s of schemas) {
    const url = str(s.id);
    // 1EdTech's published schemas are what this module's own schemas implement; only others are fetched.
    if (!url || CANONICAL_SCHEMA.test(url)) continue;
    const res = await fetchJson(ctx.fetcher, url);
    if (!res.ok) checks.fail('structure_valid', `credentialSchema ${url} is unreachable`);
  }
}

function recipientClaims(subject: JsonRecord): RecipientClaim[] {
  const claims: RecipientClaim[] = asArray(subject.identifier)
    .filter(isRecord)
    .filter((i) => typeof i.identityHash === 'string')
    .map((i) => ({
      identity: String(i.identityHash),
      hashed: i.hashed === true,
      salt: str(i.salt),
      type: str(i.identityType) ?? 'emailAddress',
    }));
  const id = str(subject.id);
  if (id?.startsWith('mailto:')) claims.push({ identity: id.slice(7), hashed: false, type: 'email' });
  if (id?.startsWith('did:')) claims.push({ identity: id, hashed: false, type: 'did' });
  return claims;
}

function normalize(
  doc: JsonRecord,
  subject: JsonRecord,
  issued: Date | null,
  expires: Date | null,
): NormalizedBadge | null {
  const achievement = asArray(subject.achievement).find(isRecord) ?? null;
  if (!issued) return null;
  const issuer = isRecord(doc.issuer) ? doc.issuer : { id: doc.issuer };
  const criteria = achievement && isRecord(achievement.criteria) ? achievement.criteria : {};
  return {
    name: str(achievement?.name) ?? str(doc.name) ?? '',
    description: str(achievement?.description) ?? str(doc.description) ?? '',
    imageUrl: refId(achievement?.image) ?? refId(doc.image),
    criteriaUrl: str(criteria.id),
    criteriaNarrative: str(criteria.narrative),
    issuer: {
      id: str(issuer.id) ?? '',
      name: str(issuer.name) ?? '',
      url: str(issuer.url),
      email: str(issuer.email),
      imageUrl: refId(issuer.image),
    },
    badgeClassId: str(achievement?.id),
    issuedOn: issued.toISOString(),
    expires: expires ? expires.toISOString() : null,
    evidence: asArray(doc.evidence)
      .filter(isRecord)
      .map((e) => ({
        id: str(e.id),
        narrative: str(e.narrative),
        name: str(e.name),
        description: str(e.description),
      })),
    narrative: str(subject.narrative),
    tags: strings(achievement?.tag),
    alignments: asArray(achievement?.alignment)
      .filter(isRecord)
      .map((a) => ({
        targetName: str(a.targetName) ?? '',
        targetUrl: str(a.targetUrl),
        targetDescription: str(a.targetDescription),
        targetFramework: str(a.targetFramework),
        targetCode: str(a.targetCode),
      })),
  };
}

/** Shared by JSON credentials (proof) and VC-JWTs (signature checked before, `proofChecked` true). */
async function verifyBody(
  doc: JsonRecord,
  source: { format: 'json' | 'vc-jwt'; text: string },
  ctx: VerifyContext,
  checks: CheckList,
  signatureVerified: boolean | null,
): Promise<Ob2Outcome> {
  const outcome: Ob2Outcome = {
    version: '3.0',
    assertionId: null,
    recipient: null,
    badge: null,
    original: { format: source.format, text: source.text },
    imageRefs: [],
  };
  const types = strings(doc.type);
  const endorsement = types.includes('EndorsementCredential');
  if (
    !types.includes('VerifiableCredential') ||
    !(types.includes('OpenBadgeCredential') || types.includes('AchievementCredential') || endorsement)
  ) {
    checks.fail('type_valid', `type ${types.join(', ')} is not an OpenBadgeCredential`);
    return outcome;
  }
  checks.pass('type_valid');
  if (!contextChecks(doc, checks)) return outcome;
  const schema = endorsement ? ob3EndorsementCredentialSchema : ob3AchievementCredentialSchema;
  const normalizedTypes =
    types.includes('AchievementCredential') && !types.includes('OpenBadgeCredential')
      ? { ...doc, type: [...types, 'OpenBadgeCredential'] }
      : doc;
  const problem = validateSchema(schema, normalizedTypes);
  if (problem) {
    checks.fail('structure_valid', problem);
    return outcome;
  }
  checks.pass('structure_valid');
  if (!checkEntryCounts(doc, checks)) return outcome;
  await schemaRefs(doc, ctx, checks);
  const issuerId = refId(doc.issuer);
  if (signatureVerified === null) await proofChecks(doc, ctx, checks, issuerId);
  await statusChecks(doc, ctx, checks);
  const dates = checkDates(
    checks,
    ctx,
    doc.validFrom ?? doc.issuanceDate,
    doc.validUntil ?? doc.expirationDate,
  );
  // One subject or several: the one holding the achievement is the award.
  const subjects = asArray(doc.credentialSubject).filter(isRecord);
  const subject = subjects.find((s) => asArray(s.achievement).some(isRecord)) ?? subjects[0] ?? {};
  if (endorsement) {
    checks.warn(
      'endorsement_not_award',
      'an EndorsementCredential endorses something else; it is not an award to keep',
    );
  } else {
    outcome.recipient = checkRecipient(checks, ctx, recipientClaims(subject));
    const refresh = asArray(doc.refreshService)
      .filter(isRecord)
      .find((r) => str(r.type) === '1EdTechCredentialRefresh' && isHttpUrl(str(r.id)));
    outcome.refreshUrl = refresh ? str(refresh.id) : null;
    const endorsements = await endorsementChecks(doc, ctx, checks);
    const badge = normalize(doc, subject, dates.issued, dates.expires);
    outcome.badge = badge ? { ...badge, endorsements } : null;
  }
  // A credential id is trusted only from a signature by a key its issuer vouches for.
  const verified =
    (checks.has('proof_valid', 'passed') || checks.has('signature_valid', 'passed')) &&
    !checks.has('key_owned_by_issuer', 'failed');
  const id = str(doc.id);
  outcome.assertionId = id && verified ? id : `sha256:${sha256Hex(canonicalJson(doc))}`;
  const achievement = asArray(subject.achievement).find(isRecord) ?? {};
  const image = refId(achievement.image) ?? refId(doc.image);
  if (image && (isHttpUrl(image) || image.startsWith('data:image/'))) outcome.imageRefs = [image];
  return outcome;
}

export function verifyCredential(
  doc: JsonRecord,
  source: { format: 'json' | 'vc-jwt'; text: string },
  ctx: VerifyContext,
  checks: CheckList,
): Promise<Ob2Outcome> {
  return verifyBody(doc, source, ctx, checks, null);
}

const VC_JWT_ALGS = ['EdDSA', 'ES256', 'ES384', 'RS256'];

/** A JWT NumericDate (seconds since the epoch) as a date; null for anything else or out of range. */
function numericDate(x: unknown): Date | null {
  if (typeof x !== 'number' || !Number.isFinite(x)) return null;
  const date = new Date(x * 1000);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * The registered claims of a VC-JWT must agree with the credential they carry, and its validity
 * window binds like the credential's own dates (a token past `exp` is expired, one before `nbf`
 * is not valid yet).
 */
function jwtClaimChecks(
  payload: JsonRecord,
  vc: JsonRecord,
  ctx: VerifyContext,
  checks: CheckList,
): Date | null {
  const problems: string[] = [];
  const issuerId = refId(vc.issuer);
  if (payload.iss !== undefined && issuerId !== null && payload.iss !== issuerId) {
    problems.push(`iss ${JSON.stringify(payload.iss)} is not the issuer ${issuerId}`);
  }
  const id = str(vc.id);
  if (payload.jti !== undefined && id !== null && payload.jti !== id) {
    problems.push(`jti ${JSON.stringify(payload.jti)} is not the credential id ${id}`);
  }
  const subjectIds = asArray(vc.credentialSubject)
    .filter(isRecord)
    .map((s) => str(s.id))
    .filter((s): s is string => s !== null);
  if (payload.sub !== undefined && subjectIds.length > 0 && !subjectIds.includes(payload.sub as string)) {
    problems.push(`sub ${JSON.stringify(payload.sub)} is not the subject ${subjectIds.join(', ')}`);
  }
  const dates: Record<'exp' | 'nbf' | 'iat', Date | null> = { exp: null, nbf: null, iat: null };
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (payload[claim] === undefined) continue;
    dates[claim] = numericDate(payload[claim]);
    if (!dates[claim]) problems.push(`${claim} is not a NumericDate`);
  }
  const now = ctx.now().getTime();
  if (dates.exp && dates.exp.getTime() <= now && !checks.has('expired', 'failed')) {
    checks.fail('expired', `the token expired (exp) on ${dates.exp.toISOString()}`);
  }
  if (dates.nbf && dates.nbf.getTime() > now && !checks.has('issued_in_future', 'failed')) {
    checks.fail('issued_in_future', `the token is not valid before (nbf) ${dates.nbf.toISOString()}`);
  }
  if (problems.length) checks.fail('jwt_claims_valid', problems.join('; '));
  else checks.pass('jwt_claims_valid');
  return dates.exp;
}

/** VC-JWT (VCDM 1.1 `vc` claim, or a VCDM 2.0 payload), signed with a key its issuer vouches for. */
export async function verifyVcJwt(
  jwt: string,
  payload: JsonRecord,
  ctx: VerifyContext,
  checks: CheckList,
): Promise<Ob2Outcome> {
  const vc = isRecord(payload.vc) ? { ...payload.vc } : { ...payload };
  if (isRecord(payload.vc)) {
    // Registered claims stand in for the VCDM 1.1 properties they replace.
    if (!vc.issuer && typeof payload.iss === 'string') vc.issuer = payload.iss;
    if (!vc.id && typeof payload.jti === 'string') vc.id = payload.jti;
    const nbf = numericDate(payload.nbf);
    const exp = numericDate(payload.exp);
    if (!vc.issuanceDate && !vc.validFrom && nbf) vc.issuanceDate = nbf.toISOString();
    if (!vc.expirationDate && !vc.validUntil && exp) vc.expirationDate = exp.toISOString();
  }
  const body = async (verified: boolean) => {
    const outcome = await verifyBody(vc, { format: 'vc-jwt', text: jwt }, ctx, checks, verified);
    const exp = jwtClaimChecks(payload, vc, ctx, checks);
    const expires = outcome.badge?.expires ? new Date(outcome.badge.expires) : null;
    if (outcome.badge && exp && (!expires || exp < expires)) outcome.badge.expires = exp.toISOString();
    return outcome;
  };
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(jwt) as Record<string, unknown>;
  } catch {
    checks.fail('signature_valid', 'unreadable JWT header');
    return body(false);
  }
  const alg = String(header.alg);
  const refusedHeader = ['jku', 'x5u', 'x5c', 'crit'].find((h) => h in header);
  if (!VC_JWT_ALGS.includes(alg) || refusedHeader) {
    checks.fail(
      'signature_algorithm_refused',
      refusedHeader ? `header ${refusedHeader} is refused` : `algorithm ${alg} is refused`,
    );
    return body(false);
  }
  const keys = new KeyResolver(ctx);
  const issuerId = refId(vc.issuer);
  const kid = str(header.kid);
  let key: KeyObject | null = null;
  if (kid) {
    // A relative kid names a method of the issuer's own document.
    const methodId = kid.startsWith('#') ? (issuerId ? `${issuerId}${kid}` : null) : kid;
    const resolved = methodId
      ? await keys.method(methodId)
      : `kid ${kid} is relative and there is no issuer id`;
    if (typeof resolved === 'string') checks.fail('key_fetched', resolved);
    else {
      key = resolved.key;
      checks.pass('key_fetched', `key ${resolved.id} resolved`);
    }
  } else if (header.jwk !== undefined) {
    key = keyFromJwk(header.jwk);
    if (key) checks.pass('key_fetched', 'the key travels in the token header');
    else checks.fail('key_fetched', 'the header jwk is not a usable public key');
  } else {
    checks.fail('key_fetched', 'the token names no key (kid or jwk)');
  }
  if (!key) {
    checks.fail('key_owned_by_issuer', 'no key to check against the issuer');
    return body(false);
  }
  // Whatever the token names or carries, only the issuer's own document makes the key the issuer's.
  const vouched = await keys.vouch(issuerId, key);
  if (vouched.ok) checks.pass('key_owned_by_issuer', vouched.how);
  else checks.fail('key_owned_by_issuer', vouched.reason);
  let verified = false;
  try {
    await compactVerify(jwt, key, { algorithms: [alg] });
    verified = true;
    checks.pass('signature_valid', `${alg} signature verifies`);
  } catch {
    checks.fail('signature_valid', 'the signature does not verify');
  }
  return body(verified);
}
