// Irreversible deletions (the account, every badge) need more than a cookie that may have been
// left in a browser: a sign-in within DELETION_FRESHNESS_MINUTES, or a code mailed to the
// account's primary address for that very deletion. Bearer tokens never qualify.
import type { Principal } from '../../http/auth.ts';
import { Problem } from '../../http/problems.ts';
import type { CodePurpose, CodeRow, Codes } from './codes.ts';

export type DeletionPurpose = Extract<CodePurpose, 'confirm_deletion' | 'confirm_badge_deletion'>;

export class DeletionConfirmation {
  constructor(
    private readonly codes: Codes,
    private readonly freshnessMinutes: number,
    private readonly now: () => Date,
  ) {}

  /**
   * Null when the session signed in recently enough; otherwise the code row that confirms the
   * deletion (the caller decides when it is spent). Throws `confirmation_required` without a
   * code, `code_invalid` for a code sent for another purpose or account.
   * @param ask the operation that mails a code, named in the problem.
   */
  async check(
    principal: Principal,
    purpose: DeletionPurpose,
    confirmationCode: string | undefined,
    ask: string,
  ): Promise<CodeRow | null> {
    if (principal.via !== 'session') throw new Problem('forbidden', 'Only a signed-in session can do this.');
    const fresh =
      principal.authenticatedAt !== null &&
      this.now().getTime() - principal.authenticatedAt.getTime() <= this.freshnessMinutes * 60_000;
    if (fresh) return null;
    if (!confirmationCode) {
      throw new Problem(
        'confirmation_required',
        `Sign in again (within ${this.freshnessMinutes} minutes), or send the code from ${ask}.`,
      );
    }
    const code = await this.codes.find(purpose, confirmationCode);
    if (code.earnerId !== principal.earnerId) {
      throw new Problem('code_invalid', 'The code was not sent for this account.');
    }
    return code;
  }

  /** For deleting every badge: checks, and spends the code (once) before anything is deleted. */
  async confirmBadgeDeletion(principal: Principal, confirmationCode: string | undefined): Promise<void> {
    const code = await this.check(
      principal,
      'confirm_badge_deletion',
      confirmationCode,
      'requestBadgeDeletionCode',
    );
    if (code) await this.codes.consume(code.id);
  }
}
