import fs from 'node:fs';
import path from 'node:path';
import { Node, Project, ts, type ObjectLiteralExpression } from 'ts-morph';
import { BUNDLED_SPEC, listOperations, loadSpec, type SpecOperation } from '../../src/http/binding/spec';

/** One key of the handler map as the compiler sees it. */
export type HandlerEntry = {
  operationId: string;
  notImplemented: boolean;
  /** The module that declares it and the object literal that holds it, when it is written as a property. */
  file: string | undefined;
  literal: ObjectLiteralExpression | undefined;
};

/**
 * The paths the contract scripts work on; every one can be pointed at a copy of the project. `spec` is the bundled
 * spec that `make generate` writes, `notImplemented` the list of operations deliberately left unimplemented.
 */
export type ContractPaths = { spec: string; notImplemented: string; handlersDir: string; tsconfig: string };

/**
 * Reads `--spec`, `--not-implemented`, `--handlers-dir` and `--tsconfig` from the arguments, defaulting to this
 * project's files.
 */
export function contractPaths(argv: string[], root = process.cwd()): ContractPaths {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const handlersDir = path.resolve(root, value('--handlers-dir') ?? 'src/http/handlers');
  const tsconfig = value('--tsconfig') ?? ts.findConfigFile(handlersDir, (file) => fs.existsSync(file));
  if (!tsconfig) throw new Error(`no tsconfig.json above ${handlersDir}`);
  return {
    spec: path.resolve(root, value('--spec') ?? BUNDLED_SPEC),
    notImplemented: path.resolve(root, value('--not-implemented') ?? 'openapi/not-implemented.yaml'),
    handlersDir,
    tsconfig: path.resolve(root, tsconfig),
  };
}

/** The spec's operations, in document order. */
export function specOperations(specFile: string): SpecOperation[] {
  const doc = loadSpec(specFile);
  const order = Object.entries(doc.paths).flatMap(([, item]) =>
    Object.values(item).map((op) => (op as { operationId?: string }).operationId),
  );
  return listOperations(doc).sort((a, b) => order.indexOf(a.operationId) - order.indexOf(b.operationId));
}

/** Loads the handlers' index module and everything it imports, with the project's compiler options. */
export function loadHandlersProject(paths: ContractPaths): Project {
  const project = new Project({ tsConfigFilePath: paths.tsconfig, skipAddingFilesFromTsConfig: true });
  project.addSourceFileAtPath(path.join(paths.handlersDir, 'index.ts'));
  project.resolveSourceFileDependencies();
  return project;
}

/**
 * Lists the keys of the map that `createHandlers` returns, read from its inferred type rather than from the text,
 * so a handler is found however its module builds the object; `notImplemented` is recognised by its unique symbol.
 */
export function readHandlerMap(project: Project, paths: ContractPaths): Map<string, HandlerEntry> {
  const index = project.getSourceFileOrThrow(path.join(paths.handlersDir, 'index.ts'));
  const createHandlers = index.getFunctionOrThrow('createHandlers');
  const entries = new Map<string, HandlerEntry>();
  for (const property of createHandlers.getReturnType().getProperties()) {
    const declaration = property.getValueDeclaration();
    const type = property.getTypeAtLocation(createHandlers);
    const literal = declaration?.getParent();
    entries.set(property.getName(), {
      operationId: property.getName(),
      notImplemented: (type.getFlags() & ts.TypeFlags.UniqueESSymbol) !== 0,
      file: declaration?.getSourceFile().getFilePath(),
      literal: literal && Node.isObjectLiteralExpression(literal) ? literal : undefined,
    });
  }
  return entries;
}
