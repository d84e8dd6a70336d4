import path from 'node:path';
import ts from 'typescript';

// Handler maps in test/types/fixtures that must or must not compile, checked by one TypeScript program (the project's
// own `tsc` leaves the folder out). A fixture line `// The next line fails: <text>` expects exactly one error, on the
// line after it, whose message contains <text>; a fixture without such a line must compile.
const FIXTURES = path.join(__dirname, 'types', 'fixtures');
const MARKER = /\/\/ The next line fails: (.+)$/;

type Found = { line: number; message: string };

function compileFixtures(): Map<string, { expected: Found[]; actual: Found[] }> {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(FIXTURES, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!config) throw new Error('test/types/fixtures/tsconfig.json could not be read');
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const results = new Map<string, { expected: Found[]; actual: Found[] }>();
  for (const file of config.fileNames) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`${file} is not in the program`);
    const expected = source.text.split('\n').flatMap((text, index) => {
      const message = MARKER.exec(text)?.[1];
      return message === undefined ? [] : [{ line: index + 2, message }];
    });
    const actual = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
      (diagnostic) => ({
        line: source.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1,
        message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
      }),
    );
    results.set(path.basename(file), { expected, actual });
  }
  return results;
}

describe('typed response headers', () => {
  let results: ReturnType<typeof compileFixtures>;
  // One program for all fixtures: a few seconds, most of it loading the generated types.
  beforeAll(() => {
    results = compileFixtures();
  }, 60_000);

  const fixture = (name: string) => {
    const result = results.get(name);
    if (!result) throw new Error(`no fixture ${name}`);
    return result;
  };
  const expectFailures = (name: string) => {
    const { expected, actual } = fixture(name);
    expect(expected).toHaveLength(1);
    expect(actual).toEqual(
      expected.map(({ line, message }) => ({ line, message: expect.stringContaining(message) as unknown })),
    );
  };

  test('when handlers return the required headers and only declared ones, then the map compiles', () => {
    expect(fixture('declared.ts')).toEqual({ expected: [], actual: [] });
  });

  test('when a handler omits a header the spec requires for its status, then tsc fails naming it', () => {
    expectFailures('missing-required.ts');
  });

  test('when a handler returns a header the spec does not declare for its status, then tsc fails naming it', () => {
    expectFailures('undeclared.ts');
  });

  test('when a handler returns a header the pipeline sets, then tsc fails naming it', () => {
    expectFailures('pipeline-owned.ts');
  });

  test('when a handler sends an integer header that is not a numeral, then tsc fails', () => {
    expectFailures('not-a-numeral.ts');
  });
});
