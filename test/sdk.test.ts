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
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts'] }));
  fs.writeFileSync(path.join(app, 'main.ts'), PROGRAM);
  t = await startTestApp();
}, 60_000);

afterAll(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('make sdk', () => {
  test('when a separate project type-checks a program against the generated package, then it compiles', async () => {
    expect(await tsc('-p', 'app/tsconfig.json')).toEqual({ code: 0, output: '' });
    expect(fs.existsSync(path.join(dir, 'app/main.js'))).toBe(true);
  }, 60_000);

  test('when the program misuses a field, then the package types reject it', async () => {
    fs.writeFileSync(
      path.join(dir, 'app/main.ts'),
      PROGRAM.replace('body: { username, password }', 'body: { user_name: username, password }'),
    );
    const result = await tsc('-p', 'app/tsconfig.json', '--noEmit');
    fs.writeFileSync(path.join(dir, 'app/main.ts'), PROGRAM);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("'user_name' does not exist");
  }, 60_000);

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
