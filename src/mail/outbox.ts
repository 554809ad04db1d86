import type { FastifyBaseLogger } from 'fastify';
import type { Mailer, MailMessage, SentMail } from './index.ts';

/** Enough for a developer to find the latest codes; older messages are dropped. */
const KEEP = 200;

export class OutboxMailer implements Mailer {
  readonly messages: SentMail[] = [];

  constructor(
    private readonly from: string,
    private readonly log?: FastifyBaseLogger,
  ) {}

  async send(message: MailMessage): Promise<void> {
    this.messages.push({ ...message, from: this.from, sentAt: new Date() });
    if (this.messages.length > KEEP) this.messages.splice(0, this.messages.length - KEEP);
    // The recipient and body stay out of the log: the body carries a secret and the address
    // ties the line to a person.
    this.log?.info({ subject: message.subject, outboxSize: this.messages.length }, 'mail written to outbox');
  }

  async close(): Promise<void> {}
}
