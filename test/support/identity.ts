import { createDatabase, migrateLatest } from '../../src/data-access/database';
import type { AppDeps } from '../../src/http/deps';
import { eventually } from './eventually';
import { statementTimeoutMs } from './pooler';
import { startTestApp, unique, type TestApp } from './test-app';

export type Tokens = { access_token: string; refresh_token: string };

/** Logs in through the API and returns the token pair; fails the test on anything but 200. */
export async function login(t: TestApp, username: string, password: string): Promise<Tokens> {
  const res = await t.request.post('/api/v1/auth/login').send({ username, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Tokens;
}

type MailEntry = { mail: { to: string; text: string } };
const isMail = (entry: Record<string, unknown>): entry is Record<string, unknown> & MailEntry =>
  typeof entry.mail === 'object' && entry.mail !== null;

/** The emails the development transport wrote to the log for this address, oldest first. */
export function mailsTo(t: TestApp, email: string): MailEntry['mail'][] {
  return t.logs.entries
    .filter(isMail)
    .map((entry) => entry.mail)
    .filter((mail) => mail.to === email);
}

/** Waits for the `n`th reset email to this address and returns the token from its link. */
export async function resetTokenFor(t: TestApp, email: string, n = 1): Promise<string> {
  const mail = await eventually(() => mailsTo(t, email)[n - 1]);
  const match = /\/reset-password\?token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error(`no reset link in ${mail.text}`);
  return match[1];
}

const connect = (url: string) =>
  createDatabase({
    kind: 'postgres',
    url,
    poolMin: 0,
    poolMax: 1,
    statementTimeoutMs: statementTimeoutMs(30_000),
    connectTimeoutMs: 5_000,
  });

/**
 * Starts the app on a database of its own: a fresh PostgreSQL database next to TEST_DATABASE_URL, or a fresh PGlite.
 * For tests about global state, such as "no active superuser left", that other files must not disturb.
 */
export async function startIsolatedTestApp(
  options: { env?: Record<string, string>; deps?: Partial<AppDeps> } = {},
): Promise<TestApp> {
  const sharedUrl = process.env.TEST_DATABASE_URL;
  if (!sharedUrl) return startTestApp(options);
  const name = unique('iso').toLowerCase();
  const admin = connect(sharedUrl);
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(sharedUrl);
  url.pathname = `/${name}`;
  const isolated = connect(url.toString());
  await migrateLatest(isolated);
  await isolated.destroy();
  const t = await startTestApp({ ...options, env: { ...options.env, DATABASE_URL: url.toString() } });
  return {
    ...t,
    close: async () => {
      await t.close();
      await admin.raw(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
