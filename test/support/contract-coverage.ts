import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { listOperations, loadSpec } from '../../src/http/binding/spec';

const DIR_VARIABLE = 'CONTRACT_COVERAGE_DIR';
const OPENAPI_DIR = path.resolve(__dirname, '..', '..', 'openapi');
const ALLOWLIST = path.join(OPENAPI_DIR, 'coverage-allowlist.yaml');
const NOT_IMPLEMENTED = path.join(OPENAPI_DIR, 'not-implemented.yaml');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Gives this jest run its own directory for the pairs its workers record (called from the global setup). */
export function startContractCoverage(): void {
  process.env[DIR_VARIABLE] = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-coverage-'));
}

// Matched here from the spec rather than read from the request, so that responses sent before the app knows the
// operation (a malformed or too large body is refused by the body parser) still count for it.
function operationMatcher(): (method: string, url: string) => string | undefined {
  const operations = listOperations(loadSpec()).map((op) => ({
    operationId: op.operationId,
    method: op.method.toUpperCase(),
    pattern: new RegExp(`^${op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
  }));
  return (method, url) => {
    const pathname = new URL(url, 'http://localhost').pathname;
    return operations.find((op) => op.method === method && op.pattern.test(pathname))?.operationId;
  };
}

/** Records the (operationId, status) pair of every response the server sends, as JSON lines in a file per worker. */
export function recordContractCoverage(server: Server): void {
  const dir = process.env[DIR_VARIABLE];
  if (!dir) return;
  const file = path.join(dir, `${process.pid}.jsonl`);
  const operationOf = operationMatcher();
  server.on('request', (req, res) => {
    res.on('finish', () => {
      const operationId = operationOf(req.method ?? '', req.url ?? '/');
      if (operationId) fs.appendFileSync(file, `${JSON.stringify({ operationId, status: res.statusCode })}\n`);
    });
  });
}

type Pair = { operationId: string; status: string };
const key = (p: Pair) => `${p.operationId} ${p.status}`;

function readMap(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  const parsed: unknown = YAML.parse(fs.readFileSync(file, 'utf8'));
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

/** Every documented (operationId, status) pair of the spec, in document order. */
export function documentedPairs(): Pair[] {
  const pairs: Pair[] = [];
  for (const item of Object.values(loadSpec().paths)) {
    for (const method of METHODS) {
      const op = (item as Record<string, { operationId?: string; responses?: Record<string, unknown> }>)[method];
      if (!op?.operationId) continue;
      for (const status of Object.keys(op.responses ?? {})) {
        if (/^\d{3}$/.test(status)) pairs.push({ operationId: op.operationId, status });
      }
    }
  }
  return pairs;
}

/** The committed allowlist: `operationId: { status: reason }`. */
export function allowedPairs(file = ALLOWLIST): Map<string, string> {
  const allowed = new Map<string, string>();
  for (const [operationId, statuses] of Object.entries(readMap(file))) {
    for (const [status, reason] of Object.entries((statuses ?? {}) as Record<string, unknown>)) {
      allowed.set(key({ operationId, status }), String(reason ?? ''));
    }
  }
  return allowed;
}

function producedPairs(dir: string): Set<string> {
  const produced = new Set<string>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const { operationId, status } = JSON.parse(line) as { operationId: string; status: number };
      produced.add(key({ operationId, status: String(status) }));
    }
  }
  return produced;
}

export type CoverageReport = {
  table: string;
  produced: number;
  missing: Pair[];
  undocumented: Pair[];
  problems: string[];
};

/**
 * Compares the recorded pairs with the documented ones and renders the operations x status codes table (for a
 * partial run, only the rows of the operations it exercised).
 */
export function contractCoverageReport(dir: string, options: { allRows: boolean }): CoverageReport {
  const documented = documentedPairs();
  const produced = producedPairs(dir);
  const allowed = allowedPairs();
  const notImplemented = new Set(Object.keys(readMap(NOT_IMPLEMENTED)));
  const documentedKeys = new Set(documented.map(key));
  const operations = [...new Set(documented.map((p) => p.operationId))];
  const statuses = [...new Set(documented.map((p) => p.status))].sort();

  const problems: string[] = [];
  for (const [pair, reason] of allowed) {
    if (!documentedKeys.has(pair)) problems.push(`allowlisted pair is not documented in the spec: ${pair}`);
    else if (produced.has(pair)) problems.push(`allowlisted pair is produced by the suite; remove it: ${pair}`);
    if (!reason.trim()) problems.push(`allowlisted pair has no reason: ${pair}`);
  }
  const missing = documented.filter(
    (p) => !produced.has(key(p)) && !allowed.has(key(p)) && !notImplemented.has(p.operationId),
  );
  const undocumented = [...produced]
    .map((pair) => {
      const [operationId = '', status = ''] = pair.split(' ');
      return { operationId, status };
    })
    .filter((p) => !documentedKeys.has(key(p)) && !(p.status === '501' && notImplemented.has(p.operationId)));

  const width = Math.max(...operations.map((o) => o.length), 'operation'.length);
  const cell = (operationId: string, status: string) => {
    const pair = key({ operationId, status });
    if (!documentedKeys.has(pair)) return produced.has(pair) ? '!' : '';
    if (produced.has(pair)) return 'ok';
    if (allowed.has(pair)) return 'allow';
    return notImplemented.has(operationId) ? 'n/i' : '--';
  };
  const row = (first: string, cells: string[]) => [first.padEnd(width), ...cells.map((c) => c.padStart(5))].join(' ');
  const lines = [
    row('operation', statuses),
    ...operations
      .filter((id) => options.allRows || documented.some((p) => p.operationId === id && produced.has(key(p))))
      .map((operationId) =>
        row(
          operationId,
          statuses.map((status) => cell(operationId, status)),
        ),
      ),
  ];
  const exercised = documented.filter((p) => produced.has(key(p))).length;
  lines.push(
    `contract coverage: ${exercised}/${documented.length} documented (operation, status) pairs produced, ` +
      `${documented.filter((p) => allowed.has(key(p))).length} allowlisted, ${missing.length} missing ` +
      '(ok produced, -- missing, allow allowlisted, n/i not implemented, ! produced but undocumented)',
  );
  return { table: lines.join('\n'), produced: produced.size, missing, undocumented, problems };
}
