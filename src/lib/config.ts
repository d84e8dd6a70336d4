import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const PLACEHOLDER_SECRETS = [
  'change-me',
  'changeme',
  'secret',
  'dev-secret-change-me',
  'please-change-this-secret-key',
];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
// VALIDATE_RESPONSES: a boolean (every response, a violation answers 500) or `sample:<share>` (that share of the
// responses, checked after they are sent).
const responseValidation = z.string().transform((value, ctx) => {
  const flag = bool.safeParse(value);
  if (flag.success) return flag.data ? ('full' as const) : ('off' as const);
  const share = /^sample:(.*)$/.exec(value)?.[1];
  const rate = share !== undefined && /^\d*\.?\d+$/.test(share.trim()) ? Number(share) : Number.NaN;
  if (rate > 0 && rate <= 1) return { sample: rate };
  ctx.addIssue({
    code: 'custom',
    message: 'must be true, false or sample:<share> with a share above 0 and at most 1 (e.g. sample:0.01)',
  });
  return z.NEVER;
});
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());
const optionalUrl = (protocols: RegExp) =>
  z.preprocess(emptyAsUndefined, z.string().regex(protocols, `must start with ${protocols.source}`).optional());

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: int(0, 65535).default(8000),
    HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
    DATABASE_URL: optionalUrl(/^postgres(ql)?:\/\//),
    DATA_DIR: z.string().min(1).default('./.data'),
    EMBEDDED_SHARED_BUFFERS: z
      .string()
      .regex(/^[1-9][0-9]*(kB|MB|GB)$/, 'must be a size such as 128MB')
      .default('128MB'),
    DB_POOL_MIN: int(0, 100).default(2),
    DB_POOL_MAX: int(1, 200).default(10),
    DB_STATEMENT_TIMEOUT_MS: int(0, 600_000).default(10_000),
    DB_CONNECT_TIMEOUT_MS: int(100, 60_000).default(2_000),
    READINESS_TIMEOUT_MS: int(50, 30_000).default(1_000),
    MAX_BODY_BYTES: int(1_024, 100 * 1024 * 1024).default(1024 * 1024),
    VALIDATE_RESPONSES: responseValidation.optional(),
    ENFORCE_SUNSET: bool.default(false),
    TRUST_PROXY: optionalString,
    REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
    SHUTDOWN_DELAY_MS: int(0, 600_000).optional(),
    SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
    WEB_CONCURRENCY: z.union([z.literal('auto'), int(1, 256)]).default(1),
    METRICS_TOKEN: optionalString,
    ALLOWED_ORIGINS: z
      .string()
      .default('')
      .transform((list) =>
        list
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.union([z.literal('*'), z.url({ protocol: /^https?$/ })]))),
    SECRET_KEY: optionalString,
    // Keys tokens were signed with before the current one, accepted until those tokens expire (rotation).
    SECRET_KEY_PREVIOUS: optionalString.transform((value) =>
      (value ?? '')
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean),
    ),
    BCRYPT_ROUNDS: int(4, 16).default(12),
    ACCESS_TOKEN_EXPIRE_MINUTES: int(1, 24 * 60).default(30),
    REFRESH_TOKEN_EXPIRE_DAYS: int(1, 365).default(7),
    OPEN_REGISTRATION: bool.default(true),
    MAX_FAILED_LOGINS: int(1, 100).default(5),
    LOCKOUT_MINUTES: int(1, 24 * 60).default(15),
    IDEMPOTENCY_TTL_HOURS: int(1, 24 * 30).default(24),
    RESET_TOKEN_EXPIRE_MINUTES: int(1, 24 * 60).default(30),
    PUBLIC_BASE_URL: z
      .string()
      .regex(/^https?:\/\/[^/]+/, 'must be an http(s) URL')
      .default('http://localhost:8000')
      .transform((url) => url.replace(/\/+$/, '')),
    SMTP_URL: optionalUrl(/^smtps?:\/\//),
    // Where the reset email points; `{token}` is replaced. The front end that serves it calls confirmPasswordReset.
    PASSWORD_RESET_URL: z
      .string()
      .regex(/^https?:\/\/[^/]+.*\{token\}/, 'must be an http(s) URL containing {token}')
      .optional(),
    SEED_DEMO_DATA: bool.optional(),
    MAIL_FROM: z.string().min(3).max(254).default('Shop API <no-reply@localhost>'),
    RATE_LIMIT_PER_MINUTE: int(1, 1_000_000).default(1_000),
    AUTH_RATE_LIMIT_PER_MINUTE: int(1, 1_000_000).default(20),
    REDIS_URL: optionalUrl(/^rediss?:\/\//),
    RATE_LIMIT_REDIS_PREFIX: z.string().min(1).max(100).default('rl:'),
    FIRST_SUPERUSER_EMAIL: z.preprocess(emptyAsUndefined, z.email().max(254).optional()),
    FIRST_SUPERUSER_PASSWORD: optionalString,
    FIRST_SUPERUSER_USERNAME: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,50}$/, 'must be 3-50 letters, digits, _ . or -')
      .default('admin'),
  })
  .superRefine((env, ctx) => {
    if ((env.FIRST_SUPERUSER_EMAIL === undefined) !== (env.FIRST_SUPERUSER_PASSWORD === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.FIRST_SUPERUSER_EMAIL ? 'FIRST_SUPERUSER_PASSWORD' : 'FIRST_SUPERUSER_EMAIL'],
        message: 'FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD are set together',
      });
    }
    if (env.WEB_CONCURRENCY !== 1 && !env.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEB_CONCURRENCY'],
        message: 'needs DATABASE_URL: the embedded database belongs to one process',
      });
    }
    if (env.METRICS_TOKEN !== undefined && env.METRICS_TOKEN.length < 16) {
      ctx.addIssue({ code: 'custom', path: ['METRICS_TOKEN'], message: 'must be at least 16 characters' });
    }
    if (env.DB_POOL_MIN > env.DB_POOL_MAX) {
      ctx.addIssue({ code: 'custom', path: ['DB_POOL_MIN'], message: 'must not exceed DB_POOL_MAX' });
    }
    if (env.NODE_ENV === 'production') {
      const secret = env.SECRET_KEY;
      if (!secret) {
        ctx.addIssue({ code: 'custom', path: ['SECRET_KEY'], message: 'is required in production' });
      } else if (secret.length < 32) {
        ctx.addIssue({ code: 'custom', path: ['SECRET_KEY'], message: 'must be at least 32 characters in production' });
      } else if (PLACEHOLDER_SECRETS.some((p) => secret.toLowerCase().includes(p))) {
        ctx.addIssue({ code: 'custom', path: ['SECRET_KEY'], message: 'is a placeholder; generate a random secret' });
      }
      if (env.SECRET_KEY_PREVIOUS.some((key) => key.length < 32))
        ctx.addIssue({
          code: 'custom',
          path: ['SECRET_KEY_PREVIOUS'],
          message: 'each key must be at least 32 characters',
        });
    }
    if (env.SECRET_KEY !== undefined && env.SECRET_KEY_PREVIOUS.includes(env.SECRET_KEY)) {
      ctx.addIssue({ code: 'custom', path: ['SECRET_KEY_PREVIOUS'], message: 'must not repeat SECRET_KEY' });
    }
  });

/** The validated, typed configuration the whole process reads. */
export type Config = ReturnType<typeof toConfig>;

function toConfig(env: z.infer<typeof schema>) {
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT ?? (env.NODE_ENV === 'production' ? 'json' : 'pretty'),
    database: env.DATABASE_URL
      ? {
          kind: 'postgres' as const,
          url: env.DATABASE_URL,
          poolMin: env.DB_POOL_MIN,
          poolMax: env.DB_POOL_MAX,
          statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
          connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
        }
      : ({
          kind: 'pglite',
          dataDir: env.DATA_DIR,
          sharedBuffers: env.EMBEDDED_SHARED_BUFFERS,
        } as EmbeddedDatabase),
    readinessTimeoutMs: env.READINESS_TIMEOUT_MS,
    maxBodyBytes: env.MAX_BODY_BYTES,
    // Every response validated (a violation answers 500): on by default in development and test.
    validateResponses: (env.VALIDATE_RESPONSES ?? (env.NODE_ENV !== 'production' ? 'full' : 'off')) === 'full',
    // The share of responses checked after they are sent (VALIDATE_RESPONSES=sample:<share>); 0 when not sampling.
    responseSampleRate: typeof env.VALIDATE_RESPONSES === 'object' ? env.VALIDATE_RESPONSES.sample : 0,
    // Answer 410 GONE to requests that use an operation or parameter past its x-sunset date.
    enforceSunset: env.ENFORCE_SUNSET,
    trustProxy: env.TRUST_PROXY,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    // A load balancer needs a few seconds to see readiness fail and stop routing; in development nothing routes.
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS ?? (env.NODE_ENV === 'production' ? 5_000 : 0),
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    webConcurrency: env.WEB_CONCURRENCY === 'auto' ? availableParallelism() : env.WEB_CONCURRENCY,
    metricsToken: env.METRICS_TOKEN,
    allowedOrigins: env.ALLOWED_ORIGINS,
    dataDir: env.DATA_DIR,
    // Without SECRET_KEY (never in production), development keeps one key in DATA_DIR, so tokens survive restarts
    // and reloads; tests get a random key per process.
    ...withCursorKeys(signingKey(env), env.SECRET_KEY_PREVIOUS),
    previousSecretKeys: env.SECRET_KEY_PREVIOUS,
    auth: {
      bcryptRounds: env.BCRYPT_ROUNDS,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_EXPIRE_DAYS * 24 * 3600,
      openRegistration: env.OPEN_REGISTRATION,
      maxFailedLogins: env.MAX_FAILED_LOGINS,
      lockoutSeconds: env.LOCKOUT_MINUTES * 60,
      resetTokenTtlSeconds: env.RESET_TOKEN_EXPIRE_MINUTES * 60,
      firstSuperuser: env.FIRST_SUPERUSER_EMAIL
        ? {
            email: env.FIRST_SUPERUSER_EMAIL,
            username: env.FIRST_SUPERUSER_USERNAME,
            password: env.FIRST_SUPERUSER_PASSWORD ?? '',
          }
        : undefined,
    },
    // Requests per minute and caller of the `default` and `auth` policies; Redis keys are `<prefix><policy>:<caller>`.
    rateLimit: {
      perMinute: env.RATE_LIMIT_PER_MINUTE,
      authPerMinute: env.AUTH_RATE_LIMIT_PER_MINUTE,
      redisPrefix: env.RATE_LIMIT_REDIS_PREFIX,
    },
    orders: { idempotencyTtlSeconds: env.IDEMPOTENCY_TTL_HOURS * 3600 },
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM,
      publicBaseUrl: env.PUBLIC_BASE_URL,
      resetUrlTemplate: env.PASSWORD_RESET_URL ?? `${env.PUBLIC_BASE_URL}/reset-password?token={token}`,
      // In production a message that cannot be sent is dropped with a warning: its text may hold a credential.
      logUndelivered: env.NODE_ENV !== 'production',
    },
    seedDemoData: env.SEED_DEMO_DATA ?? env.NODE_ENV !== 'production',
    redisUrl: env.REDIS_URL,
  };
}

const DEV_KEY_FILE = 'dev-secret-key';

/**
 * The keys listing cursors are signed with (src/domain/listing.ts), derived from the signing key and the previous
 * ones of a rotation: the first signs, all of them verify, so cursors survive a rotation like access tokens do. A key
 * of their own, so a cursor's MAC can never pass for another token's signature.
 */
function withCursorKeys<K extends { secretKey: string }>(key: K, previous: readonly string[]) {
  const derive = (secret: string) => createHmac('sha256', secret).update('listing cursor').digest();
  return { ...key, cursorKeys: [key.secretKey, ...previous].map(derive) };
}

function signingKey(env: z.infer<typeof schema>): {
  secretKey: string;
  secretKeySource: 'env' | 'data-dir' | 'random';
} {
  if (env.SECRET_KEY !== undefined) return { secretKey: env.SECRET_KEY, secretKeySource: 'env' };
  if (env.NODE_ENV !== 'development' || env.DATA_DIR === ':memory:')
    return { secretKey: randomBytes(32).toString('base64url'), secretKeySource: 'random' };
  return { secretKey: developmentKey(env.DATA_DIR), secretKeySource: 'data-dir' };
}

/** The development signing key kept in DATA_DIR, created on first use; processes starting at once agree on one. */
function developmentKey(dataDir: string): string {
  const file = path.join(dataDir, DEV_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true });
  if (!fs.existsSync(file)) {
    // Written whole under another name, then linked: link fails if another process got there first.
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(draft, randomBytes(32).toString('base64url'), { mode: 0o600 });
    try {
      fs.linkSync(draft, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.unlinkSync(draft);
    }
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/** The URL with its password (in the user part or a `password` parameter) replaced by `***`, fit for a log line. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return '(a URL that does not parse)';
  }
}

/** Raised when the environment does not describe a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The embedded engine's settings; code opening a database of its own (tests, templates) may leave out the tuning. */
export type EmbeddedDatabase = {
  kind: 'pglite';
  dataDir: string;
  /** shared_buffers for a data directory on disk (EMBEDDED_SHARED_BUFFERS); the engine's default when absent. */
  sharedBuffers?: string;
};

/** Validates the environment once and returns the typed configuration, or throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // `VAR=` in a .env file means "not set", so the documented default applies.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(given);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  return toConfig(parsed.data);
}

/**
 * Whether OpenTelemetry tracing is on: `OTEL_TRACES_EXPORTER` names an exporter (`otlp`, `console`, `zipkin`, or a
 * list of them) and `OTEL_SDK_DISABLED` is not `true`. Unset, empty or `none` leaves it off, unlike the SDK's own
 * default of `otlp`: tracing is opt-in, and while it is off no OpenTelemetry module is loaded at all.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return exporters.length > 0 && !exporters.includes('none');
}
