import { createTransport } from 'nodemailer';
import type { Config } from './config';
import type { Logger } from './logger';

export type MailMessage = { to: string; subject: string; text: string };

/** Sends one email; rejects when the transport fails. */
export type Mailer = { send: (message: MailMessage) => Promise<void> };

/** SMTP through nodemailer when SMTP_URL is set, otherwise a development transport that writes each message to the log. */
export function createMailer(mail: Config['mail'], logger: Logger): Mailer {
  if (mail.smtpUrl) {
    const smtp = createTransport(mail.smtpUrl);
    return {
      send: async (message) => {
        await smtp.sendMail({ from: mail.from, ...message });
      },
    };
  }
  const json = createTransport({ jsonTransport: true });
  return {
    send: async (message) => {
      const info = await json.sendMail({ from: mail.from, ...message });
      const { messageId, subject, text } = JSON.parse(info.message) as Record<string, unknown>;
      logger.info('email written to the log (development transport; set SMTP_URL to send)', {
        mail: { message_id: messageId, to: message.to, subject, text },
      });
    },
  };
}
