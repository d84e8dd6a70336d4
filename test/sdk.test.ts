import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSdk } from '../scripts/sdk';
import { BUNDLED_SPEC } from '../src/http/binding/spec';
import { buildUser } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

// A client team's view: generate the package from the bundled spec alone (as `make sdk` does), depend on it from a
// separate project, type-check a small program against it and run that program against the real server.
const ROOT = path.resolve(__dirname, '..');
const PACKAGE = 'contract-first-api-client';
let dir: string;
let t: TestApp;
let compiled: { code: number; output: string };

const tsc = (...args: string[]) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    execFile(path.join(ROOT, 'node_modules/.bin/tsc'), args, { cwd: dir }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });

const PROGRAM = `
import { client } from '${PACKAGE}/client';
import { getCurrentUser, login, type User } from '${PACKAGE}';

export async function whoAmI(baseUrl: string, username: string, password: string): Promise<User> {
  client.setConfig({ baseUrl });
  const tokens = await login({ body: { username, password }, throwOnError: true });
  const me = await getCurrentUser({ auth: tokens.data.access_token, throwOnError: true });
  return me.data;
}

const [baseUrl = '', username = '', password = ''] = process.argv.slice(2);
console.log(JSON.stringify(await whoAmI(baseUrl, username, password)));
`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-'));
  buildSdk(path.join(ROOT, BUNDLED_SPEC), path.join(dir, 'sdk'));
  const app = path.join(dir, 'app');
  fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true });
  fs.symlinkSync(path.join(dir, 'sdk'), path.join(app, 'node_modules', PACKAGE));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'client-app', type: 'module' }));
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'DOM'],
    typeRoots: [path.join(ROOT, 'node_modules/@types')],
    types: ['node'],
    strict: true,
    skipLibCheck: false,
  };
  // One compiler run checks both programs (it costs seconds): the good one must compile and be emitted, the one that
  // misuses a field must be the only one with errors.
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: ['main.ts', 'misuse.ts'] }),
  );
  fs.writeFileSync(path.join(app, 'main.ts'), PROGRAM);
  fs.writeFileSync(
    path.join(app, 'misuse.ts'),
    PROGRAM.replace('body: { username, password }', 'body: { user_name: username, password }'),
  );
  compiled = await tsc('-p', 'app/tsconfig.json');
  t = await startTestApp();
}, 60_000);

afterAll(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('make sdk', () => {
  test('when a separate project type-checks a program against the generated package, then it compiles', () => {
    const errorFiles = compiled.output
      .split('\n')
      .filter((line) => /error TS\d+/.test(line))
      .map((line) => line.split('(')[0]);
    expect(errorFiles.length).toBeGreaterThan(0);
    expect(errorFiles.filter((file) => file !== 'app/misuse.ts')).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'app/main.js'))).toBe(true);
  });

  test('when the program misuses a field, then the package types reject it', () => {
    expect(compiled.code).not.toBe(0);
    expect(compiled.output).toMatch(/app\/misuse\.ts\(\d+,\d+\): error TS\d+: .*'user_name' does not exist/);
  });

  test('when the compiled program runs against the real server, then it logs in and reads its own account', async () => {
    const user = await buildUser(t);
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [path.join(dir, 'app/main.js'), t.url, user.username, user.password],
        { env: { PATH: process.env.PATH ?? '' } },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    expect(JSON.parse(output)).toMatchObject({ id: user.id, username: user.username, email: user.email });
  }, 30_000);
});
