// The two ways in, both ending in a session: an e-mailed link and an OIDC ID token. The first
// sign-in for an address that no account has verified creates the account, and only for
// someone who states an age of 13 or more; for anyone younger nothing is kept.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { classifyDatabaseError } from '../../db/errors.ts';
import { truncateIp } from '../../http/logging.ts';
import { Problem } from '../../http/problems.ts';
import type { Mailer } from '../../mail/index.ts';
import type { Codes } from './codes.ts';
import type { Db, Tx } from './db.ts';
import type { OidcVerifier } from './oidc.ts';
import { type AccountsService, normalizeAddress } from './service.ts';
import type { Sessions } from './sessions.ts';

export const MINIMUM_AGE = 13;

export interface SignedIn {
  accountCreated: boolean;
  session: { id: string; secret: string; createdAt: Date; expiresAt: Date; method: string };
}

export interface SignInDeps {
  prisma: Db;
  service: AccountsService;
  sessions: Sessions;
  codes: Codes;
  oidc: OidcVerifier;
  mailer: Mailer;
  signInUrl: URL;
  codeTtlMinutes: number;
}

/**
 * Who asks for a sign-in link, for the limits: the client's network (as the logs show it), hashed
 * so that the code rows keep no address of it.
 */
export function requesterOf(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`requester\n${truncateIp(request.ip) ?? request.ip}`)
    .digest('hex');
}

export class SignIn {
  constructor(private readonly deps: SignInDeps) {}

  /**
   * Sends a sign-in link to `page` (SIGN_IN_URL, unless the backpack's own sign-in page asks
   * for a link back to itself with its `return_to`). The work is the same whether or not an
   * account holds the address (a code row and one message either way), so neither the answer
   * nor its timing tells.
   */
  async requestLink(rawAddress: string, requester: string, page: URL = this.deps.signInUrl): Promise<void> {
    const address = normalizeAddress(rawAddress);
    const { codes } = this.deps;
    const { id, secret } = await codes.issueSignIn(address, requester);
    const link = new URL(page);
    link.hash = `code=${secret}`;
    await codes.mail(id, () =>
      this.deps.mailer.send({
        to: address,
        subject: 'Your Badge Backpack sign-in link',
        text: [
          'Open this link to sign in to your Badge Backpack (or to create one):',
          '',
          link.toString(),
          '',
          'If the page asks for it, paste that link (or this code) into it:',
          '',
          secret,
          '',
          `The link works once, for ${this.deps.codeTtlMinutes} minutes. If you did not ask for it, ignore this message.`,
        ].join('\n'),
      }),
    );
    await codes.supersede(id);
  }

  async redeemLink(secret: string, age: number | undefined, userAgent: string | null): Promise<SignedIn> {
    const code = await this.deps.codes.find('sign_in', secret);
    return this.signIn(code.address, 'email', age, userAgent, (tx) => this.deps.codes.consume(code.id, tx));
  }

  async withIdToken(
    provider: string,
    idToken: string,
    age: number | undefined,
    userAgent: string | null,
  ): Promise<SignedIn> {
    const identity = await this.deps.oidc.verify(provider, idToken);
    const { prisma } = this.deps;
    const replayed = () => new Problem('id_token_replayed', 'The ID token has signed in once already.');
    if (await prisma.usedIdToken.findUnique({ where: { id: identity.replayKey } })) throw replayed();
    // Spent only with the session it creates: a refusal (the age question) leaves it usable.
    return this.signIn(identity.email, `oidc:${identity.provider}`, age, userAgent, async (tx) => {
      try {
        await tx.usedIdToken.create({ data: { id: identity.replayKey, expiresAt: identity.expiresAt } });
      } catch (err) {
        if (classifyDatabaseError(err) === 'conflict') throw replayed();
        throw err;
      }
    });
  }

  private async signIn(
    address: string,
    method: string,
    age: number | undefined,
    userAgent: string | null,
    /** Spends the credential (code or ID token) inside the transaction that creates the session. */
    spend: (tx: Tx) => Promise<void>,
  ): Promise<SignedIn> {
    const { prisma, service, sessions } = this.deps;
    const existing = await service.earnerByVerifiedAddress(address);
    if (!existing) await this.ageGate(address, age);
    try {
      return await prisma.$transaction(async (tx) => {
        await spend(tx);
        // Checked again inside the transaction: another sign-in may have created the account.
        let earnerId = existing ?? (await service.earnerByVerifiedAddress(address, tx));
        const accountCreated = !earnerId;
        if (!earnerId) earnerId = (await service.createEarner([address], null, tx)).id;
        const session = await sessions.create(earnerId, method, userAgent, tx);
        return { accountCreated, session: { ...session, method } };
      });
    } catch (err) {
      if (err instanceof Problem) throw err;
      // Two first sign-ins for one address at once: the unique verified address lets one win.
      if ((await service.earnerByVerifiedAddress(address)) !== null) {
        throw new Problem('conflict', 'The account was being created by another request; sign in again.');
      }
      throw err;
    }
  }

  /**
   * Creating an account needs a stated age of at least 13. A refusal forgets the person: the
   * codes sent to the address go, and neither the address nor the age is logged.
   */
  private async ageGate(address: string, age: number | undefined): Promise<void> {
    if (age === undefined) {
      throw new Problem(
        'age_required',
        "No account has this address yet; creating one needs the earner's age.",
      );
    }
    if (age < MINIMUM_AGE) {
      await this.deps.codes.forgetAddresses([address]);
      throw new Problem('under_minimum_age', `Earners must be ${MINIMUM_AGE} or older to have a backpack.`);
    }
  }
}
