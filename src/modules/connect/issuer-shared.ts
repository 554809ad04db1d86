// What the three issuer-facing families share: the platform's push (verified by the badges
// module, accepted or pending as the earner's push policy says), the earner's profile, the
// pages of what platforms pushed, and failures in terms each family renders in its own shape.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { QueryOf } from '../../http/operations.ts';
import { sendPageHeaders } from '../../http/paging.ts';
import { Problem } from '../../http/problems.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { BadgesService, PushedBadges } from '../badges/index.ts';
import type { BadgeInput } from '../openbadges/index.ts';
import type { AccessGrant } from './oauth.ts';
import { endpoint } from './oauth-routes.ts';
import type { HeldBadgeNotice } from './review-mail.ts';

export interface IssuerRoutesDeps {
  publicUrl: URL;
  /** What the discovery documents name: the policies earners are held to, and the logo. */
  service: { name: string; image: string; privacyPolicyUrl: string; termsOfServiceUrl: string };
  accounts: AccountsService;
  badges: BadgesService;
  pushed: PushedBadges;
  grantOf: (request: FastifyRequest) => AccessGrant;
  /** Tells the earner of a pushed badge held for their review. */
  notifyHeld: HeldBadgeNotice;
}

export interface Failure {
  status: number;
  code: string;
  detail: string;
  query: boolean;
}

/** What went wrong, in terms every family can render; null for an unexpected error. */
export function failureOf(err: FastifyError | Problem, reply: FastifyReply): Failure | null {
  if (err instanceof Problem) {
    for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
    if (err.status >= 500) return null;
    return { status: err.status, code: err.code, detail: err.detail ?? err.title, query: false };
  }
  if (err.validation) {
    return {
      status: 400,
      code: 'validation_failed',
      detail: err.message,
      query: err.validationContext === 'querystring',
    };
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, code: err.code ?? 'bad_request', detail: err.message, query: false };
  }
  return null;
}

export const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A page of an issuer API's list (both APIs page alike; defaults filled in). */
export type PageQuery = QueryOf<'listBadgeConnectAssertions'> | QueryOf<'listOb3Credentials'>;

/** A badge as it was received: the compact JWS, or the JSON object (ingestion kept only objects). */
export function parsedOriginal(format: string, text: string): string | Record<string, unknown> {
  if (format !== 'json') return text;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
}

/** The handlers' common work, bound to the module's services. */
export function issuerContext(deps: IssuerRoutesDeps) {
  const { publicUrl, accounts, badges, pushed, grantOf } = deps;

  const push = async (request: FastifyRequest, input: BadgeInput, replaceOlder = false) => {
    const grant = grantOf(request);
    const held = (await accounts.pushPolicy(grant.earnerId)) !== 'accept';
    let result: Awaited<ReturnType<BadgesService['add']>>;
    try {
      result = await badges.add(grant.earnerId, input, grant.clientId, {
        acceptance: held ? 'pending' : 'accepted',
        replaceOlder,
      });
    } catch (err) {
      // A platform learns only that the badge is not for this earner: telling an address the
      // earner added but has not verified from one they never added would tell it which
      // addresses the earner is adding. The earner's own API keeps the precise reason.
      if (
        err instanceof Problem &&
        (err.code === 'recipient_unverified' || err.code === 'recipient_mismatch')
      ) {
        throw new Problem('recipient_mismatch', 'The badge is not awarded to this earner.');
      }
      throw err;
    }
    // Only the push that stored the badge tells the earner: a repeat (or the loser of a race
    // between identical pushes) finds it held already, so each held badge is mailed once.
    if (held && result.created) {
      await deps.notifyHeld(grant.earnerId, grant.clientId, {
        name: result.badge.name,
        issuerName: result.badge.issuer.name,
      });
    }
    return result;
  };

  const profileOf = async (earnerId: string) => {
    const [profile, email] = await Promise.all([
      accounts.getProfile(earnerId),
      accounts.primaryAddress(earnerId),
    ]);
    return { name: profile.displayName, email };
  };

  const originals = async (
    request: FastifyRequest,
    reply: FastifyReply,
    query: PageQuery,
    versions: string[],
    path: string,
  ) => {
    const { earnerId } = grantOf(request);
    const { items, total } = await pushed.originals(earnerId, {
      versions,
      limit: query.limit,
      offset: query.offset,
      ...(query.since ? { since: new Date(query.since) } : {}),
    });
    sendPageHeaders(reply, endpoint(publicUrl, path), query, total, { since: query.since });
    return items;
  };

  return { push, profileOf, originals };
}
