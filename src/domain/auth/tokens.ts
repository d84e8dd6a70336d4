import { createHash, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const ACCESS_TOKEN_TYPE = 'access';
export const JWT_ALGORITHM = 'HS256';

/** Signs an access token with the claims sub, iat, exp, jti and the token type. */
export function signAccessToken(userId: number, secret: string, now: Date, ttlSeconds: number): string {
  const iat = Math.floor(now.getTime() / 1000);
  return jwt.sign(
    { sub: String(userId), type: ACCESS_TOKEN_TYPE, iat, exp: iat + ttlSeconds, jti: randomUUID() },
    secret,
    {
      algorithm: JWT_ALGORITHM,
    },
  );
}

/** A new opaque refresh token: 256 random bits, URL-safe. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The SHA-256 hex digest under which a refresh or reset token is stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
