import type { Transporter } from 'nodemailer';
import type { Config } from './config';
import type { Logger } from './logger';

// Loaded on the first email: the library adds several megabytes and a noticeable start-up time to every process.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadNodemailer = () => require('nodemailer') as typeof import('nodemailer');

export type MailMessage = { to: string; subject: string; text: string };

/** Sends one email; rejects when the transport fails. */
export type Mailer = { send: (message: MailMessage) => Promise<void> };

/**
 * SMTP through nodemailer when SMTP_URL is set. Without it, development writes each message to the log; production
 * drops it with a warning that names neither its text nor its recipient (a reset link is a credential).
 */
export function createMailer(mail: Config['mail'], logger: Logger): Mailer {
  const smtpUrl = mail.smtpUrl;
  if (smtpUrl) {
    let smtp: Transporter | undefined;
    return {
      send: async (message) => {
        smtp ??= loadNodemailer().createTransport(smtpUrl);
        await smtp.sendMail({ from: mail.from, ...message });
      },
    };
  }
  if (!mail.logUndelivered) {
    return {
      send: (message) => {
        logger.warn('email not sent: SMTP_URL is not set', { mail: { subject: message.subject } });
        return Promise.resolve();
      },
    };
  }
  let json: Transporter | undefined;
  return {
    send: async (message) => {
      json ??= loadNodemailer().createTransport({ jsonTransport: true });
      const info = await json.sendMail({ from: mail.from, ...message });
      const { messageId, subject, text } = JSON.parse(info.message) as Record<string, unknown>;
      logger.info('email written to the log (development transport; set SMTP_URL to send)', {
        mail: { message_id: messageId, to: message.to, subject, text },
      });
    },
  };
}
