import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { specProblems } from '../scripts/check-spec';
import { BUNDLED_SPEC } from '../src/http/binding/spec';

const ROOT = path.resolve(__dirname, '..');

const spec = (text: string) => YAML.parse(text) as Record<string, unknown>;
const WIDGET = `
components:
  schemas:
    Widget:
      type: object
      required: [name]
      properties:
        name: { type: string, maxLength: 20 }
        sold_at: { type: string, format: date-time, maxLength: 40 }`;

describe('the checks of scripts/check-spec.ts (make lint-spec)', () => {
  test('when every body has an example that matches its schema, then there is no problem', () => {
    const result = specProblems(
      spec(`
openapi: 3.1.0
paths:
  /widgets:
    post:
      requestBody:
        content:
          application/json:
            schema: { $ref: '#/components/schemas/Widget' }
            examples:
              plain: { value: { name: sprocket } }
      responses:
        '201':
          description: Created.
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Widget' }
              example: { name: sprocket, sold_at: '2026-01-01T12:00:00Z' }
        '204': { description: No body, so no example. }
${WIDGET}`),
    );
    expect(result).toEqual({ problems: [], examples: 2 });
  });

  test('when a body has no example or an example breaks its schema, then each is reported with its location', () => {
    const { problems } = specProblems(
      spec(`
openapi: 3.1.0
paths:
  /widgets:
    post:
      requestBody:
        content:
          application/json:
            schema: { $ref: '#/components/schemas/Widget' }
      responses:
        '201':
          $ref: '#/components/responses/Created'
components:
  responses:
    Created:
      description: Created.
      content:
        application/json:
          schema: { $ref: '#/components/schemas/Widget' }
          example: { name: sprocket, sold_at: yesterday }
${WIDGET.replace('components:\n', '')}`),
    );
    expect(problems).toEqual([
      '#/paths/~1widgets/post/requestBody/content/application~1json: the request body (application/json) has no example',
      '#/components/responses/Created/content/application~1json/example: the example does not match its schema: ' +
        '/sold_at must match format "date-time"',
    ]);
  });

  test('when an inline schema repeats a component schema, then it is reported with the component to reference', () => {
    const { problems } = specProblems(
      spec(`
openapi: 3.1.0
paths:
  /widgets:
    get:
      responses:
        '200':
          description: A widget.
          content:
            application/json:
              schema:
                type: object
                description: Written out again instead of referenced.
                required: [name]
                properties:
                  name: { type: string, maxLength: 20 }
                  sold_at: { type: string, format: date-time, maxLength: 40 }
              example: { name: sprocket }
${WIDGET}`),
    );
    expect(problems).toEqual([
      '#/paths/~1widgets/get/responses/200/content/application~1json/schema: repeats #/components/schemas/Widget inline; use a $ref',
    ]);
  });

  test('when a header component is not required, then it is reported unless the pipeline sets it', () => {
    const { problems } = specProblems(
      spec(`
openapi: 3.1.0
paths: {}
components:
  headers:
    ETag: { required: true, schema: { type: string, maxLength: 100 } }
    Idempotent-Replayed: { schema: { type: string, enum: ['true'] } }
    RateLimit: { schema: { type: string, maxLength: 200 } }`),
    );
    expect(problems).toEqual([
      '#/components/headers/Idempotent-Replayed: a header component must be required: true (a $ref is typed as ' +
        'always sent); declare a header that is sent only sometimes inline, without required',
    ]);
  });
});

describe('the contract rules of openapi/redocly.yaml', () => {
  test('when a schema is unbounded or an operation lacks a description or a tag, then Redocly names each rule', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-lint-'));
    try {
      const file = path.join(dir, 'openapi.yaml');
      fs.writeFileSync(
        file,
        `openapi: 3.1.0
info: { title: Lint, version: 1.0.0, description: Lint fixture., license: { name: MIT, identifier: MIT } }
servers: [{ url: / }]
security: []
tags: [{ name: t, description: Tag. }]
paths:
  /things:
    get:
      operationId: listThings
      summary: List things
      parameters:
        - { name: page, in: query, description: Page., schema: { type: integer, minimum: 0 } }
      responses:
        '200':
          description: Things.
          content:
            application/json:
              schema:
                type: object
                properties:
                  names: { type: array, items: { type: string } }
                  nick: { type: [string, 'null'] }
                  state: { type: string, enum: [on, off] }
              example: { names: [a], nick: null, state: on }
        '404': { description: Not found. }
`,
      );
      const output = await new Promise<string>((resolve) => {
        execFile(
          path.join(ROOT, 'node_modules/.bin/redocly'),
          ['lint', '--config', path.join(ROOT, 'openapi/redocly.yaml'), '--format', 'summary', file],
          (_error, stdout, stderr) => resolve(stdout + stderr),
        );
      });
      const reported = [...output.matchAll(/^(?:error|warning)\s+([\w/-]+): (\d+)/gm)].map((m) => `${m[1]} ${m[2]}`);
      expect(reported.sort()).toEqual([
        'operation-description 1',
        'rule/array-max-items 1',
        'rule/number-bounds 1',
        'rule/operation-tag 1',
        'rule/string-max-length 1',
        'rule/string-max-length-union 1',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test('when a schema file of the split spec breaks a rule, then Redocly names that file, as make lint-spec runs it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-lint-split-'));
    try {
      fs.cpSync(path.join(ROOT, 'openapi'), dir, { recursive: true });
      const email = path.join(dir, 'components/schemas/Email.yaml');
      fs.writeFileSync(email, fs.readFileSync(email, 'utf8').replace(/^maxLength: .*\n/m, ''));
      const output = await new Promise<string>((resolve) => {
        execFile(
          path.join(ROOT, 'node_modules/.bin/redocly'),
          ['lint', '--config', path.join(dir, 'redocly.yaml'), path.join(dir, 'openapi.yaml')],
          { cwd: dir },
          (_error, stdout, stderr) => resolve(stdout + stderr),
        );
      });
      expect(output).toMatch(/components\/schemas\/Email\.yaml:\d+:\d+/);
      expect(output).toContain('Every string needs a maxLength');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('the OWASP API Security rules of openapi/.spectral.yaml', () => {
  const spectral = (file: string) =>
    new Promise<{ code: number; rules: string[] }>((resolve) => {
      execFile(
        path.join(ROOT, 'node_modules/.bin/spectral'),
        ['lint', '--ruleset', path.join(ROOT, 'openapi/.spectral.yaml'), '--fail-severity=warn', '-f', 'json', file],
        (error, stdout) => {
          // The JSON array of results, followed by a sentence when it is empty.
          const results = JSON.parse(stdout.slice(stdout.indexOf('['), stdout.lastIndexOf(']') + 1)) as {
            code: string;
          }[];
          resolve({ code: error ? Number(error.code) : 0, rules: [...new Set(results.map((r) => r.code))].sort() });
        },
      );
    });

  test('when the spec is linted, then it passes; when a copy breaks a rule, then Spectral names it and fails', async () => {
    expect(await spectral(path.join(ROOT, BUNDLED_SPEC))).toEqual({ code: 0, rules: [] });

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-owasp-'));
    try {
      const doc = YAML.parse(fs.readFileSync(path.join(ROOT, BUNDLED_SPEC), 'utf8')) as {
        paths: Record<string, unknown>;
        components: { schemas: Record<string, Record<string, unknown>> };
      };
      // An integer without its size, and a public write whose answer declares neither rate limit nor CORS headers.
      delete doc.components.schemas.Quantity?.format;
      doc.paths['/api/v1/things'] = {
        post: {
          operationId: 'createThing',
          summary: 'Create a thing',
          description: 'Creates a thing.',
          tags: ['posts'],
          security: [],
          responses: {
            '204': {
              description: 'Created.',
              headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
            },
            '422': { $ref: '#/components/responses/ValidationError' },
            '500': { $ref: '#/components/responses/InternalError' },
          },
        },
      };
      // Named like the spec, so the overrides of the ruleset (they name openapi.yaml) apply to the copy too.
      const copy = path.join(dir, 'openapi.yaml');
      fs.writeFileSync(copy, YAML.stringify(doc));
      expect(await spectral(copy)).toEqual({
        code: 1,
        rules: [
          'owasp:api2:2023-write-restricted',
          'owasp:api4:2023-integer-format',
          'owasp:api4:2023-rate-limit',
          'owasp:api4:2023-rate-limit-responses-429',
          'owasp:api8:2023-define-cors-origin',
        ],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
