// Outgoing mail: one small interface with transports chosen by config. SMTP (nodemailer) for
// production; none at all when mail is disabled; otherwise an in-memory outbox that logs only
// that a message was written (tests read the codes there) and, for a first run, shows each
// message on the console it is given, so that no secret reaches a log.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { type ConsoleStream, DisabledMailer, OutboxMailer } from './outbox.ts';
import { SmtpMailer } from './smtp.ts';
import type { Mailer, SentMail } from './types.ts';

export { type ConsoleStream, DisabledMailer, OutboxMailer } from './outbox.ts';
export { SmtpMailer } from './smtp.ts';
export type { Mailer, MailMessage, SentMail } from './types.ts';

export interface MailService {
  mailer: Mailer;
  /** Messages the outbox transport holds, oldest first; always empty with SMTP. */
  readonly outbox: readonly SentMail[];
}

export function createMailService(
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'mailDisabled'>,
  log: FastifyBaseLogger,
  injected?: Mailer,
  console?: ConsoleStream,
): MailService {
  if (injected) {
    return { mailer: injected, outbox: injected instanceof OutboxMailer ? injected.messages : [] };
  }
  if (config.smtpUrl) return { mailer: new SmtpMailer(config.smtpUrl, config.mailFrom), outbox: [] };
  if (config.mailDisabled) return { mailer: new DisabledMailer(log), outbox: [] };
  const outbox = new OutboxMailer(config.mailFrom, log, console);
  return { mailer: outbox, outbox: outbox.messages };
}
