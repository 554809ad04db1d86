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

/** A refused or failed outbound fetch; `code` is stable so callers can tell a block from an outage. */
export class FetchError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'FetchError';
    this.code = code;
  }
}
