import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {
  contractPaths,
  loadHandlersProject,
  readHandlerMap,
  specOperations,
  type ContractPaths,
} from './contract/handler-map';

/** Reads the committed list of operations that are deliberately not implemented yet: `operationId: reason`. */
export function readNotImplemented(file: string): Map<string, string> {
  if (!fs.existsSync(file)) return new Map();
  const parsed: unknown = YAML.parse(fs.readFileSync(file, 'utf8')) ?? {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`${file}: expected a map operationId: reason`);
  return new Map(Object.entries(parsed as Record<string, unknown>).map(([id, reason]) => [id, String(reason ?? '')]));
}

/** Compares the spec's operations with the handler map and the not-implemented list; returns one line per problem. */
export function handlerProblems(paths: ContractPaths): string[] {
  const operations = specOperations(paths.spec);
  const map = readHandlerMap(loadHandlersProject(paths), paths);
  const listed = readNotImplemented(paths.notImplemented);
  const list = path.relative(process.cwd(), paths.notImplemented);
  const known = new Set(operations.map((op) => op.operationId));
  const problems: string[] = [];
  for (const op of operations) {
    const entry = map.get(op.operationId);
    const where = `${op.method.toUpperCase()} ${op.path}`;
    if (!entry) problems.push(`operation without a handler: ${op.operationId} (${where}); run 'make stubs'`);
    else if (entry.notImplemented && !listed.has(op.operationId))
      problems.push(`operation mapped to notImplemented but not listed in ${list}: ${op.operationId} (${where})`);
    else if (!entry.notImplemented && listed.has(op.operationId))
      problems.push(`operation listed in ${list} has a handler: ${op.operationId}; remove it from the list`);
  }
  for (const entry of map.values()) {
    if (!known.has(entry.operationId)) {
      const file = entry.file ? ` in ${path.relative(process.cwd(), entry.file)}` : '';
      problems.push(`handler without an operation: ${entry.operationId}${file}`);
    }
  }
  for (const [operationId, reason] of listed) {
    if (!known.has(operationId)) problems.push(`${list} lists ${operationId}, which the spec does not have`);
    if (!reason.trim()) problems.push(`${list} gives no reason for ${operationId}`);
  }
  return problems;
}

function main(): void {
  const paths = contractPaths(process.argv.slice(2));
  const problems = handlerProblems(paths);
  if (problems.length) {
    for (const problem of problems) console.error(problem);
    process.exit(1);
  }
  const listed = readNotImplemented(paths.notImplemented).size;
  console.log(`every operation has a handler and every handler an operation (${listed} listed as not implemented)`);
}

if (require.main === module) main();
