import type { FieldIssue } from '../../lib/errors';

const MAX_BYTES = 72;
const RULES: { test: (password: string) => boolean; message: string }[] = [
  { test: (p) => [...p].length >= 8, message: 'must be at least 8 characters long' },
  { test: (p) => Buffer.byteLength(p, 'utf8') <= MAX_BYTES, message: `must be at most ${MAX_BYTES} bytes of UTF-8` },
  { test: (p) => /\p{Lu}/u.test(p), message: 'must contain an upper-case letter' },
  { test: (p) => /\p{Ll}/u.test(p), message: 'must contain a lower-case letter' },
  { test: (p) => /\p{Nd}/u.test(p), message: 'must contain a digit' },
  { test: (p) => /[^\p{L}\p{Nd}\s]/u.test(p), message: 'must contain a symbol' },
];

/** Lists every password rule the candidate breaks, as issues of the given input field. */
export function passwordViolations(password: string, field: string): FieldIssue[] {
  return RULES.filter((rule) => !rule.test(password)).map((rule) => ({ field: [field], message: rule.message }));
}
