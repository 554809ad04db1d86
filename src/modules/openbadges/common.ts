import type { CheckList } from './checks.ts';
import { matchHolderDid, matchRecipient, type RecipientClaim } from './recipient.ts';
import type { Fetcher, VerifyContext } from './types.ts';
import { JSON_LIMITS, parseDate, parseJsonWithin } from './util.ts';

export type FetchJsonResult =
  | { ok: true; doc: unknown; status: number; url: string; text: string }
  | { ok: false; status: number | null; reason: string };

export const JSON_TYPES = [
  'application/json',
  'application/ld+json',
  'text/plain',
  'text/json',
  'application/octet-stream',
];

/**
 * Fetches and parses JSON within the limits of its kind; a non-2xx status is reported with its
 * code (410 matters to callers). Fetch failures are reported by their message alone, which the
 * fetcher keeps free of anything that tells an internal host from a missing one.
 */
export async function fetchJson(
  fetcher: Fetcher,
  url: string,
  kind: keyof typeof JSON_LIMITS = 'document',
  accept: string[] = JSON_TYPES,
): Promise<FetchJsonResult> {
  const limits = JSON_LIMITS[kind];
  try {
    const res = await fetcher(url, { accept, maxBytes: limits.maxChars });
    if (res.status < 200 || res.status >= 300) {
      return { ok: false, status: res.status, reason: `${url} answered HTTP ${res.status}` };
    }
    if (res.body.length > limits.maxChars) {
      return { ok: false, status: res.status, reason: `${url} serves more than ${limits.maxChars} bytes` };
    }
    const text = Buffer.from(res.body).toString('utf8');
    const parsed = parseJsonWithin(text, limits);
    if (!parsed.ok) {
      return {
        ok: false,
        status: res.status,
        reason: parsed.overLimit ? `${url} serves JSON ${parsed.reason}` : `${url} did not return JSON`,
      };
    }
    return { ok: true, doc: parsed.value, status: res.status, url: res.url, text };
  } catch (err) {
    return { ok: false, status: null, reason: `${url}: ${(err as Error).message}` };
  }
}

/** Issue/expiry checks shared by every version. Returns the parsed dates for normalization. */
export function checkDates(
  checks: CheckList,
  ctx: VerifyContext,
  issuedRaw: unknown,
  expiresRaw: unknown,
): { issued: Date | null; expires: Date | null } {
  const issued = parseDate(issuedRaw);
  const expires = expiresRaw === undefined || expiresRaw === null ? null : parseDate(expiresRaw);
  const now = ctx.now();
  let bad = false;
  if (!issued) {
    checks.fail('dates_valid', 'the issue date is missing or unreadable');
    return { issued, expires };
  }
  if (expiresRaw !== undefined && expiresRaw !== null && !expires) {
    checks.fail('dates_valid', 'the expiry date is unreadable');
    bad = true;
  }
  if (issued.getTime() > now.getTime()) {
    checks.fail('issued_in_future', `issued on ${issued.toISOString()}, after now`);
    bad = true;
  }
  if (expires && expires.getTime() < issued.getTime()) {
    checks.fail(
      'expiry_before_issue',
      `expires ${expires.toISOString()} before issue ${issued.toISOString()}`,
    );
    bad = true;
  }
  if (expires && expires.getTime() <= now.getTime()) {
    checks.fail('expired', `expired on ${expires.toISOString()}`);
    bad = true;
  }
  if (!bad) checks.pass('dates_valid');
  return { issued, expires };
}

/** Tries each recipient claim against the earner's addresses; refuses a match on an unverified one. */
export function checkRecipient(
  checks: CheckList,
  ctx: VerifyContext,
  claims: RecipientClaim[],
): { address: string } | null {
  if (claims.length === 0) {
    checks.fail('recipient_mismatch', 'the badge names no e-mail recipient');
    return null;
  }
  for (const claim of claims) {
    const did = matchHolderDid(claim, ctx.holderDids ?? []);
    if (did) {
      checks.pass('recipient_matched', `recipient is the holder DID ${did}`);
      return { address: did };
    }
  }
  let unverified: string | null = null;
  for (const claim of claims) {
    const match = matchRecipient(claim, ctx.recipients);
    if (match?.verified) {
      checks.pass('recipient_matched', `recipient is ${match.address}`);
      return { address: match.address };
    }
    if (match) unverified = match.address;
  }
  if (unverified) {
    checks.fail('recipient_unverified', `recipient is ${unverified}, which is not verified yet`);
    return null;
  }
  checks.fail('recipient_mismatch', 'the recipient is none of the earner’s addresses');
  return null;
}
