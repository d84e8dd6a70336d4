import { randomBytes } from 'node:crypto';
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
    DB_POOL_MIN: int(0, 100).default(2),
    DB_POOL_MAX: int(1, 200).default(10),
    DB_STATEMENT_TIMEOUT_MS: int(0, 600_000).default(10_000),
    DB_CONNECT_TIMEOUT_MS: int(100, 60_000).default(2_000),
    READINESS_TIMEOUT_MS: int(50, 30_000).default(1_000),
    MAX_BODY_BYTES: int(1_024, 100 * 1024 * 1024).default(1024 * 1024),
    VALIDATE_RESPONSES: bool.optional(),
    TRUST_PROXY: optionalString,
    SECRET_KEY: optionalString,
    BCRYPT_ROUNDS: int(4, 16).default(12),
    ACCESS_TOKEN_EXPIRE_MINUTES: int(1, 24 * 60).default(30),
    REFRESH_TOKEN_EXPIRE_DAYS: int(1, 365).default(7),
    OPEN_REGISTRATION: bool.default(true),
    MAX_FAILED_LOGINS: int(1, 100).default(5),
    LOCKOUT_MINUTES: int(1, 24 * 60).default(15),
  })
  .superRefine((env, ctx) => {
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
      : { kind: 'pglite' as const, dataDir: env.DATA_DIR },
    readinessTimeoutMs: env.READINESS_TIMEOUT_MS,
    maxBodyBytes: env.MAX_BODY_BYTES,
    validateResponses: env.VALIDATE_RESPONSES ?? env.NODE_ENV !== 'production',
    trustProxy: env.TRUST_PROXY,
    // Outside production a missing key becomes a random per-process one: tokens then die with the process.
    secretKey: env.SECRET_KEY ?? randomBytes(32).toString('base64url'),
    secretKeySet: env.SECRET_KEY !== undefined,
    auth: {
      bcryptRounds: env.BCRYPT_ROUNDS,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_EXPIRE_DAYS * 24 * 3600,
      openRegistration: env.OPEN_REGISTRATION,
      maxFailedLogins: env.MAX_FAILED_LOGINS,
      lockoutSeconds: env.LOCKOUT_MINUTES * 60,
    },
  };
}

/** Raised when the environment does not describe a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment once and returns the typed configuration, or throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  return toConfig(parsed.data);
}
