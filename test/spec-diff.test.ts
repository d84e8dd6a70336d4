import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { compareSpecs } from '../scripts/spec-diff';

type Doc = Parameters<typeof compareSpecs>[0];
type Schema = { required?: string[]; enum?: string[]; properties?: Record<string, unknown>; allOf?: unknown[] };

const ROOT = path.resolve(__dirname, '..');

// A small spec of its own, so the outcomes do not move while the real one grows.
const base = (): Doc =>
  YAML.parse(`
openapi: 3.1.0
info: { title: Orders, version: 1.4.0 }
paths:
  /orders:
    post:
      operationId: createOrder
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/OrderCreate' }
      responses:
        '201':
          description: Created.
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Order' }
  /orders/{order_id}:
    delete:
      operationId: deleteOrder
      parameters:
        - { name: order_id, in: path, required: true, schema: { type: integer, minimum: 1, maximum: 100 } }
      responses:
        '204': { description: Deleted. }
components:
  schemas:
    Status: { type: string, enum: [pending, paid, cancelled] }
    OrderCreate:
      type: object
      additionalProperties: false
      required: [product_id]
      properties:
        product_id: { type: integer, minimum: 1, maximum: 100 }
        status: { $ref: '#/components/schemas/Status' }
    Order:
      type: object
      required: [id, status]
      properties:
        id: { type: integer, minimum: 1, maximum: 100 }
        status: { $ref: '#/components/schemas/Status' }
`) as Doc;
const schema = (doc: Doc, name: string) =>
  (doc as { components: { schemas: Record<string, Schema> } }).components.schemas[name] as Schema;
const changed = (edit: (doc: Doc) => void) => {
  const doc = base();
  edit(doc);
  return compareSpecs(base(), doc);
};

describe('spec diff classification', () => {
  test('when an operation is removed, then the change is breaking and the diff fails', () => {
    const result = changed((doc) => delete (doc.paths as Record<string, unknown>)['/orders/{order_id}']);
    expect(result.ok).toBe(false);
    expect(result.breaking.map((c) => c.where)).toContain('DELETE /orders/{order_id}');
  });

  test('when a request body gains a required field, then the change is breaking', () => {
    const result = changed((doc) => {
      schema(doc, 'OrderCreate').required?.push('quantity');
      (schema(doc, 'OrderCreate').properties as Record<string, unknown>).quantity = { type: 'integer' };
    });
    expect(result.ok).toBe(false);
    expect(result.breaking).toContainEqual(
      expect.objectContaining({ where: 'POST /orders', description: expect.stringContaining('quantity') }),
    );
  });

  test('when an enum accepted in a request is narrowed, then the change is breaking', () => {
    const result = changed((doc) => {
      schema(doc, 'Status').enum = ['pending', 'paid'];
    });
    expect(result.ok).toBe(false);
    expect(result.breaking.some((c) => c.where === 'POST /orders')).toBe(true);
  });

  test('when a request body gains an optional field, then the change is non-breaking and the diff passes', () => {
    const result = changed((doc) => {
      (schema(doc, 'OrderCreate').properties as Record<string, unknown>).note = { type: 'string', maxLength: 10 };
    });
    expect(result.ok).toBe(true);
    expect(result.breaking).toEqual([]);
    expect(result.changes).toContainEqual(expect.objectContaining({ type: 'non-breaking', where: 'POST /orders' }));
  });

  test('when an error status is removed, then the change is non-breaking; when a success status is, it is breaking', () => {
    const responses = (doc: Doc) =>
      (doc.paths as Record<string, { post: { responses: Record<string, unknown> } }>)['/orders']?.post.responses ?? {};
    const withError = base();
    responses(withError)['429'] = { description: 'Rate limited.' };
    const withoutError = compareSpecs(withError, base());
    expect(withoutError.ok).toBe(true);
    expect(withoutError.changes).toContainEqual({
      type: 'non-breaking',
      where: 'POST /orders',
      description: '[Removed] Response 429',
    });

    const withoutSuccess = changed((doc) => delete responses(doc)['201']);
    expect(withoutSuccess.ok).toBe(false);
    expect(withoutSuccess.breaking).toContainEqual(expect.objectContaining({ description: '[Removed] Response 201' }));
  });

  test('when a response header becomes required, then the change is non-breaking; when it stops being, breaking', () => {
    const withLocation = (required?: boolean) => {
      const doc = base();
      const created = (doc.paths as Record<string, { post: { responses: Record<string, Record<string, unknown>> } }>)[
        '/orders'
      ]?.post.responses['201'];
      if (created) created.headers = { Location: { ...(required === undefined ? {} : { required }), schema: {} } };
      return doc;
    };
    const promised = compareSpecs(withLocation(), withLocation(true));
    expect(promised.ok).toBe(true);
    expect(promised.changes).toEqual([expect.objectContaining({ type: 'non-breaking', where: 'POST /orders' })]);
    expect(compareSpecs(withLocation(false), withLocation(true)).changes).toEqual([
      expect.objectContaining({ type: 'non-breaking' }),
    ]);
    expect(compareSpecs(withLocation(), withLocation(false)).changes).toEqual([
      expect.objectContaining({ type: 'annotation' }),
    ]);

    const withdrawn = compareSpecs(withLocation(true), withLocation());
    expect(withdrawn.ok).toBe(false);
    expect(withdrawn.breaking).toEqual([expect.objectContaining({ where: 'POST /orders' })]);
  });

  test('when a shared enum grows under a response that narrows it in allOf, then only the unnarrowed one breaks', () => {
    const withResponses = (doc: Doc) => {
      schema(doc, 'Narrowed').allOf = [
        { $ref: '#/components/schemas/Order' },
        { properties: { status: { enum: ['pending'] } } },
      ] as never;
      schema(doc, 'Wide').allOf = [{ $ref: '#/components/schemas/Order' }] as never;
      const paths = doc.paths as Record<string, Record<string, unknown>>;
      for (const [route, name] of [
        ['/narrowed', 'Narrowed'],
        ['/wide', 'Wide'],
      ] as const) {
        paths[route] = {
          get: {
            operationId: `get${name}`,
            responses: {
              '200': {
                description: 'OK.',
                content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } },
              },
            },
          },
        };
      }
    };
    const before = base();
    (before.components as { schemas: Record<string, Schema> }).schemas.Narrowed = {};
    (before.components as { schemas: Record<string, Schema> }).schemas.Wide = {};
    withResponses(before);
    const after = structuredClone(before);
    schema(after, 'Status').enum?.push('refunded');
    const result = compareSpecs(before, after);
    expect(result.breaking.map((c) => c.where)).toContain('GET /wide');
    expect(result.breaking.map((c) => c.where)).not.toContain('GET /narrowed');
  });

  test('when an integer gains a format its bounds already fit, then it is non-breaking; a format narrower than them breaks', () => {
    const within = changed((doc) => {
      (schema(doc, 'OrderCreate').properties as Record<string, Record<string, unknown>>).product_id!.format = 'int32';
    });
    expect(within.ok).toBe(true);
    expect(within.changes).toContainEqual(expect.objectContaining({ type: 'non-breaking', where: 'POST /orders' }));

    const narrower = changed((doc) => {
      const productId = (schema(doc, 'OrderCreate').properties as Record<string, Record<string, unknown>>).product_id!;
      Object.assign(productId, { maximum: 2 ** 40, format: 'int32' });
    });
    expect(narrower.breaking.map((c) => c.where)).toContain('POST /orders');
  });

  test('when the major version is raised with a breaking change, then the diff passes and still lists it', () => {
    const result = changed((doc) => {
      delete (doc.paths as Record<string, unknown>)['/orders/{order_id}'];
      (doc.info as { version: string }).version = '2.0.0';
    });
    expect(result).toMatchObject({ ok: true, majorRaised: true, versions: ['1.4.0', '2.0.0'] });
    expect(result.breaking.length).toBeGreaterThan(0);
  });
});

describe('removing what was deprecated with a sunset date', () => {
  const SUNSET = '2027-06-30';
  const paths = (doc: Doc) => doc.paths as Record<string, Record<string, Record<string, unknown>>>;
  // The base spec with DELETE /orders/{order_id} deprecated, and POST /orders given a deprecated query parameter.
  const deprecated = (): Doc => {
    const doc = base();
    const remove = paths(doc)['/orders/{order_id}']?.delete ?? {};
    Object.assign(remove, { deprecated: true, 'x-deprecated-at': '2026-12-07', 'x-sunset': SUNSET });
    const create = paths(doc)['/orders']?.post ?? {};
    create.parameters = [
      { name: 'source', in: 'query', schema: { type: 'string', maxLength: 10 } },
      {
        name: 'legacy',
        in: 'query',
        deprecated: true,
        'x-deprecated-at': '2026-12-07',
        'x-sunset': SUNSET,
        schema: { type: 'boolean' },
      },
    ];
    return doc;
  };
  const removing = (edit: (doc: Doc) => void, today: string) => {
    const after = deprecated();
    edit(after);
    return compareSpecs(deprecated(), after, new Date(`${today}T12:00:00Z`));
  };
  const withoutOperation = (doc: Doc) => delete paths(doc)['/orders/{order_id}'];
  const withoutParameter = (doc: Doc) => delete paths(doc)['/orders']?.post?.parameters;
  const withoutOneParameter = (doc: Doc) => {
    const create = paths(doc)['/orders']?.post ?? {};
    create.parameters = (create.parameters as { name: string }[]).filter((p) => p.name !== 'legacy');
  };

  test('when an operation is removed before its x-sunset date, then the change is breaking and says why', () => {
    const result = removing(withoutOperation, '2027-06-29');
    expect(result.ok).toBe(false);
    expect(result.breaking).toEqual([
      expect.objectContaining({
        where: 'DELETE /orders/{order_id}',
        description: expect.stringContaining(`before its x-sunset ${SUNSET}`),
      }),
    ]);
  });

  test('when an operation is removed on or after its x-sunset date, then the change is allowed', () => {
    for (const today of [SUNSET, '2028-01-01']) {
      const result = removing(withoutOperation, today);
      expect(result).toMatchObject({ ok: true, breaking: [] });
      expect(result.changes).toContainEqual(
        expect.objectContaining({
          type: 'non-breaking',
          where: 'DELETE /orders/{order_id}',
          description: expect.stringContaining(`after its x-sunset ${SUNSET}`),
        }),
      );
    }
  });

  test('when a deprecated parameter is removed, then it is breaking before its x-sunset and allowed after', () => {
    expect(removing(withoutOneParameter, '2027-01-01').ok).toBe(false);
    expect(removing(withoutOneParameter, '2027-07-01')).toMatchObject({ ok: true, breaking: [] });
  });

  test('when a parameter list is removed, then it is allowed only once every parameter in it is past its x-sunset', () => {
    expect(removing(withoutParameter, '2027-07-01').ok).toBe(false);
    const doc = deprecated();
    const create = paths(doc)['/orders']?.post ?? {};
    create.parameters = (create.parameters as { name: string }[]).filter((p) => p.name === 'legacy');
    const after = structuredClone(doc);
    delete paths(after)['/orders']?.post?.parameters;
    expect(compareSpecs(doc, after, new Date('2027-07-01T00:00:00Z'))).toMatchObject({ ok: true, breaking: [] });
    expect(compareSpecs(doc, after, new Date('2027-01-01T00:00:00Z')).ok).toBe(false);
  });

  test('when an operation without an x-sunset is removed, then it stays breaking whatever the date', () => {
    const result = removing((doc) => delete paths(doc)['/orders']?.post, '2030-01-01');
    expect(result.ok).toBe(false);
    expect(result.breaking.map((c) => c.where)).toContain('POST /orders');
  });
});

type Run = { code: number; output: string };
const specDiff = (repo: string, ...args: string[]) =>
  new Promise<Run>((resolve) => {
    execFile(
      path.join(ROOT, 'node_modules/.bin/tsx'),
      [path.join(ROOT, 'scripts/spec-diff.ts'), ...args],
      { cwd: repo },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, output: stdout + stderr }),
    );
  });

/** A git repository in a temporary directory whose first commit holds `base()` as `openapi/openapi.yaml`. */
function repoWithBase(): { repo: string; specFile: string; git: (...args: string[]) => Buffer } {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-diff-'));
  const specFile = path.join(repo, 'openapi/openapi.yaml');
  fs.mkdirSync(path.dirname(specFile));
  fs.writeFileSync(specFile, YAML.stringify(base()));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-qm', 'spec');
  return { repo, specFile, git };
}

describe('make spec-diff', () => {
  test('when the working copy removes an operation committed at BASE, then it prints the change and exits non-zero', async () => {
    const { repo, specFile } = repoWithBase();
    try {
      const doc = base();
      delete (doc.paths as Record<string, unknown>)['/orders/{order_id}'];
      fs.writeFileSync(specFile, YAML.stringify(doc));

      const result = await specDiff(repo, 'HEAD');
      expect(result.code).toBe(1);
      expect(result.output).toContain('breaking (1):');
      expect(result.output).toContain('[Removed] operation DELETE /orders/{order_id}');
      expect(result.output).toContain('raise the major of info.version');
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  }, 30_000);

  test('when BASE holds the spec in one file and the working copy splits it, then both are bundled and compared', async () => {
    const { repo, specFile, git } = repoWithBase();
    try {
      const single = path.join(repo, 'single.yaml');
      fs.renameSync(specFile, single);
      // Without jest's NODE_ENV=test, under which Redocly prints the files instead of writing them.
      const env = { ...process.env };
      delete env.NODE_ENV;
      execFileSync(path.join(ROOT, 'node_modules/.bin/redocly'), ['split', single, '--outDir', 'openapi'], {
        cwd: repo,
        env,
        stdio: 'pipe',
      });
      expect(fs.readFileSync(specFile, 'utf8')).toContain('$ref: paths/orders.yaml');

      const same = await specDiff(repo, 'HEAD');
      expect(same).toMatchObject({ code: 0, output: expect.stringContaining('no changes') });
      const baseFile = await specDiff(repo, '--base-file', single);
      expect(baseFile).toMatchObject({ code: 0, output: expect.stringContaining('no changes') });

      // The split is committed, then a split schema file narrows an enum: compared with the single-file revision.
      git('add', '-A', 'openapi');
      git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-qm', 'split');
      const status = path.join(repo, 'openapi/components/schemas/Status.yaml');
      fs.writeFileSync(status, fs.readFileSync(status, 'utf8').replace(/\s*- cancelled/, ''));
      const narrowed = await specDiff(repo, 'HEAD~1');
      expect(narrowed.code).toBe(1);
      expect(narrowed.output).toContain('since HEAD~1');
      expect(narrowed.output).toMatch(/breaking \(\d+\):/);
      expect(narrowed.output).toContain('POST /orders');
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  }, 60_000);
});
