import type { Check, CheckStatus } from './types.ts';

/**
 * Every check code a verdict can carry, with its meaning. The HTTP contract documents this table, so codes
 * are stable: add new ones, never rename.
 */
export const CHECK_CODES = {
  input_parsed: 'The input could be read as an assertion, credential, signed token or baked image.',
  not_an_assertion:
    'The input is a valid Open Badges document of another class (BadgeClass, Issuer, …) and cannot be kept as an award.',
  context_valid: 'The JSON-LD @context is one the version in use defines.',
  type_valid: 'The document types are known classes of the version in use.',
  structure_valid: "The document has the shape the version's schema requires.",
  id_matches_source: 'A fetched document declares the id it was fetched from.',
  hosted_fetched: 'A hosted assertion was fetched from its own id (the issuer’s copy is authoritative).',
  hosted_origin_allowed:
    "The hosted assertion's URL is allowed by the issuer (allowedOrigins, startsWith, or same host).",
  badge_class_fetched: 'The BadgeClass was fetched or embedded and is well formed.',
  issuer_fetched: 'The issuer profile was fetched or embedded and is well formed.',
  issuer_id_http: 'The issuer id is an HTTP(S) URL (required to relate hosting and keys to it).',
  signature_valid: 'The signature (JWS, VC-JWT) verifies with the issuer key.',
  signature_algorithm_refused:
    'The token uses a refused algorithm or key-carrying header (none, HMAC, jku, x5u, …).',
  key_fetched: 'The public key was fetched from the verification creator / key reference.',
  key_owned_by_issuer: 'The key is owned by the issuer and the issuer profile lists it.',
  jwt_claims_valid:
    'The VC-JWT registered claims (iss, jti, sub) agree with the credential and its dates (exp, nbf, iat) are NumericDates.',
  proof_valid: 'An OB 3.0 Data Integrity proof verifies.',
  proof_unsupported: 'An OB 3.0 proof uses a type or cryptosuite this service does not verify.',
  revoked: 'The issuer has revoked the award.',
  not_revoked: 'The issuer reports the award as not revoked (or no revocation mechanism applies).',
  revocation_unchecked:
    'The revocation status could not be obtained (status list, revocation list or its proof unavailable); the badge is unverified until it can be.',
  issued_in_future: 'The issue date (or validFrom) is in the future.',
  expired: 'The expiry date (or validUntil) has passed.',
  expiry_before_issue: 'The expiry date is before the issue date.',
  dates_valid: 'The issue and expiry dates are consistent with now.',
  recipient_matched: 'The recipient matches a verified address of the earner.',
  recipient_unverified: 'The recipient matches only an address of the earner that is not verified.',
  recipient_mismatch: 'The recipient matches none of the earner’s addresses.',
  image_valid: 'The badge image is a PNG or SVG (SVG sanitized) and allowed where it appears.',
  image_unavailable: 'The badge image could not be obtained; the award is kept without one.',
  extension_valid: 'The extension nodes satisfy their own constraints.',
  endorsement_not_award:
    'The input is an endorsement (OB 2.0 Endorsement, OB 3.0 EndorsementCredential): it endorses an award, issuer or badge and is not an award to keep.',
  endorsements_verified: 'Every embedded endorsement verifies on its own (proof by its endorser, dates).',
  credential_status_unsupported: 'The credential status type is not one this service checks.',
  limits_exceeded:
    'The badge carries more proofs, status entries, schemas or endorsements, or needs more fetches or time, than a badge may.',
} as const;

export type CheckCode = keyof typeof CHECK_CODES;

/**
 * Failed checks that say a check could not be made, not that the badge is bad: alone, they make
 * the verdict `unverified` (never `valid`) until a later verification can make them.
 */
export const UNCHECKED_CODES: ReadonlySet<string> = new Set<CheckCode>(['revocation_unchecked']);

/** Collects checks in order; the verdict is derived from them. */
export class CheckList {
  readonly items: Check[] = [];

  add(code: CheckCode, status: CheckStatus, message: string): void {
    this.items.push({ code, status, message });
  }
  pass(code: CheckCode, message: string = CHECK_CODES[code]): void {
    this.add(code, 'passed', message);
  }
  warn(code: CheckCode, message: string): void {
    this.add(code, 'warned', message);
  }
  fail(code: CheckCode, message: string): void {
    this.add(code, 'failed', message);
  }
  failed(): boolean {
    return this.items.some((c) => c.status === 'failed');
  }
  has(code: CheckCode, status: CheckStatus): boolean {
    return this.items.some((c) => c.code === code && c.status === status);
  }
}
