/** Input that cannot even be read: the HTTP layer maps too_large to 413 and the others to 422. */
export class OpenBadgesInputError extends Error {
  readonly code: string;
  readonly kind: 'too_large' | 'malformed' | 'unsupported';

  constructor(kind: 'too_large' | 'malformed' | 'unsupported', code: string, message: string) {
    super(message);
    this.name = 'OpenBadgesInputError';
    this.kind = kind;
    this.code = code;
  }
}

/** Codes of failures that would tell an internal host from a missing or filtered one. */
const UNREACHABLE_CODES = new Set(['fetch_blocked_address', 'fetch_failed', 'fetch_timeout']);

/** The one thing earners are told about a host that was refused, unresolvable, refusing or silent. */
export const UNREACHABLE_MESSAGE = 'blocked or unreachable';

/**
 * A refused or failed outbound fetch. `code` and `detail` are exact, for logs and tests; what
 * reaches earners (`message`, `publicCode`) says only "blocked or unreachable" for every failure
 * to reach a host, so that nobody can map which internal names resolve or which ports answer.
 */
export class FetchError extends Error {
  readonly code: string;
  readonly detail: string;

  constructor(code: string, detail: string) {
    super(UNREACHABLE_CODES.has(code) ? UNREACHABLE_MESSAGE : detail);
    this.name = 'FetchError';
    this.code = code;
    this.detail = detail;
  }

  get publicCode(): string {
    return UNREACHABLE_CODES.has(this.code) ? 'fetch_unreachable' : this.code;
  }
}
