// Open Badges engine: reads badges of every version (0.5 to 3.0) from URLs, JSON, signed tokens and baked
// images, verifies them (hosting, signatures, proofs, revocation, dates, recipient) and normalizes them.
// Pure domain code: outbound HTTP only through the injected fetcher, time only through the injected clock.

export { CHECK_CODES, type CheckCode, UNCHECKED_CODES } from './checks.ts';
export { addEddsaRdfc2022Proof, type Eddsa2022ProofOptions } from './cryptosuites.ts';
export { FetchError, OpenBadgesInputError, UNREACHABLE_MESSAGE } from './errors.ts';
export { createSafeFetcher, type SafeFetcherOptions } from './fetcher.ts';
export { createHttpCache, type HttpCache, type HttpCacheOptions } from './http-cache.ts';
export { createKeyCache } from './key-cache.ts';
export { DEFAULT_VERIFY_LIMITS, type VerifyLimits } from './limits.ts';
export { base58btcDecode, base58btcEncode } from './multikey.ts';
export { bakePng, PNG_SIGNATURE, pngChunk, unbakePng } from './png.ts';
export {
  hashRecipient,
  matchRecipient,
  type RecipientClaim,
  type RecipientHashAlgorithm,
} from './recipient.ts';
export { bakeSvg, sanitizeSvg, unbakeSvg } from './svg.ts';
export type * from './types.ts';
export { JSON_LIMITS, type JsonLimits, jsonOverLimits } from './util.ts';
export { verifyBadge } from './verify.ts';
