import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { BUNDLED_SPEC } from '../src/http/binding/spec';

const ROOT = path.resolve(__dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

/**
 * Generates a standalone client package from the spec alone: typed functions per operation and a fetch client
 * (@hey-api/openapi-ts), compiled to `dist/` with declarations, so another project can depend on the folder.
 */
export function buildSdk(specFile: string, outDir: string): void {
  const spec = YAML.parse(fs.readFileSync(specFile, 'utf8')) as { info: { title: string; version: string } };
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  execFileSync(
    bin('openapi-ts'),
    ['-i', path.resolve(specFile), '-o', path.join(outDir, 'src'), '-c', '@hey-api/client-fetch', '--no-log-file'],
    { stdio: 'pipe', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const manifest = {
    name: 'contract-first-api-client',
    version: spec.info.version,
    description: `Generated client for ${spec.info.title}`,
    type: 'module',
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './client': { types: './dist/client.gen.d.ts', default: './dist/client.gen.js' },
    },
    files: ['dist'],
    sideEffects: false,
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      types: [],
      strict: true,
      declaration: true,
      skipLibCheck: true,
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  };
  fs.writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  execFileSync(bin('tsc'), ['-p', path.join(outDir, 'tsconfig.json')], { stdio: 'pipe' });
}

function main(): void {
  const args = process.argv.slice(2);
  const option = (flag: string, fallback: string) => {
    const index = args.indexOf(flag);
    return index >= 0 ? (args[index + 1] ?? fallback) : fallback;
  };
  const outDir = path.resolve(option('--out', 'build/sdk'));
  buildSdk(path.resolve(option('--spec', BUNDLED_SPEC)), outDir);
  console.log(
    `client package written to ${path.relative(process.cwd(), outDir)} (import from its folder, or npm pack it)`,
  );
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    const output = err as { stdout?: Buffer; stderr?: Buffer; message?: string };
    console.error(String(output.stdout ?? ''), String(output.stderr ?? ''), output.message);
    process.exit(1);
  }
}
