import fs from 'node:fs';
import { contractCoverageReport } from './contract-coverage';
import { removeTemplates } from './pglite-template';

type RunConfig = {
  testPathPatterns?: { patterns?: string[] };
  testNamePattern?: string;
  onlyChanged?: boolean;
  onlyFailures?: boolean;
  findRelatedTests?: boolean;
  shard?: unknown;
};

// A run of some files or some tests cannot produce every pair, so it only prints the table.
const isFullRun = (config: RunConfig) =>
  !config.testPathPatterns?.patterns?.length &&
  !config.testNamePattern &&
  !config.onlyChanged &&
  !config.onlyFailures &&
  !config.findRelatedTests &&
  !config.shard;

/**
 * Prints the contract coverage table; with CONTRACT_COVERAGE=enforce on a full run, fails when a documented
 * (operationId, status) pair was never produced and is not in openapi/coverage-allowlist.yaml.
 */
export default async function globalTeardown(config: RunConfig): Promise<void> {
  removeTemplates();
  const dir = process.env.CONTRACT_COVERAGE_DIR;
  if (!dir || !fs.existsSync(dir)) return;
  const enforce = process.env.CONTRACT_COVERAGE === 'enforce' && isFullRun(config);
  const report = contractCoverageReport(dir, { allRows: isFullRun(config) });
  fs.rmSync(dir, { recursive: true, force: true });
  if (!enforce && report.produced === 0) return;
  console.log(`\n${report.table}`);
  const problems = [...report.problems];
  if (report.undocumented.length)
    problems.push(
      `produced but undocumented: ${report.undocumented.map((p) => `${p.operationId} ${p.status}`).join(', ')}`,
    );
  if (!enforce) {
    for (const problem of problems) console.log(problem);
    return;
  }
  if (report.missing.length)
    problems.push(
      'documented pairs never produced (write a test, or allowlist the pair with a reason in ' +
        `openapi/coverage-allowlist.yaml):\n${report.missing.map((p) => `  ${p.operationId} ${p.status}`).join('\n')}`,
    );
  if (problems.length) {
    const error = new Error(`contract coverage failed:\n${problems.join('\n')}`);
    // The message is the whole story; a stack trace of the teardown would only bury it.
    error.stack = error.message;
    throw error;
  }
}
