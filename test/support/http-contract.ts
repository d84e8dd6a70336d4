import { createDatabase, type Db } from '../../src/data-access/database';
import { tokenFor } from './factories';
import { emptyClusterTemplate } from './pglite-template';
import { memoryLogger, startTestApp, type TestApp } from './test-app';

type BodyMethod = 'post' | 'put' | 'patch';

/** Sends broken JSON, a wrong content type and an oversized body, expecting 400, 415 and 413 with their codes. */
export async function expectBodyErrors(
  t: TestApp,
  method: BodyMethod,
  path: string,
  auth: Record<string, string>,
): Promise<void> {
  const malformed = await t.request[method](path).set(auth).set('Content-Type', 'application/json').send('{"name": ');
  expect([malformed.status, malformed.body.error_code]).toEqual([400, 'MALFORMED_JSON']);
  const wrongType = await t.request[method](path).set(auth).set('Content-Type', 'text/plain').send('name=x');
  expect([wrongType.status, wrongType.body.error_code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  const large = await t.request[method](path)
    .set(auth)
    .send({ name: 'x'.repeat(t.deps.config.maxBodyBytes + 1) });
  expect([large.status, large.body.error_code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
}

/** One request of an operation, for table-driven checks over every operation of a file. */
export type OperationCall = {
  operationId: string;
  send: (t: TestApp, auth: Record<string, string>) => Promise<{ status: number; body: { error_code?: string } }>;
};

/** A database whose server refuses connections: every query fails fast with a connection error. */
function unreachableDatabase(): Db {
  return createDatabase(
    {
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:9/unreachable',
      poolMin: 0,
      poolMax: 2,
      statementTimeoutMs: 1000,
      connectTimeoutMs: 500,
    },
    memoryLogger(),
  );
}

/**
 * Starts the app over a database that refuses connections, with a token for user 1 (whose lookup fails too);
 * `t.close()` closes that database too.
 */
export async function startAppWithDatabaseDown(): Promise<{ t: TestApp; auth: Record<string, string> }> {
  return startAppOwning(unreachableDatabase());
}

/** Starts the app over the given database, which its close() then destroys after the app's. */
async function startAppOwning(db: Db): Promise<{ t: TestApp; auth: Record<string, string> }> {
  const app = await startTestApp({ deps: { db } });
  const t = {
    ...app,
    close: async () => {
      await app.close();
      await db.destroy();
    },
  };
  return { t, auth: { Authorization: `Bearer ${tokenFor(t, 1)}` } };
}

// Sends every call and expects the given status and code from each.
async function expectEvery(
  t: TestApp,
  auth: Record<string, string>,
  calls: OperationCall[],
  status: number,
  code: string,
) {
  for (const call of calls) {
    const res = await call.send(t, auth);
    expect({ operationId: call.operationId, status: res.status, code: res.body.error_code }).toEqual({
      operationId: call.operationId,
      status,
      code,
    });
  }
}

/** Expects every given operation to answer 503 SERVICE_UNAVAILABLE while the database refuses connections. */
async function expectServiceUnavailable(calls: OperationCall[]): Promise<void> {
  const { t, auth } = await startAppWithDatabaseDown();
  try {
    await expectEvery(t, auth, calls, 503, 'SERVICE_UNAVAILABLE');
  } finally {
    await t.close();
  }
}

/** Expects every given operation to answer 500 INTERNAL_ERROR when its queries fail (a database with no tables). */
async function expectInternalError(calls: OperationCall[]): Promise<void> {
  // A new cluster, not migrated: a copy of the run's one when the global setup made it.
  const { t, auth } = await startAppOwning(
    createDatabase({ kind: 'pglite', dataDir: ':memory:' }, undefined, emptyClusterTemplate()),
  );
  try {
    await expectEvery(t, auth, calls, 500, 'INTERNAL_ERROR');
  } finally {
    await t.close();
  }
}

/**
 * The dependency error tests of a group of operations, one request of each in `calls`: with the database refusing
 * connections every one is 503 SERVICE_UNAVAILABLE, and with its queries failing (no tables) a bare 500.
 * `operations` names the group in the test names, e.g. "product operation".
 */
export function dependencyErrorTests(operations: string, calls: OperationCall[]): void {
  test(`when the database is down, then every ${operations} is 503 SERVICE_UNAVAILABLE`, async () => {
    await expectServiceUnavailable(calls);
  });

  test(`when its queries fail unexpectedly, then every ${operations} is a bare 500 INTERNAL_ERROR`, async () => {
    await expectInternalError(calls);
  });
}
