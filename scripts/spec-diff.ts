import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { apiCompare, type Diff } from 'api-smart-diff';
import YAML from 'yaml';
import { bundleSpec } from './contract/bundle';

type Doc = Record<string, unknown> & { info?: { version?: string } };

/** One change between two versions of the spec, as the diff library classifies it. */
export type SpecChange = { type: Diff['type']; where: string; description: string };

export type SpecDiff = {
  changes: SpecChange[];
  breaking: SpecChange[];
  versions: [string, string];
  majorRaised: boolean;
  /** False when the spec breaks its clients without raising the major number of `info.version`. */
  ok: boolean;
};

// Component changes show up again, resolved, under every operation that uses them; listing both repeats each one.
const REPEATED_UNDER_PATHS = /^components\/(schemas|responses|parameters|headers|examples|requestBodies)\b/;
const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

const major = (version: string) => Number.parseInt(version.split('.')[0] ?? '', 10);

function locate(diff: Diff): string {
  const [root, route, method] = diff.path.map(String);
  if (root === 'paths' && route && method && METHODS.has(method)) return `${method.toUpperCase()} ${route}`;
  if (root === 'paths' && route) return route;
  return diff.path.join('.');
}

/**
 * Policy corrections to the library's classes: edits of examples document rather than change the contract, a
 * removed error status (4xx/5xx) only means the server no longer sends it, which breaks no client (a removed
 * success status stays breaking), an integer format that the schema's own bounds already fit admits every value
 * it admitted before, and a response header's `required` is a promise of the server (see responseHeaderRequired).
 */
function reclassify(diff: Diff, after: Doc, retired: Retired | undefined): Diff['type'] {
  if (retired) return retired.passed ? 'non-breaking' : 'breaking';
  if (narrowedBySibling(diff, after) || formatWithinBounds(diff, after)) return 'non-breaking';
  const required = responseHeaderRequired(diff);
  if (required) return required;
  const isExample = diff.path.some((segment) => segment === 'example' || segment === 'examples');
  if (isExample && diff.type === 'unclassified') return 'annotation';
  const [root, , , responses, status] = diff.path.map(String);
  const isErrorStatus = root === 'paths' && responses === 'responses' && /^[45]\d\d$/.test(status ?? '');
  if (isErrorStatus && diff.path.length === 5 && diff.action === 'remove') return 'non-breaking';
  return diff.type;
}

/**
 * A response header that becomes `required` is a promise the server makes from now on, which breaks no client (the
 * library classifies any added `required` as breaking, as it would be in a request); one that stops being required
 * may break a client that relied on it; adding or dropping a `required: false`, the default, changes nothing.
 */
function responseHeaderRequired(diff: Diff): Diff['type'] | undefined {
  const [root, , , responses, , headers, , keyword] = diff.path.map(String);
  if (root !== 'paths' || responses !== 'responses' || headers !== 'headers' || keyword !== 'required')
    return undefined;
  if (diff.path.length !== 8) return undefined;
  const before = diff.action !== 'add' && diff.before === true;
  const after = diff.action !== 'remove' && diff.after === true;
  if (before === after) return 'annotation';
  return after ? 'non-breaking' : 'breaking';
}

// Follows a diff's path through the document, resolving local $refs on the way, as the diff library did.
function walk(doc: Doc, path: readonly (string | number)[], from: unknown = doc): unknown {
  const resolved = (node: unknown) => {
    for (let ref = refOf(node); ref !== undefined; ref = refOf(node)) {
      node = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], doc);
    }
    return node;
  };
  let node = from;
  for (const segment of path) node = (resolved(node) as Record<string | number, unknown> | undefined)?.[segment];
  return resolved(node);
}
const refOf = (node: unknown): string | undefined => {
  const ref = (node as { $ref?: unknown } | undefined)?.$ref;
  return typeof ref === 'string' && ref.startsWith('#/') ? ref : undefined;
};

type Retired = { sunset: string; passed: boolean };

/**
 * The sunset of a removed operation, path or parameter, from its `x-sunset` in the base spec: removing it is
 * breaking before that date and allowed from that date on. A path's removal counts once every operation on it is
 * past its sunset; anything without an `x-sunset` is left to the library's classification.
 */
function retirement(diff: Diff, before: Doc, now: Date): Retired | undefined {
  if (diff.action !== 'remove' || diff.path[0] !== 'paths') return undefined;
  const at = diff.path.map(String);
  const operationLevel = METHODS.has(at[2] ?? '');
  const list = operationLevel ? 3 : 2; // where a `parameters` list sits: under the operation, or the path
  const isOperation = at.length === 3 && operationLevel;
  const isPathItem = at.length === 2;
  const isParameters = at.length === list + 1 && at[list] === 'parameters';
  const isParameter = at.length === list + 2 && at[list] === 'parameters';
  if (!isOperation && !isPathItem && !isParameters && !isParameter) return undefined;
  const removed = walk(before, diff.path);
  const resolved = (node: unknown) => {
    const ref = refOf(node);
    return ref ? walk(before, ref.slice(2).split('/')) : node;
  };
  const marked = isPathItem
    ? Object.entries((removed ?? {}) as Record<string, unknown>)
        .filter(([key]) => METHODS.has(key))
        .map(([, op]) => op)
    : isParameters
      ? ((removed ?? []) as unknown[]).map(resolved)
      : [resolved(removed)];
  const sunsets = marked.map((node) => (node as { 'x-sunset'?: unknown } | undefined)?.['x-sunset']);
  if (!sunsets.length || sunsets.some((sunset) => typeof sunset !== 'string')) return undefined;
  const latest = (sunsets as string[]).reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
  const sunsetAt = Date.parse(latest.length === 10 ? `${latest}T00:00:00Z` : latest);
  return { sunset: latest, passed: sunsetAt <= now.getTime() };
}

/**
 * A value added to one member's enum of an `allOf` that another member narrows to a list without it: the schema
 * still admits none of it (a shared `ErrorCode` enum grew, and a response lists its own codes beside it). The diff
 * library reports such a member's change unmerged as breaking.
 */
function narrowedBySibling(diff: Diff, after: Doc): boolean {
  const at = diff.path.lastIndexOf('allOf');
  const [member, properties, property, keyword] = diff.path.slice(at + 1);
  if (at < 0 || diff.action !== 'add' || properties !== 'properties' || keyword !== 'enum') return false;
  const members = walk(after, diff.path.slice(0, at + 1));
  if (!Array.isArray(members)) return false;
  return members.some((sibling, index) => {
    if (index === member) return false;
    const values = walk(after, ['properties', String(property), 'enum'], sibling);
    return Array.isArray(values) && !values.includes(diff.after);
  });
}

const INTEGER_FORMATS: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [-(2 ** 63), 2 ** 63 - 1],
};

/** An `int32` or `int64` format added to an integer whose `minimum` and `maximum` already lie within its range. */
function formatWithinBounds(diff: Diff, after: Doc): boolean {
  const range = INTEGER_FORMATS[String(diff.after)];
  if (diff.action !== 'add' || diff.path[diff.path.length - 1] !== 'format' || !range) return false;
  const schema = walk(after, diff.path.slice(0, -1)) as { minimum?: unknown; maximum?: unknown } | undefined;
  const [minimum, maximum] = [schema?.minimum, schema?.maximum];
  return typeof minimum === 'number' && typeof maximum === 'number' && minimum >= range[0] && maximum <= range[1];
}

/**
 * The library resolves each shared `$ref` once per document, so a later use of a component can show up as added
 * or removed where both documents say the same thing: a change whose value is equal in both, `$ref`s resolved, is
 * no change.
 */
const unchanged = (diff: Diff, before: Doc, after: Doc) =>
  isDeepStrictEqual(walk(before, diff.path), walk(after, diff.path));

/**
 * Compares two parsed specs with api-smart-diff and decides whether the change set may ship under the new version.
 * `now` decides whether a removed operation or parameter is past its `x-sunset`.
 */
export function compareSpecs(before: Doc, after: Doc, now = new Date()): SpecDiff {
  const { diffs } = apiCompare(structuredClone(before), structuredClone(after));
  const seen = new Set<string>();
  const changes: SpecChange[] = [];
  for (const diff of diffs) {
    if (REPEATED_UNDER_PATHS.test(diff.path.join('/')) || unchanged(diff, before, after)) continue;
    const detail = `${diff.action} ${diff.path.slice(3).join('.')}`.trim();
    const retired = retirement(diff, before, now);
    const type = reclassify(diff, after, retired);
    const when = retired && (retired.passed ? 'after its x-sunset' : 'before its x-sunset');
    const description = `${diff.description || detail}${retired ? ` (${when} ${retired.sunset})` : ''}`;
    const change = { type, where: locate(diff), description };
    const key = `${change.type}|${change.where}|${change.description}`;
    if (seen.has(key)) continue;
    seen.add(key);
    changes.push(change);
  }
  const versions: [string, string] = [String(before.info?.version ?? '0'), String(after.info?.version ?? '0')];
  const majorRaised = major(versions[1]) > major(versions[0]);
  const breaking = changes.filter((c) => c.type === 'breaking');
  return { changes, breaking, versions, majorRaised, ok: breaking.length === 0 || majorRaised };
}

/** Prints the changes grouped by class, breaking first. */
export function formatSpecDiff(result: SpecDiff, label: string): string {
  const lines = [`spec changes ${label} (info.version ${result.versions[0]} -> ${result.versions[1]})`];
  for (const type of ['breaking', 'non-breaking', 'deprecated', 'unclassified', 'annotation'] as const) {
    const group = result.changes.filter((c) => c.type === type);
    if (group.length === 0) continue;
    lines.push(`${type} (${group.length}):`);
    for (const change of group) lines.push(`  ${change.where}: ${change.description}`);
  }
  if (result.changes.length === 0) lines.push('no changes');
  if (result.breaking.length && result.majorRaised)
    lines.push('breaking changes allowed: the major version was raised');
  if (!result.ok)
    lines.push(`${result.breaking.length} breaking change(s): make them compatible or raise the major of info.version`);
  return lines.join('\n');
}

const ROOT_SPEC = path.join('openapi', 'openapi.yaml');

/**
 * The bundle of a revision's spec: its `openapi/` folder, extracted to a temporary directory and bundled from
 * `openapi/openapi.yaml`, whether that file holds the whole spec (as before the split) or references others.
 * Undefined when the revision has no spec.
 */
export function bundleAtRevision(revision: string): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-diff-'));
  try {
    try {
      execFileSync('git', ['cat-file', '-e', `${revision}:./${ROOT_SPEC}`], { stdio: 'pipe' });
    } catch {
      return undefined;
    }
    const archive = execFileSync('git', ['archive', '--format=tar', revision, 'openapi'], {
      maxBuffer: 256 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    return bundleSpec(path.join(dir, ROOT_SPEC));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const args = process.argv.slice(2);
  const baseFileIndex = args.indexOf('--base-file');
  const base = baseFileIndex >= 0 ? undefined : (args[0] ?? 'HEAD');
  let beforeText: string;
  if (base === undefined) beforeText = bundleSpec(args[baseFileIndex + 1] ?? '');
  else {
    try {
      execFileSync('git', ['rev-parse', '--verify', '--quiet', `${base}^{commit}`], { stdio: 'pipe' });
    } catch {
      console.error(`not a commit: ${base}`);
      process.exit(2);
    }
    const bundled = bundleAtRevision(base);
    if (bundled === undefined) {
      console.log(`${ROOT_SPEC} does not exist at ${base}: nothing to compare`);
      return;
    }
    beforeText = bundled;
  }
  // The working tree's sources, bundled now: an edit is compared even before `make generate` has run.
  const result = compareSpecs(YAML.parse(beforeText) as Doc, YAML.parse(bundleSpec(ROOT_SPEC)) as Doc);
  console.log(formatSpecDiff(result, base ? `since ${base}` : 'since the base file'));
  if (!result.ok) process.exit(1);
}

if (require.main === module) main();
