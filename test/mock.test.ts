import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { BUNDLED_SPEC, loadSpec } from '../src/http/binding/spec';

// `make mock` serves the examples of the bundled spec with Prism; this starts the same command on a free port.
const ROOT = path.resolve(__dirname, '..');
let prism: ChildProcess;
let baseUrl: string;

type Responses = Record<string, { content?: Record<string, { example?: unknown }> }>;
const exampleOf = (specPath: string, status: string) => {
  const op = loadSpec().paths[specPath]?.get as { responses: Responses } | undefined;
  return op?.responses[status]?.content?.['application/json']?.example;
};

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  prism = spawn(
    path.join(ROOT, 'node_modules/.bin/prism'),
    ['mock', BUNDLED_SPEC, '--host', '127.0.0.1', '--port', String(port)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  prism.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  prism.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Prism is listening')) {
    if (Date.now() > deadline || prism.exitCode !== null) throw new Error(`Prism did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 40_000);

afterAll(async () => {
  const exited = new Promise((resolve) => prism.once('exit', resolve));
  prism.kill('SIGTERM');
  await exited;
});

describe('make mock', () => {
  test('when /health is requested from the mock, then the spec example comes back', async () => {
    const res = await fetch(`${baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(exampleOf('/health', '200'));
  });

  test('when a product is requested from the mock, then the documented product example comes back', async () => {
    const example = exampleOf('/api/v1/products/{product_id}', '200');
    expect(example).toMatchObject({ id: expect.any(Number) });
    const res = await fetch(`${baseUrl}/api/v1/products/7`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(example);
  });
});
