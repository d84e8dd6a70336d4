type PathToRegexp = (path: unknown, options?: Record<string, unknown>) => { regexp: RegExp; keys: unknown[] };
type PathToRegexpModule = { pathToRegexp: PathToRegexp & { memoized?: true } };

const PRIMITIVE_OPTIONS = new Set(['sensitive', 'strict', 'end', 'trailing', 'delimiter']);

/**
 * Memoizes path-to-regexp's `pathToRegexp` for string paths, in the copy express-openapi-validator loads.
 * The validator (5.6) looks a request's operation up by compiling the regular expression of every route of the spec
 * on every request, which was over half of the CPU time of a `GET /health`; compiling is a pure function of the route
 * and its options, so each one is now compiled once. Idempotent.
 */
export function memoizeRouteRegexps(): void {
  // The validator's own copy of the module, wherever npm placed it.
  const validatorEntry = require.resolve('express-openapi-validator');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(require.resolve('path-to-regexp', { paths: [validatorEntry] })) as PathToRegexpModule;
  if (mod.pathToRegexp.memoized) return;
  const original = mod.pathToRegexp;
  const cache = new Map<string, ReturnType<PathToRegexp>>();
  const memoized: PathToRegexpModule['pathToRegexp'] = (path, options = {}) => {
    if (typeof path !== 'string') return original(path, options);
    // Called once per route on every request: a plain loop and string key, no intermediate arrays.
    let key = path;
    for (const name in options) {
      const value = options[name];
      if (!PRIMITIVE_OPTIONS.has(name) || (typeof value === 'object' && value !== null)) return original(path, options);
      key += `\u0000${name}=${String(value)}`;
    }
    let compiled = cache.get(key);
    if (!compiled) {
      compiled = original(path, options);
      // Bounded: keys are route templates of the spec and of the app's routers, never request paths.
      if (cache.size < 10_000) cache.set(key, compiled);
    }
    return compiled;
  };
  memoized.memoized = true;
  mod.pathToRegexp = memoized;
}
