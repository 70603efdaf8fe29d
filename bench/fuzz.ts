/**
 * Property-based fuzz (fast-check) of everything a user hands punet: spec files, command-line
 * arguments, PNG files and pickles. Every generated case must end cleanly:
 *   - the CLI: exit code 0, 1 or 2; no stack trace and no "internal error";
 *   - the readers: a result or a DataError (a user error), never a TypeError/RangeError;
 *   - each case within 20 s, the process's peak RSS below 1 GB;
 *   - no file outside the case's run/out folders changed.
 * CLI cases run in this process through the dispatcher's error handling (runCommand), the path
 * every `punet` invocation takes, so thousands of cases fit in minutes.
 *
 *   npm run build:bench && node bench-dist/bench/fuzz.js [--runs N] [--seed S]     (npm run bench -- fuzz: 10,000+)
 *
 * test/hardening/fuzz.test.ts runs the same properties with 1,000+ cases in CI.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { COMMANDS, runCommand } from '../runtime/cli/main.js';
import { UserError } from '../runtime/cli/errors.js';
import { decodePng, encodePng } from '../runtime/data/png.js';
import { loadPickle } from '../runtime/data/import/pickle.js';
import { scanLidcPickle } from '../runtime/data/import/lidc-pickle.js';

export interface FuzzCounts {
  specs: number;
  args: number;
  pngs: number;
  pickles: number;
}

export interface FuzzReport {
  counts: FuzzCounts;
  total: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  /** Cases per outcome, e.g. { 'exit 1': 812, 'DataError': 240 }. */
  outcomes: Record<string, number>;
  slowestMs: number;
}

const CASE_MS = 20_000;
const RSS_LIMIT_KIB = 1024 * 1024;
const STACK_LINE = /^\s+at .+[:(]\d+/m;

const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
const BASE_SPEC = readFileSync(join(ROOT, 'test/cli/fixtures/tiny.punet'), 'utf8');

function findRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === 'punet') return d;
    } catch {
      /* keep looking */
    }
    if (dirname(d) === d) throw new Error('bench/fuzz: cannot find the punet package root');
  }
}

// ---------------------------------------------------------------------------------------------
// The sandbox: input files the cases may name (must stay unchanged) and folders they may write.

export interface Sandbox {
  root: string;
  inputs: string;
  specs: string[];
  runs: string[];
  dataSources: string[];
  plugins: string[];
  out: () => string;
}

export function makeSandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'punet-fuzz-'));
  const inputs = join(root, 'inputs');
  const f = (rel: string, content: string | Uint8Array) => {
    const path = join(inputs, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  };
  const plugins = [
    f('plugins/thenable.js', 'export default { name: "thenable", version: "1.0.0", punetApi: "^2.0.0", then() {} };\n'),
    f('plugins/throws.js', 'throw new Error("boom at import");\n'),
    f('plugins/builtin-name.js', 'export default { name: "punet-losses", version: "1.0.0", punetApi: "^2.0.0" };\n'),
    f('plugins/empty.js', '\n'),
    f('plugins/syntax.js', 'export default {\n'),
  ];
  const fifo = join(inputs, 'fifo.punet');
  const fifoOk = spawnSync('mkfifo', [fifo]).status === 0;
  symlinkSync('/dev/zero', join(inputs, 'zero.punet'));
  const specs = [
    f('specs/tiny.punet', BASE_SPEC),
    f('specs/huge.punet', BASE_SPEC.replace(/size:\s*\d+x\d+/, 'size: 65536x65536')),
    f('specs/bad.punet', 'model "x" { input { size: 16x16 px } unet unet { widths: [ }\n'),
    f('specs/not-a-spec.txt', 'hello\n'),
    ...(fifoOk ? [fifo] : []),
    join(inputs, 'zero.punet'),
    join(inputs, 'missing.punet'),
    inputs,
  ];
  const png = encodePng({ width: 8, height: 8, channels: 1, data: new Uint8Array(64).map((_, i) => (i % 9 ? 0 : 255)) });
  f('data/pngs/images/a.png', png);
  f('data/pngs/annotations/x/a.png', png);
  f('data/bomb/images/a.png', withSize(png, 50000, 50000));
  f('data/bomb/annotations/x/a.png', png);
  const dataSources = [join(inputs, 'data/pngs'), join(inputs, 'data/bomb'), f('data/garbage.pickle', Uint8Array.of(0x80, 2, 0x7d, 0x2e)), join(inputs, 'data/none')];
  const runs = ['runs/empty', 'runs/damaged', 'runs/not-a-run', 'runs/no-checkpoint'].map((r) => join(inputs, r));
  mkdirSync(runs[0]!, { recursive: true });
  f('runs/damaged/spec.json', '{"model": ');
  f('runs/damaged/run.json', 'x');
  f('runs/not-a-run/spec.json', '[1, 2, 3]');
  f('runs/no-checkpoint/spec.json', '{"model":"x","use":[],"input":{"size":[16,16],"channels":1,"classes":2},"train":{"backend":"cpu"}}');
  let n = 0;
  return { root, inputs, specs, runs, dataSources, plugins, out: () => join(root, 'out', String(n++)) };
}

/** A copy of `png` whose IHDR claims another size (CRC left wrong or fixed: both are fuzzed elsewhere). */
function withSize(png: Uint8Array, width: number, height: number): Uint8Array {
  const copy = Uint8Array.from(png);
  const view = new DataView(copy.buffer);
  view.setUint32(16, width >>> 0);
  view.setUint32(20, height >>> 0);
  return copy;
}

/** Size and mtime of every file under `dir` (run folders excluded: cases may write there). */
function fingerprint(dir: string, skip: Set<string>): string {
  const parts: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (skip.has(p)) continue;
      const s = statSync(p, { throwIfNoEntry: false });
      if (!s) continue;
      if (s.isDirectory()) walk(p);
      else parts.push(`${relative(dir, p)}:${s.size}:${s.mtimeMs}`);
    }
  };
  walk(dir);
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Running a CLI command in-process, output captured.


async function runCaptured(name: string, argv: string[]): Promise<{ code: number; output: string }> {
  const command = await COMMANDS[name]!();
  let output = '';
  const write = (chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  };
  const saved = [process.stdout.write, process.stderr.write];
  process.stdout.write = write as typeof process.stdout.write;
  process.stderr.write = write as typeof process.stderr.write;
  try {
    return { code: await runCommand(command, argv), output };
  } finally {
    [process.stdout.write, process.stderr.write] = saved as [typeof process.stdout.write, typeof process.stderr.write];
  }
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Spec text: the tiny example with a few random edits. */
function specArbitrary(box: Sandbox): fc.Arbitrary<string> {
  const lines = BASE_SPEC.split('\n');
  const weird = fc.constantFrom('0', '-1', '1e9', '65536', '100000', '1e308', 'NaN', '0.5', '4294967297', '""', '[]', '{', '}', 'x', '16x16 px', '[12000, 12000]');
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('number' as const), index: fc.nat(), value: weird }),
    fc.record({ kind: fc.constant('delete' as const), index: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), index: fc.nat(), text: fc.string({ maxLength: 40 }) }),
    fc.record({ kind: fc.constant('extends' as const), target: fc.constantFrom(...box.specs, '/etc/passwd', '/dev/zero', '../../x.punet') }),
    fc.record({ kind: fc.constant('use' as const), target: fc.constantFrom(...box.plugins, '/etc/passwd', 'no-such-package', './nope.js') }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let text = lines.slice();
    for (const e of edits) {
      if (e.kind === 'number') {
        const numbers = [...text.join('\n').matchAll(/\d+(\.\d+)?(e-?\d+)?(x\d+)?/g)];
        if (!numbers.length) continue;
        const m = numbers[e.index % numbers.length]!;
        const joined = text.join('\n');
        text = (joined.slice(0, m.index) + e.value + joined.slice(m.index! + m[0].length)).split('\n');
      } else if (e.kind === 'delete') text.splice(e.index % text.length, 1);
      else if (e.kind === 'insert') text.splice(e.index % (text.length + 1), 0, e.text);
      else if (e.kind === 'extends') text.unshift(`extends "${e.target}"`);
      else text.unshift(`use "${e.target}"`);
    }
    return text.join('\n');
  });
}

/** Command lines for commands that end before training (or train nothing: bad specs only). */
export function argsArbitrary(box: Sandbox): fc.Arbitrary<{ command: string; argv: string[] }> {
  const junk = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('--help', '-h', '--json', '--out', '--steps', '0', '-1', 'abc', '1e99', '--seed', '--resume', '--force', '--strict', '--layout', 'lidc-pickle', 'lidc-png', '--split', '1,0,0', '--size', '99999', '--samples', '--memory-limit', '1K', '--plugin', '--trust-plugins', '--checkpoint', 'last', '--backend', 'quantum'));
  const path = fc.constantFrom(...box.specs, ...box.runs, ...box.dataSources, ...box.plugins, '/dev/zero', '/etc/passwd', '/proc/self');
  const tail = fc.array(fc.oneof(junk, path), { maxLength: 6 });
  const untrainable = fc.constantFrom(...box.specs.filter((s) => !s.endsWith('tiny.punet')));
  return fc.oneof(
    fc.record({ command: fc.constantFrom('check', 'print', 'schema', 'plugins'), argv: tail }),
    fc.record({ command: fc.constant('import'), argv: fc.tuple(path, tail).map(([p, t]) => [p, ...t]) }),
    fc.record({ command: fc.constantFrom('eval', 'sample', 'report'), argv: fc.tuple(fc.constantFrom(...box.runs), tail).map(([r, t]) => [r, ...t]) }),
    fc.record({ command: fc.constant('compile-and-train'), argv: fc.tuple(untrainable, tail).map(([s, t]) => [s, ...t]) }),
  ).map(({ command, argv }) => ({ command, argv: withOut(command, argv, box) }));
}

/** Every write a case may make goes to a fresh folder under sandbox/out. */
function withOut(command: string, argv: string[], box: Sandbox): string[] {
  const cleaned: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') i++; // drop the user's --out and its value
    else cleaned.push(argv[i]!);
  }
  if (command === 'import' || command === 'compile-and-train') cleaned.push('--out', box.out());
  if (command === 'report') cleaned.push('--out', join(box.out(), 'r.html'));
  return cleaned;
}

function pngArbitrary(): fc.Arbitrary<Uint8Array> {
  const valid = encodePng({ width: 4, height: 3, channels: 3, data: new Uint8Array(36).fill(7) });
  return fc.oneof(
    fc.constant(valid),
    fc.uint8Array({ maxLength: 512 }),
    fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })).map(([w, h]) => withSize(valid, w, h)),
    fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => {
      const copy = Uint8Array.from(valid);
      for (const [at, value] of flips) copy[at] = value;
      return copy;
    }),
    fc.nat(valid.length).map((n) => valid.subarray(0, n)),
  );
}

/** Pickle opcodes with plausible operands, between PROTO and STOP. */
function pickleArbitrary(): fc.Arbitrary<Uint8Array> {
  const op = fc.oneof(
    fc.constantFrom([0x7d], [0x5d], [0x29], [0x28], [0x74], [0x85], [0x86], [0x87], [0x73], [0x75], [0x61], [0x65], [0x30], [0x32], [0x4e], [0x88], [0x89], [0x94], [0x62], [0x52], [0x2e]),
    fc.tuple(fc.constantFrom(0x4b, 0x68, 0x71), fc.nat(255)).map(([o, b]) => [o, b]),
    fc.tuple(fc.constantFrom(0x4a, 0x72, 0x6a), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([o, b]) => [o, ...b]),
    fc.string({ maxLength: 8 }).map((s) => [0x8c, Buffer.byteLength(s), ...Buffer.from(s)]),
    fc.uint8Array({ maxLength: 16 }).map((b) => [0x43, b.length, ...b]),
    fc.constantFrom('numpy\nndarray\n', 'numpy\ndtype\n', 'numpy.core.multiarray\n_reconstruct\n', 'os\nsystem\n', 'builtins\neval\n').map((g) => [0x63, ...Buffer.from(g)]),
    fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => Array.from(b)),
  );
  return fc.tuple(fc.constantFrom(2, 3, 4, 5), fc.array(op, { maxLength: 40 })).map(([proto, ops]) => Uint8Array.from([0x80, proto, ...ops.flat(), 0x2e]));
}

// ---------------------------------------------------------------------------------------------
// The properties

export async function runFuzz(counts: FuzzCounts, seed: number, log: (line: string) => void = () => {}): Promise<FuzzReport> {
  const box = makeSandbox();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const outcomes: Record<string, number> = {};
  let slowestMs = 0;
  const count = (outcome: string) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + 1);
  const runFolders = new Set(box.runs);
  const before = fingerprint(box.inputs, runFolders);
  const repoTop = readdirSync(ROOT).sort().join(',');
  const timed = async <T>(what: string, fn: () => Promise<T> | T): Promise<T> => {
    const start = Date.now();
    const result = await fn();
    const ms = Date.now() - start;
    slowestMs = Math.max(slowestMs, ms);
    if (ms > CASE_MS) throw new Error(`${what} took ${ms} ms (limit ${CASE_MS})`);
    const peak = process.resourceUsage().maxRSS;
    if (peak > RSS_LIMIT_KIB) throw new Error(`${what}: peak RSS ${Math.round(peak / 1024)} MiB (limit 1024)`);
    return result;
  };
  const env = { PUNET_PLUGIN_TIMEOUT_MS: process.env.PUNET_PLUGIN_TIMEOUT_MS, PUNET_MEMORY_LIMIT: process.env.PUNET_MEMORY_LIMIT };
  process.env.PUNET_PLUGIN_TIMEOUT_MS = '2000';
  process.env.PUNET_MEMORY_LIMIT = '2G';
  try {
    const cliCase = async (command: string, argv: string[]) => {
      const { code, output } = await timed(`punet ${command} ${argv.join(' ')}`, () => runCaptured(command, argv));
      const what = `punet ${command} ${argv.map((a) => JSON.stringify(a)).join(' ')}`;
      if (![0, 1, 2].includes(code)) throw new Error(`${what}: exit ${code}\n${output}`);
      if (output.includes('internal error') || STACK_LINE.test(output)) throw new Error(`${what}: internal error or stack trace\n${output}`);
      const after = fingerprint(box.inputs, runFolders);
      if (after !== before) throw new Error(`${what}: changed files outside its run/out folder`);
      count(`exit ${code}`);
    };

    log(`specs: ${counts.specs} generated spec files through check and print`);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(specArbitrary(box), fc.boolean(), async (text, print) => {
        const file = join(box.root, 'out', `spec-${n++}.punet`);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
        await cliCase(print ? 'print' : 'check', [file]);
      }),
      { numRuns: counts.specs, seed, endOnFailure: true, includeErrorInReport: true },
    );

    log(`args: ${counts.args} generated command lines`);
    await fc.assert(fc.asyncProperty(argsArbitrary(box), ({ command, argv }) => cliCase(command, argv)), { numRuns: counts.args, seed: seed + 1, endOnFailure: true, includeErrorInReport: true });

    const library = async (what: string, fn: () => unknown) => {
      try {
        await timed(what, fn);
        count(`${what}: ok`);
      } catch (err) {
        if (err instanceof UserError) count(`${what}: ${err.name}`);
        else throw new Error(`${what}: ${(err as Error)?.name}: ${(err as Error)?.message}`);
      }
    };
    log(`pngs: ${counts.pngs} generated PNG byte strings through the decoder`);
    await fc.assert(fc.asyncProperty(pngArbitrary(), (bytes) => library('png', () => decodePng(bytes, 'fuzz.png'))), { numRuns: counts.pngs, seed: seed + 2, endOnFailure: true, includeErrorInReport: true });

    log(`pickles: ${counts.pickles} generated pickles through the pickle VM and the lidc-pickle scanner`);
    const pickleFile = join(box.root, 'out', 'fuzz.pickle');
    await fc.assert(
      fc.asyncProperty(pickleArbitrary(), async (bytes) => {
        await library('pickle', () => loadPickle(bytes, 'fuzz.pickle'));
        writeFileSync(pickleFile, bytes);
        await library('lidc-pickle', () => scanLidcPickle(pickleFile).items.forEach((i) => i.load()));
      }),
      { numRuns: counts.pickles, seed: seed + 3, endOnFailure: true, includeErrorInReport: true },
    );
    if (readdirSync(ROOT).sort().join(',') !== repoTop) throw new Error('the fuzz created or removed files in the repository root');
  } finally {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(box.root, { recursive: true, force: true });
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    counts,
    total: counts.specs + counts.args + counts.pngs + counts.pickles,
    seconds: (Date.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    outcomes,
    slowestMs,
  };
}

/** Splits `runs` over the four targets (CLI cases cost more, so they get fewer). */
export function splitRuns(runs: number): FuzzCounts {
  const specs = Math.round(runs * 0.3);
  const args = Math.round(runs * 0.2);
  const pngs = Math.round(runs * 0.25);
  return { specs, args, pngs, pickles: runs - specs - args - pngs };
}

async function main(): Promise<void> {
  const flag = (name: string, fallback: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const runs = flag('--runs', 10_000);
  const seed = flag('--seed', 20261202);
  process.env.PUNET_WASM_THREADS ??= '1';
  const report = await runFuzz(splitRuns(runs), seed, (line) => process.stdout.write(`  ${line}\n`));
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(
    `fuzz: ${report.total} cases passed (specs ${report.counts.specs}, args ${report.counts.args}, pngs ${report.counts.pngs}, pickles ${report.counts.pickles}) ` +
      `in ${report.seconds.toFixed(1)} s wall, ${report.cpuSeconds.toFixed(1)} s CPU; peak RSS ${report.peakRssMiB} MiB; slowest case ${report.slowestMs} ms (seed ${seed})\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`fuzz: FAILED\n${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  });
}
