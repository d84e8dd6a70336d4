import type { Request } from 'express';
import { Passport } from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { findUserById } from '../../data-access/users-repository';
import { ACCESS_TOKEN_TYPE, JWT_ALGORITHM, verificationKeys } from '../../domain/auth/tokens';
import { AppError } from '../../lib/errors';
import type { Authenticate } from '../binding/pipeline';
import type { AppDeps } from '../deps';
import type { Caller } from '../binding/operations';

type Claims = { sub?: unknown; type?: unknown; exp?: unknown; iat?: unknown };

// The `kid` of a token's header; undefined when it has none, null when the header is not a JSON object.
function headerKeyId(token: string): unknown {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null ? (header as { kid?: unknown }).kid : null;
  } catch {
    return null;
  }
}

/**
 * Verifies the bearer access token with passport-jwt (HS256 only; the key its `kid` names, current or previous)
 * and loads its user on every request.
 */
export function createAuthenticator(deps: Pick<AppDeps, 'db' | 'clock' | 'config'>): Authenticate {
  const keyFor = verificationKeys(deps.config.secretKey, deps.config.previousSecretKeys);
  const passport = new Passport();
  passport.use(
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKeyProvider: (_req, token, done) => {
          const key = keyFor(headerKeyId(token));
          // A KeyObject where the types say string: jsonwebtoken takes both.
          if (key) done(null, key as unknown as string);
          else done(new Error('unknown signing key'));
        },
        algorithms: [JWT_ALGORITHM],
        // Expiry is checked below against the injectable clock, which also rejects tokens with no `exp`.
        ignoreExpiration: true,
      },
      (claims: Claims, done: (err: unknown, user?: Caller | false, info?: unknown) => void) => {
        verifyClaims(claims)
          .then((caller) => done(null, caller))
          .catch((err: unknown) => done(err));
      },
    ),
  );

  async function verifyClaims(claims: Claims): Promise<Caller> {
    if (claims.type !== ACCESS_TOKEN_TYPE || typeof claims.sub !== 'string' || !/^\d{1,10}$/.test(claims.sub)) {
      throw new AppError('INVALID_TOKEN', 'The access token is invalid.');
    }
    if (typeof claims.exp !== 'number') throw new AppError('INVALID_TOKEN', 'The access token has no expiry.');
    if (claims.exp * 1000 <= deps.clock.now().getTime())
      throw new AppError('TOKEN_EXPIRED', 'The access token has expired.');
    const user = await findUserById(deps.db, Number(claims.sub));
    if (!user) throw new AppError('INVALID_TOKEN', 'The user of this token no longer exists.');
    if (!user.isActive) throw new AppError('INACTIVE_USER', 'This account is deactivated.');
    // `iat` has whole seconds: a token from the same second as the change is still accepted.
    if (
      user.passwordChangedAt &&
      !(typeof claims.iat === 'number' && claims.iat >= Math.floor(user.passwordChangedAt.getTime() / 1000))
    ) {
      throw new AppError('INVALID_TOKEN', 'The password was changed after this token was issued; log in again.');
    }
    return { id: user.id, isSuperuser: user.isSuperuser, user };
  }

  return (req: Request) =>
    new Promise<Caller>((resolve, reject) => {
      const callback = (err: unknown, caller: Caller | false, info: unknown) => {
        if (err) return reject(err);
        if (caller) return resolve(caller);
        const noToken = info instanceof Error && info.message === 'No auth token';
        reject(
          noToken
            ? new AppError('NOT_AUTHENTICATED', 'Authentication is required.')
            : new AppError('INVALID_TOKEN', 'The access token is invalid.'),
        );
      };
      passport.authenticate('jwt', { session: false }, callback)(req, {}, reject);
    });
}
