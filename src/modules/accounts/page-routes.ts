// Handlers of the backpack's own pages: sign-in by e-mailed link (with the age question when
// the address has no backpack yet), and the policies. Forms carry an anti-forgery token that
// must equal a cookie set by the page (double submit), so that another site cannot sign a
// visitor into an account of its choosing, whatever the browser says about origins.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { BodyOf, OperationHandlers } from '../../http/operations.ts';
import { sendPage } from '../../http/pages.ts';
import { Problem } from '../../http/problems.ts';
import {
  agePage,
  checkMailPage,
  codeFromPaste,
  type FormContext,
  messagePage,
  safeReturnTo,
  signedInPage,
  signInPage,
} from './pages.ts';
import { privacyPage, termsPage } from './policy-pages.ts';
import { newSecret } from './secrets.ts';
import type { Sessions } from './sessions.ts';
import { MINIMUM_AGE, requesterOf, type SignIn } from './sign-in.ts';
import { coarseUserAgent } from './user-agent.ts';

export interface PageRoutesDeps {
  config: Config;
  sessions: Sessions;
  signIn: SignIn;
  cookieName: string;
  codeTtlMinutes: number;
}

/** A backpack on a round badge: the service's mark in the discovery documents. */
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
<circle cx="32" cy="32" r="31" fill="#2b6cb0"/>
<rect x="18" y="20" width="28" height="30" rx="6" fill="#fff"/>
<path d="M25 20v-3a7 7 0 0 1 14 0v3" fill="none" stroke="#fff" stroke-width="3"/>
<rect x="23" y="33" width="18" height="9" rx="2" fill="#2b6cb0"/>
</svg>
`;

const FORM_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The sign-in page's form, as both of its posts take it. */
type PageForm = BodyOf<'completeSignInFromPage'>;

export function pageHandlers(deps: PageRoutesDeps): OperationHandlers {
  const { config, sessions, signIn, cookieName } = deps;
  const secure = config.publicUrl.protocol === 'https:';
  const formCookie = secure ? '__Host-backpack_form' : 'backpack_form';
  const signInLimit = { rateLimit: { max: config.signInRateLimitMax, timeWindow: config.rateLimitWindowMs } };
  const facts = {
    serviceUrl: config.publicUrl.origin,
    sessionTtlHours: config.sessionTtlHours,
    sessionIdleHours: config.sessionIdleHours,
    codeTtlMinutes: deps.codeTtlMinutes,
  };

  /** The visitor's anti-forgery token, set when absent; Lax, so a mailed link's page keeps it. */
  const formToken = (request: FastifyRequest, reply: FastifyReply): string => {
    const existing = request.cookies[formCookie];
    if (existing && FORM_TOKEN.test(existing)) return existing;
    const token = newSecret();
    reply.setCookie(formCookie, token, { httpOnly: true, secure, sameSite: 'lax', path: '/' });
    return token;
  };

  /**
   * A form post is the page's own when its token equals the cookie, and no browser named
   * another origin. `Origin: null` (a browser withholding it) is left to the token.
   */
  const fromOwnPage = (request: FastifyRequest, body: Partial<PageForm>): boolean => {
    const origin = request.headers.origin;
    if (typeof origin === 'string' && origin !== 'null' && origin !== config.publicUrl.origin) return false;
    const cookie = request.cookies[formCookie];
    const field = body.form_token;
    if (!cookie || !field || !FORM_TOKEN.test(cookie) || cookie.length !== field.length) return false;
    return timingSafeEqual(Buffer.from(cookie), Buffer.from(field));
  };

  const context = (request: FastifyRequest, reply: FastifyReply, rawReturnTo?: string): FormContext => ({
    formToken: formToken(request, reply),
    returnTo: safeReturnTo(rawReturnTo, config.publicUrl),
  });

  const refused = (reply: FastifyReply, ctx: FormContext) =>
    sendPage(
      reply,
      403,
      messagePage(
        'This form has expired',
        'The form was not sent from this page, or it is too old. Open the sign-in page again.',
        ctx,
      ),
    );

  /** Problems of the sign-in service as pages the earner can act on. */
  const problemPage = (reply: FastifyReply, err: Problem, ctx: FormContext) => {
    const text: Partial<Record<string, [string, string]>> = {
      code_invalid: ['This link does not work', 'The link or code is not one we sent. Ask for a new link.'],
      code_used: ['This link was used already', 'Each link works once. Ask for a new one.'],
      code_expired: ['This link has expired', 'Links work for a short while only. Ask for a new one.'],
      under_minimum_age: [
        'Backpacks are for people 13 or older',
        'We have not created a backpack and kept nothing about you.',
      ],
      rate_limited: ['Too many requests', 'Too many links were asked for this address; try again later.'],
      conflict: ['Please try again', 'Your backpack was being created by another request; sign in again.'],
    };
    const [title, message] = text[err.code] ?? ['This request cannot be completed', err.detail ?? err.title];
    for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
    return sendPage(reply, err.status, messagePage(title, message, ctx));
  };

  const pageErrors = (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err.validation) {
      // A body that failed validation: nothing in it is taken for granted.
      const body = (request.body ?? {}) as Partial<PageForm>;
      const ctx = context(request, reply, body.return_to);
      return sendPage(reply, 400, signInPage(ctx, { text: 'Please check what you typed.', error: true }));
    }
    throw err;
  };

  return {
    getSignInPage: {
      errorHandler: pageErrors,
      handler: async (request, reply) => {
        const query = request.query;
        const ctx = context(request, reply, query.return_to);
        const secret = request.cookies[cookieName];
        const principal = secret ? await sessions.resolve(secret) : null;
        if (principal) {
          if (ctx.returnTo && ctx.returnTo !== '/sign-in' && !ctx.returnTo.startsWith('/sign-in?')) {
            return reply.header('cache-control', 'no-store').redirect(ctx.returnTo, 303);
          }
          return sendPage(reply, 200, signedInPage());
        }
        return sendPage(reply, 200, signInPage(ctx));
      },
    },

    requestSignInLinkFromPage: {
      config: signInLimit,
      errorHandler: pageErrors,
      handler: async (request, reply) => {
        const body = request.body;
        const ctx = context(request, reply, body.return_to);
        if (!fromOwnPage(request, body)) return refused(reply, ctx);
        const page = new URL('/sign-in', config.publicUrl);
        if (ctx.returnTo) page.searchParams.set('return_to', ctx.returnTo);
        try {
          await signIn.requestLink(body.email ?? '', requesterOf(request), page);
        } catch (err) {
          if (err instanceof Problem) return problemPage(reply, err, ctx);
          throw err;
        }
        return sendPage(reply, 200, checkMailPage(ctx, deps.codeTtlMinutes));
      },
    },

    completeSignInFromPage: {
      config: signInLimit,
      errorHandler: pageErrors,
      handler: async (request, reply) => {
        const body = request.body;
        const ctx = context(request, reply, body.return_to);
        if (!fromOwnPage(request, body)) return refused(reply, ctx);
        const code = codeFromPaste(body.code ?? '');
        const age = body.age === undefined || body.age === '' ? undefined : Number(body.age);
        if (age !== undefined && !(Number.isInteger(age) && age >= 0 && age <= 150)) {
          return sendPage(reply, 400, agePage(ctx, code, MINIMUM_AGE));
        }
        let result: Awaited<ReturnType<SignIn['redeemLink']>>;
        try {
          result = await signIn.redeemLink(code, age, coarseUserAgent(request.headers['user-agent']));
        } catch (err) {
          if (err instanceof Problem && err.code === 'age_required') {
            return sendPage(reply, 200, agePage(ctx, code, MINIMUM_AGE));
          }
          if (err instanceof Problem) return problemPage(reply, err, ctx);
          throw err;
        }
        reply.setCookie(cookieName, result.session.secret, {
          httpOnly: true,
          secure,
          sameSite: 'lax',
          path: '/',
          expires: result.session.expiresAt,
        });
        return reply.header('cache-control', 'no-store').redirect(ctx.returnTo ?? '/sign-in', 303);
      },
    },

    getServiceLogo: {
      config: { rateLimit: false },
      handler: async (_request, reply) =>
        reply
          .type('image/svg+xml')
          .header('cache-control', 'public, max-age=86400')
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
          .send(LOGO),
    },

    getPrivacyPolicy: async (_request, reply) => {
      if (config.privacyPolicyUrl) return reply.redirect(config.privacyPolicyUrl.toString(), 302);
      return sendPage(reply, 200, privacyPage(facts));
    },

    getTermsOfService: async (_request, reply) => {
      if (config.termsOfServiceUrl) return reply.redirect(config.termsOfServiceUrl.toString(), 302);
      return sendPage(reply, 200, termsPage(facts));
    },
  };
}
