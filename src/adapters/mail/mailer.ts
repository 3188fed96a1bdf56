import nodemailer from 'nodemailer';
import type { Logger } from '../../logger';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Sends account e-mail. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/** SMTP through nodemailer (`smtp://user:pass@host:587`, `smtps://…:465`). */
export function smtpMailer(url: string, from: string): Mailer {
  const transport = nodemailer.createTransport(url);
  return {
    send: async (m) => {
      await transport.sendMail({ from, to: m.to, subject: m.subject, text: m.text });
    },
    close: () => transport.close(),
  };
}

/**
 * Without SMTP_URL (a laptop, the embedded default) each message is written to the server log,
 * clearly marked, so its owner can still follow a reset link. Deliberately the one place a link
 * with a token is logged: there is nowhere else for it to go.
 */
export function logMailer(logger: Logger): Mailer {
  return {
    send: async (m) => {
      logger.warn({ mail: { to: m.to, subject: m.subject, text: m.text } }, `EMAIL NOT SENT (SMTP_URL is unset), shown here instead: to ${m.to}: ${m.subject}`);
    },
    close: () => undefined,
  };
}
