import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Node } from 'ts-morph';
import { contractPaths, loadHandlersProject, readHandlerMap } from '../scripts/contract/handler-map';

const ROOT = path.resolve(__dirname, '..');

type LintCase = { file: string; code: string };
type LintResult = { file: string; messages: { ruleId: string | null; message: string }[] };

// One process lints every case with the project's own ESLint configuration, running only the boundary rule: it reads
// import paths alone, so the TypeScript program that the type-aware rules need (seconds to load) is not built.
const LINT_CASES = `
import { ESLint } from 'eslint';
const cases = JSON.parse(process.argv[1]);
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => ruleId === '@typescript-eslint/no-restricted-imports',
});
const results = [];
for (const c of cases) {
  const [result] = await eslint.lintText(c.code, { filePath: c.file });
  results.push({ file: c.file, messages: result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })) });
}
console.log(JSON.stringify(results));
`;

function lint(cases: LintCase[]): Promise<LintResult[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', LINT_CASES, JSON.stringify(cases)],
      { cwd: ROOT, maxBuffer: 10_000_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

const boundaryErrors = (result: LintResult | undefined) =>
  (result?.messages ?? []).filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');

describe('the layer boundaries', () => {
  const violations: LintCase[] = [
    {
      file: 'src/data-access/listing.ts',
      code: "import { parseSort } from '../domain/listing';\nexport const sortOf = parseSort;\n",
    },
    {
      file: 'src/data-access/listing.ts',
      code: "import type { Links } from '../http/binding/links';\nexport type L = Links;\n",
    },
    {
      file: 'src/domain/listing.ts',
      code: "import { pageOf } from '../http/inputs/request';\nexport const windowOf = pageOf;\n",
    },
    {
      file: 'src/http/handlers/users.ts',
      code: "import { findUserById } from '../../data-access/users-repository';\nexport const find = findUserById;\n",
    },
    { file: 'src/lib/clock.ts', code: "import { toPage } from '../domain/listing';\nexport const page = toPage;\n" },
  ];
  const allowed: LintCase[] = [
    {
      file: 'src/http/handlers/users.ts',
      code: "import type { UserRecord } from '../../data-access/users-repository';\nexport type U = UserRecord;\n",
    },
    {
      file: 'src/domain/listing.ts',
      code: "import { orderAndPage } from '../data-access/listing';\nexport const order = orderAndPage;\n",
    },
    {
      file: 'src/http/handlers/users.ts',
      code: "import { getUser } from '../../domain/users/users';\nexport const get = getUser;\n",
    },
  ];
  let results: LintResult[];

  beforeAll(async () => {
    results = await lint([...violations, ...allowed]);
  }, 120_000);

  test.each(violations.map((c, i) => [c.file, c.code.split('\n')[0], i] as const))(
    'when %s imports outward (%s), then the boundary rule fails it',
    (_file, _line, index) => {
      const errors = boundaryErrors(results[index]);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(/may not import|may import only types/);
    },
  );

  test.each(allowed.map((c, i) => [c.file, c.code.split('\n')[0], violations.length + i] as const))(
    'when %s imports inward (%s), then the boundary rule lets it through',
    (_file, _line, index) => {
      expect(results[index]?.file).toBe(allowed[index - violations.length]?.file);
      expect(boundaryErrors(results[index])).toEqual([]);
    },
  );
});

describe('the handlers', () => {
  test('when any handler runs, then it calls exactly one use case of src/domain/<feature>/', () => {
    const paths = contractPaths([], ROOT);
    const project = loadHandlersProject(paths);
    const useCaseFile = /\/src\/domain\/[^/]+\/[^/]+\.ts$/;
    const calls = new Map<string, string[]>();
    for (const entry of readHandlerMap(project, paths).values()) {
      if (entry.notImplemented) continue;
      const handler = entry.literal?.getProperty(entry.operationId);
      if (!handler) throw new Error(`no handler literal for ${entry.operationId}`);
      const called = handler
        .getDescendants()
        .filter(Node.isCallExpression)
        .map((call) => call.getExpression())
        .filter((callee) => {
          const symbol = callee.getSymbol();
          const declarations = (symbol?.getAliasedSymbol() ?? symbol)?.getDeclarations() ?? [];
          return declarations.some((d) => useCaseFile.test(d.getSourceFile().getFilePath()));
        })
        .map((callee) => callee.getText());
      calls.set(entry.operationId, called);
    }
    expect(calls.size).toBeGreaterThan(30);
    const notOne = [...calls].filter(([, called]) => called.length !== 1);
    expect(notOne).toEqual([]);
  });
});

describe('facts of the spec', () => {
  const sources = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((entry) =>
        entry.isDirectory()
          ? entry.name === 'generated'
            ? []
            : sources(path.join(dir, entry.name))
          : entry.name.endsWith('.ts')
            ? [path.join(dir, entry.name)]
            : [],
      );

  test('when the source is searched for API paths, then none is written outside the generated types', () => {
    const files = sources(path.join(ROOT, 'src'));
    expect(files.length).toBeGreaterThan(40);
    const written = files.filter((file) => /['"`]\/api\/v1/.test(fs.readFileSync(file, 'utf8')));
    expect(written).toEqual([]);
  });
});
