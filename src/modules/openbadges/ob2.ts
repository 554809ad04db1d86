import { compactVerify } from 'jose';
import type { CheckList } from './checks.ts';
import { checkDates, checkRecipient, fetchJson } from './common.ts';
import { ob2EndorsementChecks } from './ob2-endorsements.ts';
import { loadNode, originCheck, refusedJwsHeader, signedKey, validateNode } from './ob2-nodes.ts';
import type { RecipientClaim } from './recipient.ts';
import { ob2AssertionSchema, validateSchema } from './schemas.ts';
import type { BadgeVersion, NormalizedBadge, Verdict, VerifyContext } from './types.ts';
import {
  asArray,
  canonicalJson,
  isHttpUrl,
  isRecord,
  type JsonRecord,
  refId,
  resolveUrl,
  sha256Hex,
  str,
  strings,
} from './util.ts';

const OB2_CONTEXTS = new Set(['https://w3id.org/openbadges/v2', 'https://openbadgespec.org/v2/context.json']);
const OB1_CONTEXT = 'https://w3id.org/openbadges/v1';
const EXTENSION_CONTEXT = /^https:\/\/w3id\.org\/openbadges\/extensions\/[A-Za-z0-9_-]+\/context\.json$/;
const OB2_CLASSES = new Set([
  'Assertion',
  'BadgeClass',
  'Issuer',
  'Profile',
  'AlignmentObject',
  'Criteria',
  'CryptographicKey',
  'Endorsement',
  'EndorsementClaim',
  'Evidence',
  'Extension',
  'IdentityObject',
  'Image',
  'RevocationList',
  'VerificationObject',
  'HostedBadge',
  'SignedBadge',
  'hosted',
  'signed',
]);

export type LegacyVersion = Exclude<BadgeVersion, '3.0'>;

export interface Ob2Source {
  format: 'json' | 'jws';
  text: string;
  /** URL the document was fetched from, when it was. */
  fetchedFrom: string | null;
  /** Compact JWS when the assertion arrived signed. */
  jws: string | null;
}

export type Ob2Outcome = Omit<Verdict, 'ok' | 'status' | 'statusReason' | 'checks' | 'image'> & {
  imageRefs: string[];
};

/** Tells 0.5, 1.0, 1.1 and 2.0 apart as the 1EdTech validator's upgrade step does. */
export function detectLegacyVersion(doc: JsonRecord): LegacyVersion {
  const contexts = asArray(doc['@context']);
  if (contexts.some((c) => typeof c === 'string' && OB2_CONTEXTS.has(c))) return '2.0';
  if (contexts.some((c) => c === OB1_CONTEXT)) return '1.1';
  if (isRecord(doc.verify)) return '1.0';
  if (typeof doc.recipient === 'string' && isRecord(doc.badge)) return '0.5';
  return '2.0';
}

/** Brings a 0.5/1.x assertion to the 2.0 shape so the rest of the pipeline is version-blind. */
function upgradeAssertion(doc: JsonRecord, version: LegacyVersion, fetchedFrom: string | null): JsonRecord {
  if (version === '2.0') return doc;
  if (version === '0.5') {
    const badge = isRecord(doc.badge) ? doc.badge : {};
    const issuer = isRecord(badge.issuer) ? badge.issuer : {};
    const origin = str(issuer.origin);
    const identity = str(doc.recipient) ?? '';
    return {
      id: fetchedFrom,
      type: 'Assertion',
      recipient: { type: 'email', hashed: identity.includes('$'), salt: str(doc.salt), identity },
      badge: {
        id: null,
        type: 'BadgeClass',
        legacy: true,
        name: badge.name,
        description: badge.description ?? '',
        image: resolveUrl(str(badge.image), origin),
        criteria: resolveUrl(str(badge.criteria), origin),
        issuer: {
          id: origin,
          type: 'Issuer',
          name: issuer.name ?? issuer.org,
          url: origin,
          email: issuer.contact,
        },
      },
      issuedOn: doc.issued_on ?? doc.issuedOn,
      expires: doc.expires,
      evidence: resolveUrl(str(doc.evidence), origin) ?? undefined,
      verification: { type: 'hosted' },
      legacyOrigin: origin,
    };
  }
  const verify = isRecord(doc.verify) ? doc.verify : {};
  const signed = verify.type === 'signed';
  return {
    ...doc,
    id: signed ? (str(doc.id) ?? str(doc.uid)) : (str(verify.url) ?? str(doc.id)),
    type: 'Assertion',
    verification: signed ? { type: 'signed', creator: str(verify.url) } : { type: 'hosted' },
    issuedOn: doc.issuedOn ?? doc.issued_on,
  };
}

function contextCheck(doc: JsonRecord, checks: CheckList): void {
  const contexts = asArray(doc['@context']);
  const bad = contexts.filter(
    (c) => !(isRecord(c) || (typeof c === 'string' && (OB2_CONTEXTS.has(c) || EXTENSION_CONTEXT.test(c)))),
  );
  if (contexts.length === 0 || bad.length > 0) {
    checks.fail('context_valid', `unknown @context ${bad.map(String).join(', ') || '(none)'}`);
  } else {
    checks.pass('context_valid');
  }
}

function typeCheck(doc: JsonRecord, checks: CheckList): string[] {
  const types = strings(doc.type);
  const unknown = types.filter((t) => !OB2_CLASSES.has(t) && !t.includes(':'));
  if (types.length === 0) checks.fail('type_valid', 'the document has no type');
  else if (unknown.length > 0) checks.fail('type_valid', `unknown type ${unknown.join(', ')}`);
  else checks.pass('type_valid');
  return types;
}

function extensionCheck(doc: JsonRecord, checks: CheckList): void {
  const problems: string[] = [];
  let seen = 0;
  for (const [key, value] of Object.entries(doc)) {
    if (!key.startsWith('extensions:') || !isRecord(value)) continue;
    seen++;
    const types = strings(value.type);
    // The two extensions published with the 2.0 spec; others are accepted as opaque data.
    if (types.some((t) => t.endsWith('ExampleExtension'))) {
      const v = value.exampleProperty ?? value['http://schema.org/text'];
      if (typeof v !== 'string') problems.push(`${key}: exampleProperty must be text`);
    }
    if (types.some((t) => t.endsWith('ApplyLink')) && typeof value.url !== 'string') {
      problems.push(`${key}: url must be a URL`);
    }
  }
  if (problems.length) checks.fail('extension_valid', problems.join('; '));
  else if (seen) checks.pass('extension_valid');
}

async function revocationListCheck(
  issuer: JsonRecord,
  ids: (string | null)[],
  ctx: VerifyContext,
  checks: CheckList,
): Promise<void> {
  const url = str(issuer.revocationList);
  if (!url) {
    checks.pass('not_revoked', 'the issuer publishes no revocation list');
    return;
  }
  const res = await fetchJson(ctx.fetcher, url, 'statusList');
  if (!res.ok || !isRecord(res.doc)) {
    checks.fail('revocation_unchecked', res.ok ? `revocation list ${url} is not a JSON object` : res.reason);
    return;
  }
  const wanted = ids.filter((x): x is string => !!x);
  const list = res.doc;
  if (Array.isArray(list.revokedAssertions)) {
    for (const entry of list.revokedAssertions) {
      const entryIds = isRecord(entry) ? [str(entry.id), str(entry.uid)] : [str(entry)];
      if (entryIds.some((e) => e !== null && wanted.includes(e))) {
        const reason = isRecord(entry) ? str(entry.revocationReason) : null;
        checks.fail('revoked', `revoked by the issuer${reason ? `: ${reason}` : ''}`);
        return;
      }
    }
  } else {
    // 1.0 lists were a map of uid to reason.
    for (const id of wanted) {
      if (id in list) {
        checks.fail('revoked', `revoked by the issuer: ${String(list[id])}`);
        return;
      }
    }
  }
  checks.pass('not_revoked', 'not on the issuer’s revocation list');
}

function recipientClaims(assertion: JsonRecord): RecipientClaim[] {
  const r = assertion.recipient;
  if (!isRecord(r) || typeof r.identity !== 'string') return [];
  return [
    { identity: r.identity, hashed: r.hashed === true, salt: str(r.salt), type: str(r.type) ?? 'email' },
  ];
}

function normalize(
  assertion: JsonRecord,
  badge: JsonRecord | null,
  issuer: JsonRecord | null,
  dates: { issued: Date | null; expires: Date | null },
): NormalizedBadge | null {
  if (!badge || !issuer || !dates.issued) return null;
  const criteria = badge.criteria;
  const image = badge.image;
  return {
    name: str(badge.name) ?? '',
    description: str(badge.description) ?? '',
    imageUrl: refId(image),
    criteriaUrl: isRecord(criteria) ? str(criteria.id) : str(criteria),
    criteriaNarrative: isRecord(criteria) ? str(criteria.narrative) : null,
    issuer: {
      id: str(issuer.id) ?? '',
      name: str(issuer.name) ?? '',
      url: str(issuer.url),
      email: str(issuer.email),
      imageUrl: refId(issuer.image),
    },
    badgeClassId: str(badge.id),
    issuedOn: dates.issued.toISOString(),
    expires: dates.expires ? dates.expires.toISOString() : null,
    evidence: asArray(assertion.evidence).map((e) =>
      isRecord(e)
        ? {
            id: str(e.id)?.startsWith('_:') ? null : str(e.id),
            narrative: str(e.narrative),
            name: str(e.name),
            description: str(e.description),
          }
        : { id: str(e), narrative: null, name: null, description: null },
    ),
    narrative: str(assertion.narrative),
    tags: strings(badge.tags),
    alignments: asArray(badge.alignment)
      .filter(isRecord)
      .map((a) => ({
        targetName: str(a.targetName) ?? str(a.name) ?? '',
        targetUrl: str(a.targetUrl) ?? str(a.url),
        targetDescription: str(a.targetDescription) ?? str(a.description),
        targetFramework: str(a.targetFramework),
        targetCode: str(a.targetCode),
      })),
  };
}

/** A 2.0 document that is not an Assertion (BadgeClass, Issuer, …): checked for shape, never kept. */
async function verifyOtherClass(
  doc: JsonRecord,
  types: string[],
  ctx: VerifyContext,
  checks: CheckList,
): Promise<void> {
  const name = types[0] ?? 'node';
  if (types.includes('Endorsement')) {
    checks.warn(
      'endorsement_not_award',
      'the input is an Endorsement, not an Assertion; it is not an award to keep',
    );
    return;
  }
  checks.warn('not_an_assertion', `the input is a ${name}, not an Assertion; there is nothing to keep`);
  if (types.includes('BadgeClass')) {
    if (validateNode(doc, checks, 'badge_class_fetched')) {
      const issuer = await loadNode(doc.issuer, ctx, checks, 'issuer_fetched', 'Issuer');
      if (issuer) {
        const issuerTypes = strings(issuer.type);
        if (!issuerTypes.includes('Issuer') && !issuerTypes.includes('Profile')) {
          checks.fail('issuer_fetched', `issuer has type ${issuerTypes.join(', ') || '(none)'}`);
        } else {
          validateNode(issuer, checks, 'issuer_fetched');
        }
      }
    }
  } else if (types.includes('Issuer') || types.includes('Profile')) {
    validateNode(doc, checks, 'issuer_fetched');
  }
}

/** Verifies an OB 0.5–2.0 assertion (hosted or signed) and normalizes it. */
export async function verifyLegacy(
  input: JsonRecord,
  source: Ob2Source,
  ctx: VerifyContext,
  checks: CheckList,
): Promise<Ob2Outcome> {
  const version = detectLegacyVersion(input);
  const outcome: Ob2Outcome = {
    version,
    assertionId: null,
    recipient: null,
    badge: null,
    original: { format: source.format, text: source.text },
    imageRefs: [],
  };
  if (version === '2.0') {
    contextCheck(input, checks);
    const types = typeCheck(input, checks);
    if (!types.includes('Assertion')) {
      if (!checks.failed()) await verifyOtherClass(input, types, ctx, checks);
      return outcome;
    }
    if (checks.failed()) return outcome;
  }
  let assertion = upgradeAssertion(input, version, source.fetchedFrom);
  const verificationType = isRecord(assertion.verification) ? str(assertion.verification.type) : null;
  const signed = verificationType === 'signed' || verificationType === 'SignedBadge';

  if (signed) {
    if (!source.jws) {
      checks.fail('signature_valid', 'a signed assertion must be submitted as its JWS');
      return outcome;
    }
  } else if (source.jws) {
    checks.fail('signature_valid', 'the JWS carries an assertion whose verification type is not signed');
    return outcome;
  } else {
    const id = str(assertion.id);
    if (!id || !isHttpUrl(id)) {
      checks.fail('hosted_fetched', 'a hosted assertion needs an HTTP(S) id to be fetched from');
      return outcome;
    }
    if (source.fetchedFrom === id) {
      checks.pass('hosted_fetched', `fetched from its id ${id}`);
    } else {
      const res = await fetchJson(ctx.fetcher, id);
      if (!res.ok && res.status === 410) {
        checks.fail('revoked', `${id} answered 410 Gone`);
        return { ...outcome, assertionId: id };
      }
      if (!res.ok || !isRecord(res.doc)) {
        checks.fail('hosted_fetched', res.ok ? `${id} is not a JSON object` : res.reason);
        return outcome;
      }
      const fetched = upgradeAssertion(res.doc, detectLegacyVersion(res.doc), id);
      if (str(fetched.id) !== id) {
        checks.fail('hosted_fetched', `${id} serves an assertion with another id`);
        return outcome;
      }
      assertion = fetched;
      outcome.original = { format: 'json', text: res.text };
      checks.pass('hosted_fetched', `fetched from its id ${id}`);
    }
    if (assertion.revoked === true) {
      checks.fail(
        'revoked',
        `revoked by the issuer${str(assertion.revocationReason) ? `: ${str(assertion.revocationReason)}` : ''}`,
      );
    }
  }

  const problem = validateSchema(ob2AssertionSchema, assertion);
  if (problem) checks.fail('structure_valid', `assertion: ${problem}`);
  else checks.pass('structure_valid');
  extensionCheck(assertion, checks);

  const assertionImage = refId(assertion.image);
  if (assertionImage?.startsWith('data:')) {
    checks.fail('image_valid', 'an Assertion image must be a URL, not a data: URI');
  }

  let badge = await loadNode(assertion.badge, ctx, checks, 'badge_class_fetched', 'BadgeClass');
  if (badge && !validateNode(badge, checks, 'badge_class_fetched')) badge = null;
  let issuer = badge ? await loadNode(badge.issuer, ctx, checks, 'issuer_fetched', 'Issuer') : null;
  if (issuer && !validateNode(issuer, checks, 'issuer_fetched')) issuer = null;
  if (issuer && !issuer.legacy && !assertion.legacyOrigin) {
    if (isHttpUrl(str(issuer.id))) checks.pass('issuer_id_http');
    else checks.warn('issuer_id_http', `issuer id ${String(issuer.id)} is not an HTTP URL`);
  }

  const id = str(assertion.id);
  if (issuer) {
    if (signed && source.jws) {
      const refused = refusedJwsHeader(source.jws);
      if (refused) {
        checks.fail('signature_algorithm_refused', refused);
      } else {
        const creator = isRecord(assertion.verification) ? str(assertion.verification.creator) : null;
        const key = await signedKey(creator, issuer, ctx, checks);
        if (key) {
          try {
            await compactVerify(source.jws, key, { algorithms: ['RS256'] });
            checks.pass('signature_valid', 'RS256 signature verifies with the issuer key');
          } catch {
            checks.fail('signature_valid', 'the signature does not verify');
          }
        }
      }
      await revocationListCheck(issuer, [id, str(assertion.uid)], ctx, checks);
    } else if (id) {
      originCheck(id, issuer, str(assertion.legacyOrigin), checks);
      if (!checks.has('revoked', 'failed')) checks.pass('not_revoked', 'the hosted assertion is not revoked');
    }
  }

  const dates = checkDates(checks, ctx, assertion.issuedOn, assertion.expires);
  outcome.recipient = checkRecipient(checks, ctx, recipientClaims(assertion));
  const normalized = normalize(assertion, badge, issuer, dates);
  // Last, so the endorsements' fetches never come before the badge's own.
  outcome.badge = normalized
    ? { ...normalized, endorsements: await ob2EndorsementChecks([assertion, badge, issuer], ctx, checks) }
    : null;
  outcome.assertionId =
    signed || !id
      ? id && checks.has('signature_valid', 'passed')
        ? id
        : `sha256:${sha256Hex(canonicalJson(assertion))}`
      : id;
  const badgeImage = refId(badge?.image);
  // An assertion's own image may only be a URL; a BadgeClass may embed a data: URI.
  outcome.imageRefs = [
    assertionImage && isHttpUrl(assertionImage) ? assertionImage : null,
    badgeImage && (isHttpUrl(badgeImage) || badgeImage.startsWith('data:image/')) ? badgeImage : null,
  ].filter((x): x is string => x !== null);
  return outcome;
}
