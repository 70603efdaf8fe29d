/**
 * `npm run bench`: every benchmark, one after the other, each in its own process (backends are
 * process-global). The speed benchmarks run first; the training ones (quality, hierarchical vs
 * flat, BU-BIL) take minutes each. Pass names to run a subset: `npm run bench -- parse sampling`.
 * Results are printed and, where a benchmark writes them, saved as JSON under bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHMARKS: Array<{ name: string; args: string[]; what: string }> = [
  { name: 'parse', args: [], what: 'spec parse + validate, warm and cold (targets: < 5 ms, < 300 ms)' },
  { name: 'backends', args: [], what: 'U-Net forward and training step per backend, GFLOP/s' },
  { name: 'compiler', args: ['--backend', 'wasm'], what: 'the compiled LIDC model: forward, sampling, training step' },
  { name: 'vs-pytorch', args: [], what: 'LIDC Prob. U-Net: native kernels, plain wasm and PyTorch side by side, 1 and 2 threads' },
  { name: 'kernel-profile', args: [], what: 'time per kernel type of one LIDC training step (wasm backend, native kernels where built)' },
  { name: 'sampling', args: ['--backend', 'wasm'], what: '16 prior samples vs one forward pass (target <= 1.5x)' },
  { name: 'quality', args: [], what: 'tiny model vs deterministic U-Net on the built-in data (GED, mode frequencies)' },
  { name: 'hierarchical-vs-flat', args: [], what: 'hierarchical vs flat Prob. U-Net on the built-in data' },
  { name: 'seeds', args: [], what: 'tiny model over 5 seeds, previous vs robust recipe: collapse, GED and mode TV with 95% CIs' },
  { name: 'bu-bil', args: [], what: 'BU-BIL DS1: import, train, evaluate' },
  { name: 'fuzz', args: ['--runs', '10000'], what: 'property fuzz of specs, command lines, PNGs and pickles: every case ends cleanly (issue 14)' },
];

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.name === w));
if (unknown.length) {
  process.stderr.write(`bench: unknown benchmark(s) ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
let failed = 0;
for (const b of BENCHMARKS.filter((b) => !wanted.length || wanted.includes(b.name))) {
  process.stdout.write(`\n=== ${b.name}: ${b.what}\n`);
  const r = spawnSync(process.execPath, [join(here, `${b.name}.js`), ...b.args], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`=== ${b.name} failed (exit ${r.status ?? r.signal})\n`);
  }
}
process.exit(failed ? 1 : 0);
