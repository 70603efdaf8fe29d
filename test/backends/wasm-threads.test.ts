/**
 * Multi-threaded wasm in Node (runtime/backends/wasm-threads.ts).
 *
 * In this process: the thread-count setting, the os.cpus() override during initialisation, and the
 * blob:-URL worker on a small stand-in of emscripten's protocol (queued messages in order, the
 * Blob main script evaluated by importScripts with the bundle-scope names defined).
 *
 * In child `node` processes (the backend is process-global, and exit behaviour can only be seen
 * from outside): the real threaded backend runs XNNPACK on 2 threads (the second thread does a
 * share of the conv work, measured as per-thread CPU time from /proc), its conv forward pass and
 * conv gradients equal the single-threaded build's, and the process ends by itself after a
 * training step (idle XNNPACK threads must not keep it alive).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobUrlWorker, THREADS_ENV, wasmThreadCount, withCoreCountForInit } from '../../runtime/backends/wasm-threads.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('thread count', () => {
  it('reads PUNET_WASM_THREADS, else the usable cores capped at 8', () => {
    expect(wasmThreadCount({ [THREADS_ENV]: '3' })).toBe(3);
    expect(wasmThreadCount({ [THREADS_ENV]: '1' })).toBe(1);
    expect(wasmThreadCount({})).toBe(Math.min(8, os.availableParallelism()));
    expect(wasmThreadCount({ [THREADS_ENV]: ' ' })).toBe(Math.min(8, os.availableParallelism()));
    // With the native kernels the pool keeps one thread unless asked for more.
    expect(wasmThreadCount({}, true)).toBe(1);
    expect(wasmThreadCount({ [THREADS_ENV]: '3' }, true)).toBe(3);
  });

  it('rejects a value that is not a positive integer, naming the variable and the fix', () => {
    for (const bad of ['0', '-2', '1.5', 'two']) {
      expect(() => wasmThreadCount({ [THREADS_ENV]: bad })).toThrow(`${THREADS_ENV}=${bad} is not a positive integer`);
    }
  });
});

describe('core count during initialisation', () => {
  // The CommonJS exports object is what the wasm glue reads (an ESM namespace is a snapshot).
  const osModule = createRequire(import.meta.url)('node:os') as typeof os;

  it('os.cpus() lists 2 x threads entries inside, and the real list again afterwards', async () => {
    const real = osModule.cpus().length;
    const inside = await withCoreCountForInit(3, async () => osModule.cpus().length);
    expect(inside).toBe(6);
    expect(osModule.cpus().length).toBe(real);
  });

  it('restores os.cpus() when initialisation fails', async () => {
    const real = osModule.cpus().length;
    await expect(withCoreCountForInit(4, async () => Promise.reject(new Error('init failed')))).rejects.toThrow('init failed');
    expect(osModule.cpus().length).toBe(real);
  });
});

/** A worker script speaking a tiny subset of emscripten's protocol: 'load' imports the main script. */
const STAND_IN_WORKER = `
const { parentPort } = require('node:worker_threads');
globalThis.importScripts = (name) => { throw new Error('no such file: ' + name); };
parentPort.on('message', (m) => {
  if (m.cmd === 'load') { importScripts(m.urlOrBlob); parentPort.postMessage({ loaded: globalThis.standInFactory(m.base) }); }
  else if (m.cmd === 'echo') parentPort.postMessage({ echo: m.n });
});
`;
/** Uses names the real factory takes from the bundle's scope, as the real one does. */
const STAND_IN_MAIN = `
var standInFactory = (base) => [typeof require$$0.readFileSync, __read([base, base + 1, base + 2], 2).join('+'), commonjsGlobal === globalThis];
`;

function collect(worker: BlobUrlWorker, count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const got: unknown[] = [];
    worker.on('error', reject);
    worker.on('message', (m: unknown) => {
      got.push(m);
      if (got.length === count) resolve(got);
    });
  });
}

describe('blob: URL worker', () => {
  it('runs the Blob script, evaluates a Blob main script on load, and keeps message order', async () => {
    const url = URL.createObjectURL(new Blob([STAND_IN_WORKER]));
    const worker = new BlobUrlWorker(url);
    try {
      const replies = collect(worker, 4);
      // Posted synchronously, before the worker has its script: they must arrive in this order.
      worker.postMessage({ cmd: 'echo', n: 1 });
      worker.postMessage({ cmd: 'load', urlOrBlob: new Blob([STAND_IN_MAIN]), base: 20 });
      worker.postMessage({ cmd: 'echo', n: 2 });
      worker.postMessage({ cmd: 'echo', n: 3 });
      expect(await replies).toEqual([{ echo: 1 }, { loaded: ['function', '20+21', true] }, { echo: 2 }, { echo: 3 }]);
    } finally {
      await worker.terminate();
      URL.revokeObjectURL(url);
    }
  });

  it('behaves as a plain worker_threads Worker for anything but a blob: URL', async () => {
    const worker = new BlobUrlWorker(`require('node:worker_threads').parentPort.on('message', (n) => require('node:worker_threads').parentPort.postMessage(n * 2));`, { eval: true });
    try {
      const reply = collect(worker, 1);
      worker.postMessage(21);
      expect(await reply).toEqual([42]);
    } finally {
      await worker.terminate();
    }
  });

  it('reports a blob: URL that names no Blob', () => {
    expect(() => new BlobUrlWorker('blob:nodedata:00000000-0000-0000-0000-000000000000')).toThrow('does not name a Blob');
  });
});

// ---- child processes running the real threaded backend ----

const BACKEND_SOURCES = [
  'runtime/backends/wasm.ts',
  'runtime/backends/wasm-threads.ts',
  'runtime/backends/avg-pool-grad.ts',
  'runtime/backends/native.ts',
  'runtime/backends/native-kernels.ts',
  'runtime/backends/frugal-gradients.ts',
  'runtime/backends/native-kernel-names.ts',
  ...readdirSync(join(ROOT, 'runtime/backends/wasm-kernels')).filter((f) => f.endsWith('.ts')).map((f) => `runtime/backends/wasm-kernels/${f}`),
];

/** Transpiles the wasm backend modules to plain ESM inside the project (so packages resolve). */
function transpileBackend(outDir: string): void {
  for (const rel of BACKEND_SOURCES) {
    const { outputText } = ts.transpileModule(readFileSync(join(ROOT, rel), 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      fileName: rel,
    });
    const out = join(outDir, rel.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
}

/**
 * The child: activates wasm, then (1) times a block of convs and reports each thread's CPU time
 * from /proc, (2) reports a conv forward result and its input and filter gradients on fixed data,
 * (3) runs two Adam steps of a small conv net, prints one JSON line and ends without teardown.
 */
const CHILD = `
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
const { activateWasm } = await import(process.argv[1]);
const wasm = await import('@tensorflow/tfjs-backend-wasm');

function threadCpuMs() {
  const out = new Map();
  if (!fs.existsSync('/proc/self/task')) return out;
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(t, (Number(f[11]) + Number(f[12])) * 1000 / 100);
    } catch {}
  }
  return out;
}
function values(n, seed) {
  const v = new Float32Array(n); let s = seed;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; v[i] = s / 2 ** 31 - 1; }
  return v;
}

await activateWasm();
const threads = wasm.getThreadsCount();

// (1) conv work, per-thread CPU time
const big = tf.tensor4d(values(4 * 64 * 64 * 32, 1), [4, 64, 64, 32]);
const bigW = tf.tensor4d(values(9 * 32 * 32, 2), [3, 3, 32, 32]);
tf.conv2d(big, bigW, 1, 'same').dispose();
const before = threadCpuMs();
for (let i = 0; i < 12; i++) tf.conv2d(big, bigW, 1, 'same').dispose();
const after = threadCpuMs();
const perThread = [...after].map(([t, ms]) => ms - (before.get(t) ?? 0)).filter((ms) => ms > 0).sort((a, b) => b - a);

// (2) conv forward and gradients on fixed data (odd sizes, stride 1 and 2)
const x = tf.tensor4d(values(3 * 19 * 23 * 8, 3), [3, 19, 23, 8]);
const w = tf.tensor4d(values(9 * 8 * 16, 4), [3, 3, 8, 16]);
const numerics = {};
for (const stride of [1, 2]) {
  const f = (xx, ww) => tf.sum(tf.square(tf.conv2d(xx, ww, stride, 'same')));
  const [dx, dw] = tf.grads(f)([x, w]);
  numerics['s' + stride] = { y: Array.from(tf.conv2d(x, w, stride, 'same').dataSync()), dx: Array.from(dx.dataSync()), dw: Array.from(dw.dataSync()) };
}

// (3) two Adam steps of a small conv net
const w1 = tf.variable(tf.tensor4d(values(9 * 8 * 8, 5), [3, 3, 8, 8]).mul(0.2));
const w2 = tf.variable(tf.tensor4d(values(8 * 2, 6), [1, 1, 8, 2]).mul(0.2));
const opt = tf.train.adam(1e-3);
const losses = [];
for (let step = 0; step < 2; step++) {
  const loss = opt.minimize(() => tf.mean(tf.square(tf.conv2d(tf.relu(tf.conv2d(x, w1, 1, 'same')), w2, 1, 'same'))), true);
  losses.push(loss.dataSync()[0]);
  loss.dispose();
}
console.log(JSON.stringify({ threads, perThread, numerics, losses, scriptEndMs: performance.now() }));
`;

interface ChildReport {
  threads: number;
  perThread: number[];
  numerics: Record<string, { y: number[]; dx: number[]; dw: number[] }>;
  losses: number[];
  scriptEndMs: number;
}

const DEADLINE_MS = 90_000;
/** After the child's last statement, it must be gone within this. */
const EXIT_GRACE_MS = 5_000;

function runChild(buildDir: string, threads: number): Promise<{ code: number | null; timedOut: boolean; stdout: string; stderr: string; wallMs: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, join(buildDir, 'runtime/backends/wasm.js')], {
      cwd: ROOT,
      // XNNPACK's own threads are under test: keep the convolutions in wasm.
      env: { ...process.env, [THREADS_ENV]: String(threads), PUNET_NATIVE: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, DEADLINE_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

function maxRelDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return diff / scale;
}

describe('threaded wasm backend (child processes)', () => {
  const buildDir = join(ROOT, '.cache', 'wasm-threads-build', String(process.pid));
  transpileBackend(buildDir);
  afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

  // Both children run at once: they are independent, and this halves the test's wall time.
  const outcomes = Promise.all([runChild(buildDir, 2), runChild(buildDir, 1)]).then((all) =>
    all.map((out) => {
      if (out.timedOut) throw new Error(`child still running after ${DEADLINE_MS} ms; stderr: ${out.stderr}`);
      if (out.code !== 0) throw new Error(`child exited with ${out.code}: ${out.stderr}`);
      return { ...out, report: JSON.parse(out.stdout.trim().split('\n').pop()!) as ChildReport };
    }),
  );
  outcomes.catch(() => {}); // each test awaits it and reports the failure itself

  it('runs XNNPACK on 2 threads, and the second thread does a share of the conv work', async () => {
    const [multi, single] = await outcomes;
    expect(multi!.report.threads).toBe(2);
    expect(single!.report.threads).toBe(1);
    if (existsSync('/proc/self/task')) {
      const [first, second = 0] = multi!.report.perThread;
      // An even split would be 1:1; allow for scheduling on a loaded machine.
      expect(second).toBeGreaterThan(0.25 * first!);
      // With one thread, the busiest other thread is V8's background work (compilation, GC),
      // which can reach ~10% of the main thread: well below the pool thread's share above.
      const [, singleSecond = 0] = single!.report.perThread;
      expect(singleSecond).toBeLessThan(0.5 * second);
    }
  }, DEADLINE_MS + 30_000);

  it('gives the conv forward pass and its gradients of the single-threaded build', async () => {
    const [multi, single] = await outcomes;
    for (const key of ['s1', 's2']) {
      const a = multi!.report.numerics[key]!;
      const b = single!.report.numerics[key]!;
      expect(maxRelDiff(a.y, b.y), `${key} forward`).toBeLessThan(1e-5);
      expect(maxRelDiff(a.dx, b.dx), `${key} dx`).toBeLessThan(1e-5);
      expect(maxRelDiff(a.dw, b.dw), `${key} dw`).toBeLessThan(1e-5);
    }
    expect(maxRelDiff(multi!.report.losses, single!.report.losses)).toBeLessThan(1e-5);
  }, DEADLINE_MS + 30_000);

  it('ends by itself after training steps (idle threads do not keep it alive)', async () => {
    const [multi] = await outcomes;
    expect(multi!.report.losses).toHaveLength(2);
    // The child's clock starts at its launch; our wall time includes spawning, so this bounds how
    // long the process lived after its last statement.
    expect(multi!.wallMs - multi!.report.scriptEndMs).toBeLessThan(EXIT_GRACE_MS);
  }, DEADLINE_MS + 30_000);
});
