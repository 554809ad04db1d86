// Outgoing mail: one small interface with two transports chosen by config. SMTP (nodemailer)
// for production; otherwise an in-memory outbox that logs only that a message was written, so
// that the embedded mode and the tests can read the codes without any secret reaching a log.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { OutboxMailer } from './outbox.ts';
import { SmtpMailer } from './smtp.ts';

export { OutboxMailer } from './outbox.ts';
export { SmtpMailer } from './smtp.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

export interface SentMail extends MailMessage {
  from: string;
  sentAt: Date;
}

export interface MailService {
  mailer: Mailer;
  /** Messages the outbox transport holds, oldest first; always empty with SMTP. */
  readonly outbox: readonly SentMail[];
}

export function createMailService(
  config: Pick<Config, 'smtpUrl' | 'mailFrom'>,
  log: FastifyBaseLogger,
  injected?: Mailer,
): MailService {
  if (injected) {
    return { mailer: injected, outbox: injected instanceof OutboxMailer ? injected.messages : [] };
  }
  if (config.smtpUrl) return { mailer: new SmtpMailer(config.smtpUrl, config.mailFrom), outbox: [] };
  const outbox = new OutboxMailer(config.mailFrom, log);
  return { mailer: outbox, outbox: outbox.messages };
}
