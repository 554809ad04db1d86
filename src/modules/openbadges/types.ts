import type { CryptoKey } from 'jose';

export type BadgeInput =
  | { kind: 'url'; url: string }
  | { kind: 'jws'; jws: string }
  | { kind: 'json'; json: unknown }
  | { kind: 'image'; bytes: Uint8Array };

export interface FetchResponse {
  status: number;
  /** Final URL after redirects. */
  url: string;
  contentType: string | null;
  body: Uint8Array;
  headers: Record<string, string>;
}

export interface FetchOptions {
  accept?: string[];
  /** Conditional request headers (`if-none-match`, `if-modified-since`); a 304 answer comes back as is. */
  headers?: Record<string, string>;
  /** A smaller cap than the fetcher's own for this body (a fetcher may ignore it; callers check). */
  maxBytes?: number;
  /** Ends the fetch early (a verification's time budget). */
  signal?: AbortSignal;
}

export type Fetcher = (url: string, opts?: FetchOptions) => Promise<FetchResponse>;

export interface CachedKey {
  /** Issuer id that owns the key, as established when it was first fetched. */
  owner: string;
  key: CryptoKey;
}

export interface KeyCache {
  get(id: string): CachedKey | undefined;
  set(id: string, value: CachedKey): void;
}

export interface VerifyContext {
  fetcher: Fetcher;
  now: () => Date;
  /** The earner's e-mail addresses. */
  recipients: { address: string; verified: boolean }[];
  /**
   * The earner's holder DIDs: an OB 3.0 credential whose subject is one of them is the earner's,
   * as if awarded to a verified address.
   */
  holderDids?: string[];
  keyCache?: KeyCache;
  /**
   * `host:port` entries whose DID documents (did:web) and issuer key documents may be read over
   * plain http; every other host is read over https only.
   */
  didWebHttpHosts?: string[];
  /** Bounds on this verification's fetches; the engine's defaults where absent. */
  limits?: Partial<VerifyLimits>;
}

export type CheckStatus = 'passed' | 'warned' | 'failed';

export interface Check {
  code: string;
  status: CheckStatus;
  message: string;
}

export type BadgeVersion = '0.5' | '1.0' | '1.1' | '2.0' | '3.0';

export interface NormalizedIssuer {
  id: string;
  name: string;
  url: string | null;
  email: string | null;
  imageUrl: string | null;
}

export interface NormalizedEvidence {
  id: string | null;
  narrative: string | null;
  name: string | null;
  description: string | null;
}

export interface NormalizedAlignment {
  targetName: string;
  targetUrl: string | null;
  targetDescription: string | null;
  targetFramework: string | null;
  targetCode: string | null;
}

/** An endorsement embedded in the badge, with the verdict of its own verification. */
export interface NormalizedEndorsement {
  id: string | null;
  endorser: { id: string; name: string | null };
  /** What the endorser says (OB 3.0 `endorsementComment`, OB 2.0 claim `endorsementComment`). */
  claim: string | null;
  /** What is endorsed: the issuer, achievement or credential id. */
  endorsedId: string | null;
  issuedOn: string | null;
  verdict: 'valid' | 'expired' | 'invalid';
  /** The failed checks behind a verdict other than valid. */
  problems: string[];
}

export interface NormalizedBadge {
  name: string;
  description: string;
  imageUrl: string | null;
  criteriaUrl: string | null;
  criteriaNarrative: string | null;
  issuer: NormalizedIssuer;
  badgeClassId: string | null;
  issuedOn: string;
  expires: string | null;
  evidence: NormalizedEvidence[];
  /** Free-text narrative attached to the award itself (OB 2.0 `narrative`, OB 3.0 subject `narrative`). */
  narrative: string | null;
  tags: string[];
  alignments: NormalizedAlignment[];
  /** Embedded endorsements (OB 3.0 EndorsementCredentials, OB 2.0 Endorsements), each verified on its own. */
  endorsements?: NormalizedEndorsement[];
}

/** `unverified`: authentic as far as checked, but a status (revocation) check could not be made. */
export type VerdictStatus = 'valid' | 'expired' | 'revoked' | 'invalid' | 'unverified';

export interface Verdict {
  ok: boolean;
  status: VerdictStatus;
  /** For `unverified`: the code of the check that could not be made. */
  statusReason: string | null;
  /** OB 3.0 `refreshService` of type 1EdTechCredentialRefresh: where a newer issue may be fetched. */
  refreshUrl?: string | null;
  version: BadgeVersion | null;
  assertionId: string | null;
  recipient: { address: string } | null;
  badge: NormalizedBadge | null;
  original: { format: 'json' | 'jws' | 'vc-jwt'; text: string } | null;
  image: { contentType: 'image/png' | 'image/svg+xml'; bytes: Uint8Array } | null;
  checks: Check[];
}

/** What one verification may spend on outbound requests. */
export interface VerifyLimits {
  /** Fetches in all: documents, keys, status lists, schemas, the image. */
  maxFetches: number;
  /** Wall time for all of them together, from the first. */
  timeBudgetMs: number;
}
