import fc from 'fast-check';
import { Fixtures, HINTS } from './support/fuzz-fixtures';
import { dataInvariantViolations, SecretWatch } from './support/invariants';
import {
  canBreak,
  contractProblems,
  invalidRequestArb,
  loadFuzzOperations,
  validRequestArb,
  type FuzzOperation,
  type RequestPlan,
} from './support/openapi-fuzz';
import { startTestApp, type TestApp } from './support/test-app';

// Every operation of the spec, read when the suite runs: a new operation is fuzzed without touching this file.
const OPERATIONS = loadFuzzOperations();
const RUNS = Number(process.env.FUZZ_RUNS ?? 50);
const SEED = Number(process.env.FUZZ_SEED ?? 20260101);
// Shrinking replays requests against the database; bound it so a failure is reported before jest gives up.
const TIME_LIMIT_MS = 100_000;

let t: TestApp;
let fixtures: Fixtures;
const watch = new SecretWatch();
const statuses = new Map<string, Map<number, number>>();

beforeAll(async () => {
  t = await startTestApp();
  fixtures = new Fixtures(t, watch);
});

afterAll(async () => {
  try {
    if (process.env.FUZZ_REPORT) {
      const lines = [...statuses].map(([id, counts]) => `${id}: ${[...counts].map(([s, n]) => `${s}×${n}`).join(' ')}`);
      console.log(`statuses per operation\n${lines.join('\n')}`);
    }
    const violations = [
      ...(await dataInvariantViolations(t.db, { userIds: fixtures.userIds })),
      ...watch.leaks(t.logs.entries),
    ];
    expect(violations).toEqual([]);
  } finally {
    await t.close();
  }
});

// A seed per operation, so adding an operation to the spec does not change what the others are sent.
const seedOf = (operationId: string) =>
  [...operationId].reduce((hash, ch) => (Math.imul(hash, 31) + ch.charCodeAt(0)) | 0, SEED);

async function fuzz(op: FuzzOperation, arb: fc.Arbitrary<RequestPlan>, refusal: boolean): Promise<void> {
  const property = fc.asyncProperty(arb, async (plan) => {
    const res = await fixtures.send(op, plan);
    const counts = statuses.get(op.operationId) ?? new Map<number, number>();
    statuses.set(op.operationId, counts.set(res.status, (counts.get(res.status) ?? 0) + 1));
    const problems = contractProblems(op, res, refusal);
    if (problems.length === 0) return;
    // fast-check prints this for the shrunk (smallest) failing request.
    throw new Error(
      [
        ...problems,
        `request:\n${res.request}`,
        ...(plan.mutation ? [`breaks: ${plan.mutation}`] : []),
        `response: ${res.status} ${res.text.slice(0, 1000)}`,
      ].join('\n'),
    );
  });
  await fc.assert(property, { numRuns: RUNS, seed: seedOf(op.operationId), interruptAfterTimeLimit: TIME_LIMIT_MS });
}

describe.each(OPERATIONS.map((op) => [op.operationId, op] as const))('%s', (_operationId, op) => {
  test('when it gets generated valid requests, then every answer is documented, matches its schema and is never a 5xx', async () => {
    await fuzz(op, validRequestArb(op, { hints: HINTS }), false);
  }, 150_000);

  // An operation with no parameter, no body and no documented 422 has nothing a request could break.
  if (canBreak(op)) {
    test('when it gets requests that break one constraint, then every answer is a documented 4xx ErrorResponse', async () => {
      await fuzz(op, invalidRequestArb(op, { hints: HINTS }), true);
    }, 150_000);
  }
});
