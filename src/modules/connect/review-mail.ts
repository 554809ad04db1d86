// The earner hears of a badge an issuer platform pushed that waits for their review: one
// message per held badge, when it is first stored. A repeated push of the same badge stores
// nothing new and sends nothing; an earner who turned `pushReviewMail` off gets none (read only
// here, so that pushes accepted at once or repeated cost nothing more).
import type { FastifyBaseLogger } from 'fastify';
import type { Mailer } from '../../mail/index.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { OAuthServer } from './oauth.ts';

export type HeldBadgeNotice = (
  earnerId: string,
  clientId: string,
  badge: { name: string; issuerName: string },
) => Promise<void>;

/** Names come from issuers and platforms: one line each, bounded, with no control characters. */
function oneLine(text: string, max = 120): string {
  const line = text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]+/gu, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function heldBadgeNotice(deps: {
  mailer: Mailer;
  accounts: AccountsService;
  oauth: OAuthServer;
  log?: FastifyBaseLogger;
}): HeldBadgeNotice {
  return async (earnerId, clientId, badge) => {
    let to: string | null;
    let platform: string;
    try {
      if (!(await deps.accounts.getProfile(earnerId)).pushReviewMail) return;
      to = await deps.accounts.primaryAddress(earnerId);
      platform = oneLine((await deps.oauth.clientNames([clientId])).get(clientId) ?? 'An issuer platform');
    } catch (err) {
      // The badge is stored already: the push succeeds whether or not the earner can be told.
      deps.log?.warn({ reason: err instanceof Error ? err.name : 'unknown' }, 'review mail not sent');
      return;
    }
    if (!to) return;
    const text = [
      `${platform} sent a badge to your Badge Backpack: "${oneLine(badge.name)}", from ${oneLine(badge.issuerName)}.`,
      '',
      'It is held for your review: until you accept it, it is not in your backpack and no one',
      'else sees it. Accept or reject it among the pushed badges of your backpack.',
      '',
      'You get one message for each badge held for review. To stop them, turn off',
      '"pushReviewMail" in your profile.',
    ].join('\n');
    // The platform's push does not wait on the mail server, nor fail with it: the badge is
    // stored and listed among the pushed badges whether or not the message goes out.
    deps.mailer
      .send({ to, subject: 'A badge waits for your review in your Badge Backpack', text })
      .catch((err: unknown) => {
        deps.log?.warn({ reason: err instanceof Error ? err.name : 'unknown' }, 'review mail not sent');
      });
  };
}
