import { createHash } from 'node:crypto';

export type RecipientHashAlgorithm = 'sha256' | 'sha512' | 'sha1' | 'md5';

/** A recipient as any version states it: plain or `alg$hex` hashed identity, optional salt. */
export interface RecipientClaim {
  identity: string;
  hashed: boolean;
  salt?: string | null;
  /** `email` (OB 0.5–2.0) or `emailAddress` (OB 3.0); absent means e-mail. */
  type?: string | null;
}

export interface EarnerAddress {
  address: string;
  verified: boolean;
}

const HASHED = /^(sha256|sha512|sha1|md5)\$([0-9a-f]+)$/i;

/** `alg$hex` of the address followed by the salt, the form issuers put in `recipient.identity`. */
export function hashRecipient(
  address: string,
  algorithm: RecipientHashAlgorithm = 'sha256',
  salt = '',
): string {
  return `${algorithm}$${createHash(algorithm)
    .update(address + salt, 'utf8')
    .digest('hex')}`;
}

function candidates(address: string): string[] {
  const trimmed = address.trim();
  const lower = trimmed.toLowerCase();
  return lower === trimmed ? [trimmed] : [trimmed, lower];
}

function matchesOne(claim: RecipientClaim, address: string): boolean {
  if (!claim.hashed) {
    return claim.identity.trim().toLowerCase() === address.trim().toLowerCase();
  }
  const m = HASHED.exec(claim.identity.trim());
  // Some 0.5-era issuers omitted the prefix: a bare hex digest was SHA-256.
  const algorithm = (m?.[1]?.toLowerCase() ?? 'sha256') as RecipientHashAlgorithm;
  const hex = (m?.[2] ?? claim.identity.trim()).toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return false;
  const salt = claim.salt ?? '';
  return candidates(address).some(
    (c) => hashRecipient(c, algorithm, salt).slice(algorithm.length + 1) === hex,
  );
}

/**
 * Which of the earner's addresses the claim names. Verified addresses are tried first, so an address
 * that is both listed unverified and verified (case variants) resolves to the verified one.
 */
export function matchRecipient(claim: RecipientClaim, addresses: EarnerAddress[]): EarnerAddress | null {
  const type = (claim.type ?? 'email').toLowerCase();
  if (type !== 'email' && type !== 'emailaddress') return null;
  const ordered = [...addresses.filter((a) => a.verified), ...addresses.filter((a) => !a.verified)];
  return ordered.find((a) => matchesOne(claim, a.address)) ?? null;
}

/**
 * Which of the earner's holder DIDs the claim names (OB 3.0 `credentialSubject.id`, or an
 * identifier of type `did`). DIDs compare exactly, as DID syntax is case-sensitive.
 */
export function matchHolderDid(claim: RecipientClaim, dids: readonly string[]): string | null {
  if ((claim.type ?? '').toLowerCase() !== 'did') return null;
  if (!claim.hashed) return dids.find((d) => d === claim.identity.trim()) ?? null;
  const m = HASHED.exec(claim.identity.trim());
  if (!m) return null;
  const algorithm = (m[1] as string).toLowerCase() as RecipientHashAlgorithm;
  const hex = (m[2] as string).toLowerCase();
  return dids.find((d) => hashRecipient(d, algorithm, claim.salt ?? '') === `${algorithm}$${hex}`) ?? null;
}
