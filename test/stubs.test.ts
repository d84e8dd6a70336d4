import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { migratedDataDir } from './support/pglite-template';
import { compiledEntry } from './support/build';

// The scaffolder and the handler check run as `make stubs` and `make check` do, on a copy of the project in a
// temporary directory whose spec gained an operation with a new tag; they read the bundle that `make generate` writes.
const ROOT = path.resolve(__dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);
let dir: string;

// A command here compiles or typechecks the whole copy, which can take over a minute on a busy 2-core machine; a test
// runs at most two of them.
const COMMAND_MS = 90_000;
jest.setTimeout(2 * COMMAND_MS);

type Run = { code: number; output: string };
const run = (command: string, args: string[]) =>
  new Promise<Run>((resolve) => {
    execFile(command, args, { cwd: dir, timeout: COMMAND_MS }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
const paths = () => [
  ...['--spec', `${dir}/openapi/generated/openapi.yaml`, '--not-implemented', `${dir}/openapi/not-implemented.yaml`],
  ...['--handlers-dir', `${dir}/src/http/handlers`],
];
// The project's own scripts, compiled, run on the copy.
const script = (entry: string) => path.join(ROOT, compiledEntry(entry));
const stubs = () => run(process.execPath, [script('scripts/stubs.ts'), ...paths()]);
const checkHandlers = () => run(process.execPath, [script('scripts/check-handlers.ts'), ...paths()]);
const snapshot = (folder: string) =>
  Object.fromEntries(fs.readdirSync(folder).map((f) => [f, fs.readFileSync(path.join(folder, f), 'utf8')]));
// Edits the root file of the copy's spec, then bundles it as `make generate` does.
const editSpec = async (edit: (doc: YAML.Document) => void) => {
  const file = path.join(dir, 'openapi/openapi.yaml');
  const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'));
  edit(doc);
  fs.writeFileSync(file, doc.toString());
  const generated = await run('npm', ['run', '--silent', 'generate']);
  expect(generated).toMatchObject({ code: 0 });
};

const widgets = {
  get: {
    operationId: 'listWidgets',
    summary: 'List widgets',
    description: 'Every widget.',
    tags: ['widgets'],
    security: [],
    responses: {
      '200': {
        description: 'The widgets.',
        content: {
          'application/json': {
            schema: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 20 } },
            example: ['sprocket'],
          },
        },
      },
      '404': { $ref: '#/components/responses/NotFound' },
    },
  },
};

/** Serves the copy with its own `src/server.ts` on a migrated embedded database and fetches one path. */
async function serveAndGet(urlPath: string): Promise<{ status: number; body: unknown }> {
  let output = '';
  const dataDir = migratedDataDir('stubs-data-');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      LOG_FORMAT: 'json',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      EMBEDDED_SHARED_BUFFERS: '8MB',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const deadline = Date.now() + COMMAND_MS;
    let port: string | undefined;
    while (!port && Date.now() < deadline) {
      port = /"port":(\d+)/.exec(output)?.[1];
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!port) throw new Error(`the copy did not start:\n${output}`);
    const res = await fetch(`http://127.0.0.1:${port}${urlPath}`);
    return { status: res.status, body: await res.json() };
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stubs-'));
  const generator = ['scripts/generate.ts', 'scripts/contract'];
  for (const entry of ['src', 'db', 'openapi', ...generator, 'test/support', 'tsconfig.json', 'package.json']) {
    fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  await editSpec((doc) => {
    doc.addIn(['tags'], doc.createNode({ name: 'widgets', description: 'Widgets, added by the test.' }));
    doc.setIn(['paths', '/api/v1/widgets'], doc.createNode(widgets));
  });
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('make stubs', () => {
  test('when the spec gains an operation with a new tag, then a registered 501 stub module is written that typechecks', async () => {
    const handlersDir = path.join(dir, 'src/http/handlers');
    const before = snapshot(handlersDir);

    const scaffolded = await stubs();

    expect(scaffolded).toMatchObject({ code: 0, output: expect.stringContaining('listWidgets') });
    const after = snapshot(handlersDir);
    expect(after['widgets.ts']).toContain('export function widgetsHandlers(_deps: AppDeps)');
    expect(after['widgets.ts']).toContain('listWidgets: notImplemented,');
    expect(after['index.ts']).toContain("import { widgetsHandlers } from './widgets';");
    expect(after['index.ts']).toContain('...widgetsHandlers(deps),');
    const untouched = Object.keys(before).filter((f) => f !== 'index.ts');
    for (const file of untouched) expect(after[file]).toBe(before[file]);
    expect(await run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'])).toEqual({ code: 0, output: '' });
  });

  test('when the copy is served, then the new operation answers 501 NOT_IMPLEMENTED in the error format', async () => {
    const res = await serveAndGet('/api/v1/widgets');
    expect(res.status).toBe(501);
    expect(res.body).toMatchObject({ error_code: 'NOT_IMPLEMENTED', message: 'listWidgets is not implemented yet.' });
  });

  test('when the scaffolder runs again, then nothing changes', async () => {
    const before = snapshot(path.join(dir, 'src/http/handlers'));
    const again = await stubs();
    expect(again).toMatchObject({ code: 0, output: expect.stringContaining('nothing to do') });
    expect(snapshot(path.join(dir, 'src/http/handlers'))).toEqual(before);
  });
});

describe('the handler check of make check', () => {
  test('when a stub is not listed as deliberately not implemented, then the check fails until it is listed with a reason', async () => {
    const unlisted = await checkHandlers();
    expect(unlisted.code).toBe(1);
    expect(unlisted.output).toContain('operation mapped to notImplemented but not listed');
    expect(unlisted.output).toContain('listWidgets (GET /api/v1/widgets)');

    fs.writeFileSync(path.join(dir, 'openapi/not-implemented.yaml'), 'listWidgets: waits for the widget catalog\n');
    const listed = await checkHandlers();
    expect(listed).toMatchObject({ code: 0, output: expect.stringContaining('1 listed as not implemented') });
  });

  test('when the spec drops an operation that has a handler, then the check names the orphan handler', async () => {
    await editSpec((doc) => doc.deleteIn(['paths', '/api/v1/widgets']));
    const orphan = await checkHandlers();
    expect(orphan.code).toBe(1);
    expect(orphan.output).toContain('handler without an operation: listWidgets in');
    expect(orphan.output).toContain('lists listWidgets, which the spec does not have');
  });
});
