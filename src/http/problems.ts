// The one error catalogue: every problem the service answers with has a stable snake_case
// `code`, an HTTP status and a title here. Modules add their own codes to CATALOGUE (and to
// the `ProblemCode` enum in openapi.yaml; a test keeps the two equal).

export const CATALOGUE = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  malformed_body: { status: 400, title: 'The request body cannot be parsed' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  invalid_credentials: { status: 401, title: 'The credentials are not valid' },
  forbidden: { status: 403, title: 'This request is not allowed' },
  insufficient_scope: { status: 403, title: 'The token does not allow this' },
  cross_site_request: { status: 403, title: 'Cross-site request refused' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'No acceptable representation' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  body_too_large: { status: 413, title: 'The request body is too large' },
  uri_too_long: { status: 414, title: 'A path segment is too long' },
  malformed_url: { status: 400, title: 'The URL cannot be decoded' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal server error' },
  database_unavailable: { status: 503, title: 'The database is unavailable' },
  storage_full: { status: 507, title: 'No space is left to store this' },
  unknown_badges: { status: 422, title: 'Some badges are not in this backpack' },
  not_implemented: { status: 501, title: 'Not implemented' },
  code_invalid: { status: 400, title: 'The code is not valid' },
  code_expired: { status: 400, title: 'The code has expired' },
  code_used: { status: 400, title: 'The code has been used already' },
  age_required: { status: 400, title: "Creating an account requires the earner's age" },
  under_minimum_age: { status: 403, title: 'Earners must be 13 or older' },
  oidc_provider_unknown: { status: 400, title: 'No such identity provider' },
  id_token_invalid: { status: 401, title: 'The ID token is not valid' },
  id_token_expired: { status: 401, title: 'The ID token has expired' },
  email_not_verified: { status: 403, title: 'The identity provider has not verified the e-mail address' },
  handle_taken: { status: 409, title: 'The handle is taken' },
  address_exists: { status: 409, title: 'The address is on this account already' },
  address_limit_reached: { status: 409, title: 'The account has as many addresses as it may' },
  limit_reached: { status: 409, title: 'The account holds as many of these as it may' },
  address_unavailable: { status: 409, title: 'The address cannot be verified for this account' },
  address_already_verified: { status: 409, title: 'The address is verified already' },
  address_not_verified: { status: 409, title: 'The address is not verified' },
  last_verified_address: { status: 409, title: 'The last verified address cannot be removed' },
  confirmation_required: { status: 403, title: 'A fresh confirmation is required' },
  reauthentication_required: { status: 403, title: 'Sign in again to do this' },
  identity_provider_unavailable: { status: 503, title: 'The identity provider cannot be reached' },
  mail_unavailable: { status: 503, title: 'The mail could not be sent' },
  id_token_replayed: { status: 401, title: 'The ID token has been used already' },
  recipient_unverified: { status: 422, title: 'The badge is awarded to an address not verified yet' },
  recipient_mismatch: { status: 422, title: 'The badge is awarded to none of your addresses' },
  badge_invalid: { status: 422, title: 'The badge does not verify' },
  badge_revoked: { status: 422, title: 'The issuer has revoked the badge' },
  badge_unreachable: { status: 422, title: "The issuer's copy of the badge cannot be fetched" },
  badge_unreadable: { status: 422, title: 'The input cannot be read as a badge' },
  badge_unsupported: { status: 422, title: 'The input is not a badge this service reads' },
  endorsement_not_award: { status: 422, title: 'The input is an endorsement, not a badge awarded to you' },
  badge_too_large: { status: 413, title: 'The badge is too large' },
  client_suspended: { status: 403, title: 'The operator has suspended this client' },
  verification_busy: { status: 503, title: 'Too many badges are being verified right now' },
  holder_key_unavailable: { status: 503, title: 'The holder key cannot be used right now' },
  presentation_unavailable: { status: 422, title: 'None of these badges can be presented this way' },
  export_malformed: { status: 400, title: 'The export cannot be read' },
  export_unrecognized: { status: 422, title: 'The document is not a backpack export' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof CATALOGUE;

export interface FieldError {
  /** Where the offending value is: body, query, path or header. */
  in: 'body' | 'query' | 'path' | 'header';
  /** JSON Pointer to the value inside that location (`/emails/0`), `''` for the whole. */
  pointer: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  requestId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Raise this anywhere in a handler or service; the error handler turns it into the response. */
export class Problem extends Error {
  readonly status: number;
  readonly title: string;
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    const entry = CATALOGUE[code];
    super(detail ?? entry.title);
    this.name = 'Problem';
    this.status = entry.status;
    this.title = entry.title;
  }
}

/** Problem types are URNs: stable across deployments, and the code is readable in them. */
export function problemType(code: string): string {
  return `urn:badge-backpack:problem:${code}`;
}
