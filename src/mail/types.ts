// What every mail transport takes and what the outbox keeps.

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
