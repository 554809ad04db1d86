// Reads what the app "sent": the outbox transport keeps every message in memory.
import type { FastifyInstance } from 'fastify';
import type { SentMail } from '../../src/mail/index.ts';

export function mailTo(app: FastifyInstance, address: string): SentMail[] {
  return app.services.mail.outbox.filter((m) => m.to === address.toLowerCase());
}

/** The secret of the newest message to the address: a link's `#code=` or a code on its own line. */
export function lastCodeFor(app: FastifyInstance, address: string): string {
  const last = mailTo(app, address).at(-1);
  if (!last) throw new Error(`no mail to ${address}`);
  const match = /#code=([A-Za-z0-9_-]{43})/.exec(last.text) ?? /^([A-Za-z0-9_-]{43})$/m.exec(last.text);
  if (!match?.[1]) throw new Error(`no code in the mail to ${address}`);
  return match[1];
}
