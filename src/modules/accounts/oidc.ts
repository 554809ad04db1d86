// Verifies OpenID Connect ID tokens from the configured identity providers against their
// published keys. Asymmetric algorithms only: with HMAC the "key" would be the client secret
// the front end holds, and `none` is no signature at all.
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import type { OidcProviderConfig } from '../../config.ts';
import { Problem } from '../../http/problems.ts';
import { normalizeAddress } from './service.ts';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
/** Clocks of the provider and of this service may differ a little. */
const CLOCK_TOLERANCE_S = 30;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}$/;

export interface VerifiedIdentity {
  provider: string;
  /** The verified e-mail address, normalized. */
  email: string;
  /** Names this token among all the provider issues, so that it signs in once. */
  replayKey: string;
  /** Until when the token could be replayed: its `exp`, with the clock tolerance. */
  expiresAt: Date;
}

export class OidcVerifier {
  private readonly keys = new Map<string, JWTVerifyGetKey>();

  constructor(
    private readonly providers: OidcProviderConfig[],
    private readonly now: () => Date,
  ) {}

  list(): { name: string; issuer: string }[] {
    return this.providers.map((p) => ({ name: p.name, issuer: p.issuer }));
  }

  private keySet(provider: OidcProviderConfig): JWTVerifyGetKey {
    let set = this.keys.get(provider.name);
    if (!set) {
      set = createRemoteJWKSet(new URL(provider.jwksUri), {
        timeoutDuration: 5000,
        cooldownDuration: 30_000,
      });
      this.keys.set(provider.name, set);
    }
    return set;
  }

  async verify(providerName: string, idToken: string): Promise<VerifiedIdentity> {
    const provider = this.providers.find((p) => p.name === providerName);
    if (!provider)
      throw new Problem('oidc_provider_unknown', 'No identity provider of that name is configured.');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(idToken, this.keySet(provider), {
        issuer: provider.issuer,
        audience: provider.audiences,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: this.now(),
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub'],
      }));
    } catch (err) {
      throw toProblem(err);
    }
    if (payload.email_verified !== true) {
      throw new Problem('email_not_verified', 'The identity provider does not vouch for the e-mail address.');
    }
    if (typeof payload.email !== 'string' || !EMAIL.test(payload.email)) {
      throw new Problem('id_token_invalid', 'The ID token carries no usable e-mail address.');
    }
    // A `jti` names the token; without one, the signed token itself does.
    const name =
      typeof payload.jti === 'string' && payload.jti.length > 0 ? `jti:${payload.jti}` : `jwt:${idToken}`;
    const replayKey = createHash('sha256').update(`${provider.issuer}\n${name}`).digest('hex');
    const expiresAt = new Date(((payload.exp as number) + CLOCK_TOLERANCE_S) * 1000);
    return { provider: provider.name, email: normalizeAddress(payload.email), replayKey, expiresAt };
  }
}

function toProblem(err: unknown): Problem {
  if (err instanceof joseErrors.JWTExpired)
    return new Problem('id_token_expired', 'The ID token has expired.');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return new Problem('id_token_invalid', `The ID token's "${err.claim}" claim is not acceptable.`);
  }
  if (err instanceof joseErrors.JWKSTimeout) {
    return new Problem('identity_provider_unavailable', "The identity provider's keys could not be fetched.");
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return new Problem('id_token_invalid', 'The ID token is signed with an algorithm that is not accepted.');
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return new Problem('id_token_invalid', "The ID token's key is not among the provider's keys.");
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new Problem('id_token_invalid', "The ID token's signature does not verify.");
  }
  if (
    err instanceof joseErrors.JWKSInvalid ||
    !(err instanceof joseErrors.JOSEError) ||
    // jose raises its base error, and only it, when the key set answers other than 200 with JSON.
    err.constructor === joseErrors.JOSEError
  ) {
    // The key set itself could not be fetched or read: the provider's fault, not the client's.
    return new Problem('identity_provider_unavailable', "The identity provider's keys could not be fetched.");
  }
  return new Problem('id_token_invalid', 'The ID token is malformed.');
}
