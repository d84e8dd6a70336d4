import type { Transporter } from 'nodemailer';
import type { Config } from './config';
import type { Logger } from './logger';

// Loaded on the first email: the library adds several megabytes and a noticeable start-up time to every process.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadNodemailer = () => require('nodemailer') as typeof import('nodemailer');

export type MailMessage = { to: string; subject: string; text: string };

/** Sends one email; rejects when the transport fails. */
export type Mailer = { send: (message: MailMessage) => Promise<void> };

/** SMTP through nodemailer when SMTP_URL is set, otherwise a development transport that writes each message to the log. */
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
