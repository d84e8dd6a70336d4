import fs from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { IndentationText, Node, QuoteKind, SyntaxKind, type ObjectLiteralExpression, type SourceFile } from 'ts-morph';
import type { SpecOperation } from '../src/http/binding/spec';
import {
  contractPaths,
  loadHandlersProject,
  readHandlerMap,
  specOperations,
  type ContractPaths,
  type HandlerEntry,
} from './contract/handler-map';

const camel = (tag: string) => tag.replace(/[^A-Za-z0-9]+([A-Za-z0-9])/g, (_m, c: string) => c.toUpperCase());
const kebab = (tag: string) =>
  tag
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .toLowerCase();

// `{ ... } satisfies PartialHandlers`, `({ ... })` and `{ ... } as X` all hold the literal the stubs go into, and so
// does a constant initialised with one (`const handlers = { ... } satisfies Handlers; return handlers satisfies ...`).
function unwrapLiteral(node: Node | undefined): ObjectLiteralExpression | undefined {
  let current = node;
  while (
    current &&
    (Node.isSatisfiesExpression(current) || Node.isParenthesizedExpression(current) || Node.isAsExpression(current))
  ) {
    current = current.getExpression();
  }
  if (current && Node.isIdentifier(current)) {
    const block = current.getFirstAncestorByKind(SyntaxKind.Block);
    return unwrapLiteral(block?.getVariableDeclaration(current.getText())?.getInitializer());
  }
  return current && Node.isObjectLiteralExpression(current) ? current : undefined;
}

function returnedLiteral(file: SourceFile, functionName: string): ObjectLiteralExpression | undefined {
  const fn = file.getFunction(functionName);
  const returned = fn?.getDescendantsOfKind(SyntaxKind.ReturnStatement).at(-1)?.getExpression();
  return unwrapLiteral(returned);
}

function relativeSpecifier(from: SourceFile, to: SourceFile): string {
  const specifier = path
    .relative(path.dirname(from.getFilePath()), to.getFilePath())
    .replace(/\.ts$/, '')
    .split(path.sep)
    .join('/');
  return specifier.startsWith('.') ? specifier : `./${specifier}`;
}

// The value import of `notImplemented`, turning `import type { PartialHandlers }` into `import { notImplemented, type PartialHandlers }`.
function importNotImplemented(file: SourceFile, operationsFile: SourceFile): void {
  const existing = file.getImportDeclaration((d) => d.getModuleSpecifierSourceFile() === operationsFile);
  if (!existing) {
    file.addImportDeclaration({
      namedImports: ['notImplemented'],
      moduleSpecifier: relativeSpecifier(file, operationsFile),
    });
    return;
  }
  if (existing.getNamedImports().some((n) => n.getName() === 'notImplemented' && !n.isTypeOnly())) return;
  if (existing.isTypeOnly()) {
    existing.setIsTypeOnly(false);
    for (const named of existing.getNamedImports()) named.setIsTypeOnly(true);
  }
  existing.insertNamedImport(0, 'notImplemented');
}

// The module specifier the index imports a name from.
function specifierOf(index: SourceFile, name: string): string {
  const declaration = index.getImportDeclarations().find((d) => d.getNamedImports().some((n) => n.getName() === name));
  if (!declaration) throw new Error(`${index.getFilePath()} does not import ${name}`);
  return declaration.getModuleSpecifierValue();
}

type ModuleTarget = { file: SourceFile; literal: ObjectLiteralExpression; functionName: string | undefined };

// A tag's stubs go where its other handlers already are; a new tag gets `<tag>.ts`, registered in the index.
function targetFor(
  tag: string,
  operations: SpecOperation[],
  map: Map<string, HandlerEntry>,
  paths: ContractPaths,
  index: SourceFile,
): ModuleTarget {
  const sibling = operations
    .filter((op) => op.tags[0] === tag)
    .map((op) => map.get(op.operationId)?.literal)
    .find((literal) => literal !== undefined);
  if (sibling) return { file: sibling.getSourceFile(), literal: sibling, functionName: undefined };

  const functionName = `${camel(tag)}Handlers`;
  const fileName = path.join(paths.handlersDir, `${kebab(tag)}.ts`);
  const project = index.getProject();
  const file =
    project.getSourceFile(fileName) ??
    (fs.existsSync(fileName)
      ? project.addSourceFileAtPath(fileName)
      : project.createSourceFile(
          fileName,
          [
            // A new module sits beside the index, so the index's own specifiers hold for it too.
            `import type { AppDeps } from '${specifierOf(index, 'AppDeps')}';`,
            `import type { PartialHandlers } from '${specifierOf(index, 'Handlers')}';`,
            '',
            `/** Handlers of the \`${tag}\` tag. */`,
            `export function ${functionName}(_deps: AppDeps) {`,
            '  return {} satisfies PartialHandlers;',
            '}',
            '',
          ].join('\n'),
        ));
  const literal = returnedLiteral(file, functionName);
  if (!literal) throw new Error(`${fileName} exists but has no function ${functionName} returning an object literal`);
  return { file, literal, functionName };
}

function register(index: SourceFile, target: ModuleTarget): void {
  const { functionName } = target;
  if (!functionName) return;
  const createHandlers = index.getFunctionOrThrow('createHandlers');
  const map = returnedLiteral(index, 'createHandlers');
  if (!map) throw new Error(`${index.getFilePath()}: createHandlers does not return an object literal`);
  const imported = index
    .getImportDeclarations()
    .some((d) => d.getNamedImports().some((n) => n.getName() === functionName));
  if (!imported) {
    const specifier = relativeSpecifier(index, target.file);
    // Among the index's own `./` imports, in alphabetical order.
    const local = index.getImportDeclarations().filter((d) => d.getModuleSpecifierValue().startsWith('./'));
    const before = local.filter((d) => d.getModuleSpecifierValue() < specifier).at(-1);
    const position = before
      ? before.getChildIndex() + 1
      : (local[0]?.getChildIndex() ?? index.getImportDeclarations().length);
    index.insertImportDeclaration(position, {
      namedImports: [functionName],
      moduleSpecifier: specifier,
    });
  }
  const spread = map
    .getProperties()
    .some((p) => Node.isSpreadAssignment(p) && p.getExpression().getText().startsWith(`${functionName}(`));
  if (!spread) {
    const deps = createHandlers.getParameters()[0]?.getName() ?? 'deps';
    map.addSpreadAssignment({ expression: `${functionName}(${deps})` });
  }
}

async function format(file: SourceFile): Promise<void> {
  const filePath = file.getFilePath();
  const options = (await prettier.resolveConfig(filePath)) ?? {};
  fs.writeFileSync(filePath, await prettier.format(file.getFullText(), { ...options, filepath: filePath }));
}

/** Writes a `notImplemented` stub for every operation of the spec that has no handler; existing handlers are left alone. */
export async function scaffoldStubs(paths: ContractPaths): Promise<string[]> {
  const operations = specOperations(paths.spec);
  const project = loadHandlersProject(paths);
  project.manipulationSettings.set({
    quoteKind: QuoteKind.Single,
    indentationText: IndentationText.TwoSpaces,
    useTrailingCommas: true,
  });
  const map = readHandlerMap(project, paths);
  const missing = operations.filter((op) => !map.has(op.operationId));
  const untagged = missing.filter((op) => !op.tags[0]);
  if (untagged.length) throw new Error(`operations without a tag: ${untagged.map((op) => op.operationId).join(', ')}`);

  const index = project.getSourceFileOrThrow(path.join(paths.handlersDir, 'index.ts'));
  const operationsFile = index
    .getImportDeclarations()
    .find((d) => d.getNamedImports().some((n) => n.getName() === 'Handlers'))
    ?.getModuleSpecifierSourceFile();
  if (!operationsFile) throw new Error(`${index.getFilePath()} does not import the Handlers type`);

  const changed = new Set<SourceFile>();
  for (const op of missing) {
    const target = targetFor(op.tags[0] as string, operations, map, paths, index);
    if (!target.literal.getProperty(op.operationId)) {
      target.literal.addPropertyAssignment({ name: op.operationId, initializer: 'notImplemented' });
      importNotImplemented(target.file, operationsFile);
      changed.add(target.file);
    }
    const before = index.getFullText();
    register(index, target);
    if (index.getFullText() !== before) changed.add(index);
  }
  for (const file of changed) {
    await file.save();
    await format(file);
  }
  return missing.map((op) => op.operationId);
}

async function main(): Promise<void> {
  const paths = contractPaths(process.argv.slice(2));
  const stubbed = await scaffoldStubs(paths);
  if (stubbed.length === 0) {
    console.log('every operation of the spec has a handler: nothing to do');
    return;
  }
  console.log(`stubbed ${stubbed.length} operation(s), each answering 501 NOT_IMPLEMENTED:`);
  for (const operationId of stubbed) console.log(`  ${operationId}`);
  console.log(
    `implement them in ${path.relative(process.cwd(), paths.handlersDir)}/, or list them with a reason in ` +
      'openapi/not-implemented.yaml (make check fails on a stub that is neither).',
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
