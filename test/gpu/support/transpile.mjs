// Transpiles the webgpu backend and the small test net to plain ESM under .cache/gpu-build/ (inside
// the project so '@tensorflow/tfjs' resolves from node_modules), for scripts that run in a child
// `node` process: the clean-exit test and the train-step measurement. Uses the TypeScript compiler
// API (a devDependency) so no build of the whole project is needed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const SOURCES = [
  'runtime/backends/webgpu.ts',
  'runtime/backends/webgpu-adapter.ts',
  'runtime/backends/webgpu-kernels.ts',
  'test/gpu/support/small-unet.ts',
];

/** Returns the output directory; modules keep their relative paths (imports use .js already). */
export function transpileGpuModules(outDir = join(repoRoot, '.cache', 'gpu-build', String(process.pid))) {
  for (const rel of SOURCES) {
    const source = readFileSync(join(repoRoot, rel), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      fileName: rel,
    });
    const out = join(outDir, rel.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  return outDir;
}
