// The accounts operations of openapi.yaml, by operationId. Handlers translate between HTTP
// (cookies, bodies, status codes) and the services; the rules live in the services.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { components } from '../../generated/api.ts';
import { crossSite, principalOf } from '../../http/auth.ts';
import { type OperationHandlers, sendStreamed } from '../../http/operations.ts';
import { pageLinks } from '../../http/paging.ts';
import { Problem } from '../../http/problems.ts';
import type { Mailer } from '../../mail/index.ts';
import type { AccessTokens, AccessTokenView } from './access-tokens.ts';
import type { Codes } from './codes.ts';
import type { DeletionConfirmation } from './confirmation.ts';
import { exportStream } from './export-stream.ts';
import { type AccountsService, type AddressView, normalizeAddress, type ProfileView } from './service.ts';
import type { Sessions, SessionView } from './sessions.ts';
import { requesterOf, type SignedIn, type SignIn } from './sign-in.ts';
import { coarseUserAgent } from './user-agent.ts';

type Schemas = components['schemas'];

export interface RoutesDeps {
  config: Config;
  now: () => Date;
  service: AccountsService;
  sessions: Sessions;
  accessTokens: AccessTokens;
  codes: Codes;
  signIn: SignIn;
  mailer: Mailer;
  cookieName: string;
  confirmation: DeletionConfirmation;
  listProviders: () => { name: string; issuer: string }[];
  codeTtlMinutes: number;
}

/** A token may live at most this long, so that forgotten tokens end by themselves. */
const MAX_TOKEN_LIFETIME_MS = 366 * 24 * 3_600_000;

const iso = (d: Date): string => d.toISOString();
const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);

function sessionJson(s: SessionView): Schemas['SessionInfo'] {
  return {
    id: s.id,
    createdAt: iso(s.createdAt),
    lastUsedAt: iso(s.lastUsedAt),
    expiresAt: iso(s.expiresAt),
    method: s.method,
    userAgent: s.userAgent,
    current: s.current,
  };
}

function tokenJson(t: AccessTokenView): Schemas['AccessTokenInfo'] {
  return {
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    createdAt: iso(t.createdAt),
    lastUsedAt: isoOrNull(t.lastUsedAt),
    expiresAt: isoOrNull(t.expiresAt),
  };
}

function addressJson(a: AddressView): Schemas['EmailAddress'] {
  return {
    id: a.id,
    email: a.address,
    verified: a.verified,
    verifiedAt: isoOrNull(a.verifiedAt),
    primary: a.primary,
    createdAt: iso(a.createdAt),
  };
}

function profileJson(p: ProfileView): Schemas['Profile'] {
  return {
    displayName: p.displayName,
    handle: p.handle,
    pushPolicy: p.pushPolicy,
    pushReviewMail: p.pushReviewMail,
    createdAt: iso(p.createdAt),
    addresses: p.addresses.map(addressJson),
  };
}

export function accountsHandlers(deps: RoutesDeps): OperationHandlers {
  const { config, service, sessions, accessTokens, codes, signIn, mailer, cookieName } = deps;
  const secure = config.publicUrl.protocol === 'https:';
  const trusted = new Set([config.publicUrl.origin, ...config.corsOrigins]);
  const signInLimit = { rateLimit: { max: config.signInRateLimitMax, timeWindow: config.rateLimitWindowMs } };

  /**
   * The sign-in operations are public, so the session check of the auth plugin does not cover
   * them; a forged cross-site post could otherwise sign a victim into the attacker's account.
   */
  const refuseCrossSite = (request: FastifyRequest): void => {
    if (crossSite(request, trusted)) {
      throw new Problem(
        'cross_site_request',
        'Sign-in requests must come from the service or a trusted front end.',
      );
    }
  };

  const startSession = (reply: FastifyReply, request: FastifyRequest, result: SignedIn) => {
    reply.setCookie(cookieName, result.session.secret, {
      httpOnly: true,
      secure,
      sameSite: 'lax',
      path: '/',
      expires: result.session.expiresAt,
    });
    const body: Schemas['SignInResult'] = {
      accountCreated: result.accountCreated,
      session: sessionJson({
        id: result.session.id,
        createdAt: result.session.createdAt,
        lastUsedAt: result.session.createdAt,
        expiresAt: result.session.expiresAt,
        method: result.session.method,
        userAgent: coarseUserAgent(request.headers['user-agent']),
        current: true,
      }),
    };
    return body;
  };

  const clearSession = (reply: FastifyReply) => {
    reply.clearCookie(cookieName, { path: '/', httpOnly: true, secure, sameSite: 'lax' });
  };

  const sessionOnly = (request: FastifyRequest) => {
    const principal = principalOf(request);
    if (principal.via !== 'session') throw new Problem('forbidden', 'Only a signed-in session can do this.');
    return principal;
  };

  /** Mails an issued code; a mail that cannot be sent withdraws the code and answers 503. */
  const sendCode = (to: string, subject: string, lead: string, code: { id: string; secret: string }) =>
    codes.mail(code.id, () =>
      mailer.send({
        to,
        subject,
        text: [lead, '', code.secret, '', `The code works once, for ${deps.codeTtlMinutes} minutes.`].join(
          '\n',
        ),
      }),
    );

  return {
    requestEmailLink: {
      config: signInLimit,
      handler: async (request, reply) => {
        refuseCrossSite(request);
        const body = request.body;
        await signIn.requestLink(body.email, requesterOf(request));
        return reply.code(202).send({ status: 'accepted' });
      },
    },

    redeemEmailLink: {
      config: signInLimit,
      handler: async (request, reply) => {
        refuseCrossSite(request);
        const body = request.body;
        const result = await signIn.redeemLink(
          body.code,
          body.age,
          coarseUserAgent(request.headers['user-agent']),
        );
        return reply.code(200).send(startSession(reply, request, result));
      },
    },

    listOidcProviders: async () => ({ items: deps.listProviders() }),

    signInWithOidc: {
      config: signInLimit,
      handler: async (request, reply) => {
        refuseCrossSite(request);
        const body = request.body;
        const result = await signIn.withIdToken(
          body.provider,
          body.idToken,
          body.age,
          coarseUserAgent(request.headers['user-agent']),
        );
        return reply.code(200).send(startSession(reply, request, result));
      },
    },

    listSessions: async (request, reply) => {
      const principal = principalOf(request);
      const current = principal.via === 'session' ? principal.credentialId : null;
      const page = request.query;
      const { items, total } = await sessions.list(principal.earnerId, current, page);
      reply.header('x-total-count', String(total)).header('link', pageLinks('/v1/sessions', page, total));
      return { items: items.map(sessionJson) };
    },

    deleteSessions: async (request, reply) => {
      const principal = sessionOnly(request);
      await sessions.revokeAll(principal.earnerId);
      clearSession(reply);
      return reply.code(204).send();
    },

    deleteCurrentSession: async (request, reply) => {
      const principal = sessionOnly(request);
      await sessions.revoke(principal.earnerId, principal.credentialId);
      clearSession(reply);
      return reply.code(204).send();
    },

    deleteSession: async (request, reply) => {
      const principal = sessionOnly(request);
      const { sessionId } = request.params;
      if (!(await sessions.revoke(principal.earnerId, sessionId))) {
        throw new Problem('not_found', 'The earner has no such session.');
      }
      if (sessionId === principal.credentialId) clearSession(reply);
      return reply.code(204).send();
    },

    listAccessTokens: async (request, reply) => {
      const principal = sessionOnly(request);
      const page = request.query;
      const { items, total } = await accessTokens.list(principal.earnerId, page);
      reply
        .header('x-total-count', String(total))
        .header('link', pageLinks('/v1/access-tokens', page, total));
      return { items: items.map(tokenJson) };
    },

    createAccessToken: async (request, reply) => {
      const principal = sessionOnly(request);
      const body = request.body;
      let expiresAt: Date | null = null;
      if (body.expiresAt) {
        expiresAt = new Date(body.expiresAt);
        const now = deps.now().getTime();
        if (expiresAt.getTime() <= now || expiresAt.getTime() > now + MAX_TOKEN_LIFETIME_MS) {
          throw new Problem('validation_failed', 'One or more fields are invalid; see errors.', {
            errors: [
              { in: 'body', pointer: '/expiresAt', message: 'must be in the future and within a year' },
            ],
          });
        }
      }
      const name = body.name.trim();
      if (!name) {
        throw new Problem('validation_failed', 'One or more fields are invalid; see errors.', {
          errors: [{ in: 'body', pointer: '/name', message: 'must not be blank' }],
        });
      }
      const created = await accessTokens.create(principal.earnerId, name, body.scopes, expiresAt);
      const view = await accessTokens.get(principal.earnerId, created.id);
      if (!view) throw new Problem('not_found');
      return reply.code(201).send({ ...tokenJson(view), token: created.secret });
    },

    deleteAccessToken: async (request, reply) => {
      const principal = sessionOnly(request);
      const { tokenId } = request.params;
      if (!(await accessTokens.revoke(principal.earnerId, tokenId))) {
        throw new Problem('not_found', 'The earner has no such token.');
      }
      return reply.code(204).send();
    },

    getProfile: async (request) => profileJson(await service.getProfile(principalOf(request).earnerId)),

    updateProfile: async (request) => {
      const body = request.body;
      return profileJson(await service.updateProfile(principalOf(request).earnerId, body));
    },

    listEmailAddresses: async (request) => ({
      items: (await service.listAddresses(principalOf(request).earnerId)).map(addressJson),
    }),

    addEmailAddress: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const body = request.body;
      const normalized = normalizeAddress(body.email);
      await codes.assertWithinLimit('verify_address', normalized, earnerId);
      const added = await service.addAddress(earnerId, normalized);
      try {
        await sendCode(
          added.address,
          'Confirm your address for your Badge Backpack',
          'Enter this code in your Badge Backpack to confirm that this address is yours:',
          await codes.issue('verify_address', added.address, earnerId),
        );
      } catch (err) {
        // Nothing half done: without its code the address could not be verified anyway.
        await service.removeAddress(earnerId, added.id);
        throw err;
      }
      return reply.code(201).send(addressJson(added));
    },

    updateEmailAddress: async (request) => {
      const { earnerId } = principalOf(request);
      const { addressId } = request.params;
      return addressJson(await service.makePrimary(earnerId, addressId));
    },

    deleteEmailAddress: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const { addressId } = request.params;
      await service.removeAddress(earnerId, addressId);
      return reply.code(204).send();
    },

    sendAddressVerificationCode: async (request, reply) => {
      const { earnerId } = principalOf(request);
      const { addressId } = request.params;
      const address = await service.getAddress(earnerId, addressId);
      if (address.verified) throw new Problem('address_already_verified', 'The address is verified already.');
      await sendCode(
        address.address,
        'Confirm your address for your Badge Backpack',
        'Enter this code in your Badge Backpack to confirm that this address is yours:',
        await codes.issue('verify_address', address.address, earnerId),
      );
      return reply.code(202).send({ status: 'accepted' });
    },

    verifyEmailAddress: async (request) => {
      const { earnerId } = principalOf(request);
      const { addressId } = request.params;
      const body = request.body;
      const address = await service.getAddress(earnerId, addressId);
      if (address.verified) throw new Problem('address_already_verified', 'The address is verified already.');
      const code = await codes.find('verify_address', body.code);
      if (code.earnerId !== earnerId || code.address !== address.address) {
        throw new Problem('code_invalid', 'The code was not sent for this address.');
      }
      await deps.service.runInTransaction(async (tx) => {
        await codes.consume(code.id, tx);
        await service.markVerified(earnerId, addressId, tx);
      });
      return addressJson(await service.getAddress(earnerId, addressId));
    },

    requestDeletionCode: async (request, reply) => {
      const { earnerId } = sessionOnly(request);
      const to = await service.primaryAddress(earnerId);
      if (!to) throw new Problem('not_found', 'The account has no verified address to send a code to.');
      await sendCode(
        to,
        'Confirm the deletion of your Badge Backpack',
        'Someone signed in to your Badge Backpack asked to delete it. To confirm, enter this code:',
        await codes.issue('confirm_deletion', to, earnerId),
      );
      return reply.code(202).send({ status: 'accepted' });
    },

    requestBadgeDeletionCode: async (request, reply) => {
      const { earnerId } = sessionOnly(request);
      const to = await service.primaryAddress(earnerId);
      if (!to) throw new Problem('not_found', 'The account has no verified address to send a code to.');
      await sendCode(
        to,
        'Confirm the deletion of all your badges',
        'Someone signed in to your Badge Backpack asked to delete all the badges in it, and to end the share links that show them. To confirm, enter this code:',
        await codes.issue('confirm_badge_deletion', to, earnerId),
      );
      return reply.code(202).send({ status: 'accepted' });
    },

    deleteAccount: async (request, reply) => {
      const principal = sessionOnly(request);
      const body = request.body ?? {};
      await deps.confirmation.check(
        principal,
        'confirm_deletion',
        body.confirmationCode,
        'requestDeletionCode',
      );
      // The code goes with the account (its row cascades from the earner).
      await service.deleteEarner(principal.earnerId);
      clearSession(reply);
      request.log.info('account deleted by its earner');
      return reply.code(204).send();
    },

    exportAccount: async (request, reply) => {
      const principal = sessionOnly(request);
      const data = await service.export(principal.earnerId, principal.credentialId);
      reply.header('content-disposition', 'attachment; filename="backpack-export.json"');
      reply.header('cache-control', 'no-store');
      // Streamed as written (chunked, no Content-Length): sections are read page by page.
      const head: Omit<Schemas['AccountExport'], 'sections'> = {
        exportedAt: iso(data.exportedAt),
        account: {
          ...data.account,
          pushPolicy: data.account.pushPolicy === 'accept' ? 'accept' : 'hold',
          createdAt: iso(data.account.createdAt),
          updatedAt: iso(data.account.updatedAt),
        },
        addresses: data.addresses.map(addressJson),
        sessions: data.sessions.map(sessionJson),
        accessTokens: data.accessTokens.map(tokenJson),
        operatorActions: data.operatorActions.map((a) => ({ ...a, createdAt: iso(a.createdAt) })),
      };
      return sendStreamed(reply, 'application/json; charset=utf-8', exportStream(head, data.sections));
    },

    operatorDeleteAccount: async (request, reply) => {
      if (!request.operator)
        throw new Problem('unauthenticated', 'This operation needs the operator credential.');
      const body = request.body;
      const earnerId = await service.earnerByVerifiedAddress(body.email);
      if (!earnerId) throw new Problem('not_found', 'No account has verified that address.');
      // The record keeps neither the address nor a link to the account that is gone.
      await service.deleteEarner(earnerId, (tx) =>
        service.recordOperatorAction(null, 'delete_account', body.reason, tx),
      );
      request.log.info(
        { operatorAction: 'delete_account', reason: body.reason },
        'operator deleted an account',
      );
      return reply.code(204).send();
    },
  };
}
