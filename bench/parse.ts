/**
 * Front-end benchmark: warm parse + validate time per example spec (target < 5 ms) and the cold
 * start of a `punet check` process (target < 300 ms), printed as a table.
 *
 *   npm run build:bench && node bench-dist/bench/parse.js [--runs N]
 *
 * Cold start is measured twice: with the schema disk cache warm (the normal case: every run
 * after the first on a machine) and with it disabled (PUNET_SCHEMA_CACHE=0: ajv compiles the
 * schema in the process).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSource } from '../spec/index.js';
import { createRegistry } from '../plugins/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..'); // bench-dist/bench -> repo root
const examples = ['prob-unet-lidc.punet', 'prob-unet-tiny.punet', 'hierarchical.punet'].map((f) => path.join(root, 'examples', f));
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 200;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const registry = createRegistry();
const rows: string[][] = [];
for (const file of examples) {
  const text = fs.readFileSync(file, 'utf8');
  for (let i = 0; i < 20; i++) checkSource(text, file, registry); // warm-up: JIT, schema compile
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    checkSource(text, file, registry);
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  rows.push([`warm parse+validate ${path.basename(file)}`, ms.toFixed(2), '< 5', ms < 5 ? 'ok' : 'SLOW']);
}

const cli = path.join(root, 'dist', 'runtime', 'cli', 'main.js');
function coldStart(env: NodeJS.ProcessEnv): number {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'check', examples[0]!], { env: { ...process.env, ...env }, encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`punet check failed: ${r.stderr}`);
  }
  return median(times);
}
const nodeOnly = (() => {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    times.push(performance.now() - t0);
  }
  return median(times);
})();
coldStart({}); // fills the schema cache
const cached = coldStart({});
const uncached = coldStart({ PUNET_SCHEMA_CACHE: '0' });
rows.push(['cold `punet check` (schema cache warm)', cached.toFixed(0), '< 300', cached < 300 ? 'ok' : 'SLOW']);
rows.push(['cold `punet check` (no schema cache)', uncached.toFixed(0), '-', '']);
rows.push(['bare `node -e 0` (for reference)', nodeOnly.toFixed(0), '-', '']);

const header = ['measure', 'ms (median)', 'target', ''];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
