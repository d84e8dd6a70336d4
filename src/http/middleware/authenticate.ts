import type { Request } from 'express';
import { Passport } from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { Actor } from '../../domain/actor';
import { authenticate, type AccessClaims } from '../../domain/auth/sessions';
import { JWT_ALGORITHM, verificationKeys } from '../../domain/auth/tokens';
import { AppError } from '../../lib/errors';
import type { Authenticate } from '../binding/pipeline';
import type { AppDeps } from '../deps';

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
 * Verifies the bearer access token's signature with passport-jwt (HS256 only; the key its `kid` names, current or
 * previous); the domain's `authenticate` then decides on its claims and its user.
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
        // Expiry is checked by `authenticate` against the injectable clock, which also rejects tokens with no `exp`.
        ignoreExpiration: true,
      },
      (claims: AccessClaims, done: (err: unknown, user?: Actor | false, info?: unknown) => void) => {
        authenticate(deps, claims)
          .then((actor) => done(null, actor))
          .catch((err: unknown) => done(err));
      },
    ),
  );

  return (req: Request) =>
    new Promise<Actor>((resolve, reject) => {
      const callback = (err: unknown, actor: Actor | false, info: unknown) => {
        if (err) return reject(err);
        if (actor) return resolve(actor);
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
