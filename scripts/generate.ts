import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUNDLED_SPEC } from '../src/http/binding/spec';
import { bundleSpec } from './contract/bundle';

// `make generate` (package.json's generate script): the spec's files are bundled into BUNDLED_SPEC, which everything
// reads, and the types are generated from the bundle. With --check, nothing is written: it fails when either
// committed file differs from what the sources give now.

const ROOT_SPEC = path.join('openapi', 'openapi.yaml');
const TYPES = path.join('src', 'generated', 'openapi.ts');
const OPENAPI_TYPESCRIPT = path.resolve(__dirname, '..', 'node_modules', '.bin', 'openapi-typescript');

/** Writes the TypeScript types of a single-file spec to `out` with openapi-typescript. */
export function generateTypes(specFile: string, out: string): void {
  execFileSync(OPENAPI_TYPESCRIPT, [specFile, '--default-non-nullable', 'false', '-o', out], { stdio: 'pipe' });
}

const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined);

function main(): void {
  const check = process.argv.slice(2).includes('--check');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'generate-'));
  try {
    const [freshSpec, freshTypes] = [path.join(dir, 'openapi.yaml'), path.join(dir, 'openapi.ts')];
    fs.writeFileSync(freshSpec, bundleSpec(ROOT_SPEC));
    generateTypes(freshSpec, freshTypes);
    // Only a file whose content changed is written, so that make does not rebuild for nothing.
    const outputs: [file: string, fresh: string][] = [
      [BUNDLED_SPEC, freshSpec],
      [TYPES, freshTypes],
    ];
    const stale = outputs.filter(([file, fresh]) => read(file) !== read(fresh));
    if (check) {
      for (const [file] of stale) console.error(`stale: ${file}`);
      if (stale.length) {
        console.error(
          `they no longer match ${ROOT_SPEC} and the files it references: run make generate and commit them`,
        );
        process.exitCode = 1;
      }
      return;
    }
    for (const [file, freshFile] of stale) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.copyFileSync(freshFile, file);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    const output = err as { stdout?: Buffer; stderr?: Buffer; message?: string };
    console.error([output.message, output.stdout, output.stderr].filter(Boolean).map(String).join('\n'));
    process.exit(1);
  }
}
