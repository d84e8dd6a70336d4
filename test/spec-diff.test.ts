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

describe('make spec-diff', () => {
  test('when the working copy removes an operation committed at BASE, then it prints the change and exits non-zero', async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-diff-'));
    try {
      const specFile = path.join(repo, 'openapi/openapi.yaml');
      fs.mkdirSync(path.dirname(specFile));
      fs.writeFileSync(specFile, YAML.stringify(base()));
      const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
      git('init', '-q');
      git('add', '.');
      git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-qm', 'spec');
      const doc = base();
      delete (doc.paths as Record<string, unknown>)['/orders/{order_id}'];
      fs.writeFileSync(specFile, YAML.stringify(doc));

      const result = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile(
          path.join(ROOT, 'node_modules/.bin/tsx'),
          [path.join(ROOT, 'scripts/spec-diff.ts'), 'HEAD'],
          { cwd: repo },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, output: stdout + stderr }),
        );
      });
      expect(result.code).toBe(1);
      expect(result.output).toContain('breaking (1):');
      expect(result.output).toContain('[Removed] operation DELETE /orders/{order_id}');
      expect(result.output).toContain('raise the major of info.version');
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  }, 30_000);
});
