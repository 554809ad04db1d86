import type { FastifyBaseLogger } from 'fastify';
import type { Mailer, MailMessage, SentMail } from './types.ts';

/** Enough for a developer to find the latest codes; older messages are dropped. */
const KEEP = 200;

export interface ConsoleStream {
  write(text: string): unknown;
}

export class OutboxMailer implements Mailer {
  readonly messages: SentMail[] = [];

  /**
   * @param console where a first run without SMTP shows each message in full (main.ts passes
   *   standard error), so that a developer can follow a sign-in link; never the log.
   */
  constructor(
    private readonly from: string,
    private readonly log?: FastifyBaseLogger,
    private readonly console?: ConsoleStream,
  ) {}

  async send(message: MailMessage): Promise<void> {
    this.messages.push({ ...message, from: this.from, sentAt: new Date() });
    if (this.messages.length > KEEP) this.messages.splice(0, this.messages.length - KEEP);
    // The recipient and body stay out of the log: the body carries a secret and the address
    // ties the line to a person.
    this.log?.info({ subject: message.subject, outboxSize: this.messages.length }, 'mail written to outbox');
    this.console?.write(consoleBlock(message));
  }

  async close(): Promise<void> {}
}

function consoleBlock(message: MailMessage): string {
  const rule = '='.repeat(72);
  return [
    '',
    rule,
    'MAIL NOT SENT (no SMTP_URL): this message is shown here only, for local use',
    `To: ${message.to}`,
    `Subject: ${message.subject}`,
    '',
    message.text,
    rule,
    '',
  ].join('\n');
}

/** MAIL_DISABLED: messages go nowhere; the log says one was dropped, never to whom. */
export class DisabledMailer implements Mailer {
  constructor(private readonly log?: FastifyBaseLogger) {}

  async send(message: MailMessage): Promise<void> {
    this.log?.warn({ subject: message.subject }, 'mail disabled: message dropped');
  }

  async close(): Promise<void> {}
}
