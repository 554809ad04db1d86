// Public views show text the issuer or the earner wrote (badge names and descriptions, the
// issuer's name and links, the group's title). Any of it may name the earner's address, and
// not only literally: in another case, percent-encoded (`%40`), as HTML character references
// (`&#64;`, `&#x40;`, `&commat;`), as JSON or CSS escapes, with invisible characters between
// its letters, or as an unsalted hash (`sha256$…`, `md5$…`) that anyone can compute from a
// guess and that is the same on every link. Every such span is replaced before anything is
// shown; a link that names the address is not shown at all.
import { createHash } from 'node:crypto';

export const HIDDEN = '[hidden]';

const NAMED: Record<string, string[]> = {
  '@': ['&commat;'],
  '.': ['&period;'],
  '-': ['&hyphen;', '&dash;'],
  _: ['&lowbar;'],
  '+': ['&plus;'],
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every spelling of one character that a browser, a URL decoder or a JSON parser reads as it. */
function spellings(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const hex = code.toString(16);
  // Percent-encoded once or twice (`%40`, `%2540`), byte by byte.
  const percent = (Buffer.from(ch, 'utf8').toString('hex').match(/../g) ?? [])
    .map((byte) => `%(?:25)?${byte}`)
    .join('');
  const forms = [
    escapeRegExp(ch),
    percent,
    `&#0*${code};?`,
    `&#x0*${hex};?`,
    `\\\\u0*${hex}`,
    `\\\\x${hex.padStart(2, '0')}`,
    `\\\\0*${hex}\\s?`,
    ...(NAMED[ch] ?? []),
  ];
  return `(?:${forms.filter(Boolean).join('|')})`;
}

/** Characters that draw nothing, which would split the address for a naive search. */
const INVISIBLE = '(?:[\\u00ad\\u200b-\\u200f\\u2060-\\u2064\\ufeff]|&shy;|&#0*173;?|&#x0*ad;?|%c2%ad)*';

const DIGESTS = ['md5', 'sha1', 'sha256', 'sha384', 'sha512'] as const;

/**
 * A matcher for every way the given addresses can be written, or null when there are none.
 * Case is ignored, both for the address and for the escapes.
 */
export function addressMatcher(addresses: readonly string[]): RegExp | null {
  const alternatives: string[] = [];
  for (const raw of new Set(addresses.map((a) => a.trim().toLowerCase()).filter((a) => a.length > 0))) {
    alternatives.push([...raw].map(spellings).join(INVISIBLE));
    // Unsalted hashes of the address: the same on every link, testable by anyone with a guess.
    for (const digest of DIGESTS) {
      const prefix = `(?:${digest}\\$)?`;
      alternatives.push(prefix + createHash(digest).update(raw, 'utf8').digest('hex'));
      alternatives.push(prefix + escapeRegExp(createHash(digest).update(raw, 'utf8').digest('base64')));
    }
  }
  return alternatives.length > 0 ? new RegExp(alternatives.join('|'), 'giu') : null;
}

export function redact(text: string, matcher: RegExp | null): string {
  return matcher ? text.replace(matcher, HIDDEN) : text;
}

export function names(text: string, matcher: RegExp | null): boolean {
  if (!matcher) return false;
  matcher.lastIndex = 0;
  const found = matcher.test(text);
  matcher.lastIndex = 0;
  return found;
}

/** A link shown only when it names none of the addresses (in its encoded or decoded form). */
export function safeLink(url: string | null, matcher: RegExp | null): string | null {
  if (url === null) return null;
  let decoded = url;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    // a malformed escape: the raw form is checked alone
  }
  return names(url, matcher) || names(decoded, matcher) ? null : url;
}
