/**
 * Backend benchmark: forward and forward+backward+Adam step of a U-Net-shaped conv stack at
 * batch 8, 128x128, on every backend that loads here, with GFLOP/s. (PyTorch, side by side on
 * the full Prob. U-Net: bench/vs-pytorch.ts.)
 *
 * Network: a faithful stand-in for the LIDC Prob. U-Net's U-Net (widths 32, 64, 128, 192; 3 convs
 * 3x3 per level, ReLU, 2x2 average pooling, bilinear align-corners upsampling, concat skips) plus a
 * 1x1 conv to 2 class logits and a softmax cross-entropy loss. (The compiler's own LIDC network can
 * replace it once `compiler/` exports a compile function.)
 *
 * Build with `npm run build:bench`, run `node bench-dist/bench/backends.js [options]`:
 *   --backends wasm,cpu,tensorflow,webgpu  (default: all that load)
 *   --batch 8 --size 128 --steps 3          (timed steps after one warm-up step)
 *   --cpu-batch 1                           (cpu is far too slow: forward only, at this batch)
 *   --profile                               (per-kernel time table of one train step)
 */
import * as tf from '@tensorflow/tfjs';
import * as os from 'node:os';
import { selectBackend, type BackendName } from '../runtime/backends/select.js';

const WIDTHS = [32, 64, 128, 192];
const CONVS_PER_LEVEL = 3;
const IN_CHANNELS = 1;
const CLASSES = 2;

interface Conv {
  w: tf.Variable;
  b: tf.Variable;
}

interface Options {
  backends: BackendName[] | null;
  batch: number;
  size: number;
  steps: number;
  cpuBatch: number;
  profile: boolean;
}

function parseOptions(argv: string[]): Options {
  const opts: Options = { backends: null, batch: 8, size: 128, steps: 3, cpuBatch: 1, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--backends') opts.backends = next().split(',') as BackendName[];
    else if (arg === '--batch') opts.batch = Number(next());
    else if (arg === '--size') opts.size = Number(next());
    else if (arg === '--steps') opts.steps = Number(next());
    else if (arg === '--cpu-batch') opts.cpuBatch = Number(next());
    else if (arg === '--profile') opts.profile = true;
    else throw new Error(`unknown option ${arg}`);
  }
  return opts;
}

/** Deterministic He-normal-ish weights without touching tfjs's global RNG state. */
function makeConv(kh: number, ci: number, co: number, seed: number): Conv {
  const w = tf.tidy(() => tf.randomNormal([kh, kh, ci, co], 0, Math.sqrt(2 / (kh * kh * ci)), 'float32', seed));
  return { w: tf.variable(w), b: tf.variable(tf.zeros([co])) };
}

/** Layer list of the stand-in U-Net, with the spatial size each conv runs at (for FLOPs). */
interface Net {
  encoder: Conv[][];
  decoder: Conv[][]; // decoder[i] for level i (0..levels-2)
  head: Conv;
}

function buildNet(): Net {
  let seed = 1;
  const encoder = WIDTHS.map((c, level) =>
    Array.from({ length: CONVS_PER_LEVEL }, (_, k) => makeConv(3, k === 0 ? (level === 0 ? IN_CHANNELS : WIDTHS[level - 1]!) : c, c, seed++)),
  );
  const decoder = WIDTHS.slice(0, -1).map((c, level) =>
    Array.from({ length: CONVS_PER_LEVEL }, (_, k) => makeConv(3, k === 0 ? c + WIDTHS[level + 1]! : c, c, seed++)),
  );
  return { encoder, decoder, head: makeConv(1, WIDTHS[0]!, CLASSES, seed++) };
}

function convRelu(x: tf.Tensor4D, c: Conv): tf.Tensor4D {
  return tf.relu(tf.add(tf.conv2d(x, c.w as tf.Tensor4D, 1, 'same'), c.b)) as tf.Tensor4D;
}

function forward(net: Net, x: tf.Tensor4D): tf.Tensor4D {
  const skips: tf.Tensor4D[] = [];
  let h = x;
  net.encoder.forEach((level, i) => {
    if (i > 0) h = tf.avgPool(h, 2, 2, 'same');
    for (const c of level) h = convRelu(h, c);
    skips.push(h);
  });
  for (let i = WIDTHS.length - 2; i >= 0; i--) {
    const skip = skips[i]!;
    const up = tf.image.resizeBilinear(h, [skip.shape[1], skip.shape[2]], true);
    h = tf.concat([up, skip], 3);
    for (const c of net.decoder[i]!) h = convRelu(h, c);
  }
  return tf.add(tf.conv2d(h, net.head.w as tf.Tensor4D, 1, 'same'), net.head.b) as tf.Tensor4D;
}

function loss(net: Net, x: tf.Tensor4D, labels: tf.Tensor): tf.Scalar {
  const logits = forward(net, x);
  return tf.losses.softmaxCrossEntropy(tf.reshape(labels, [-1, CLASSES]), tf.reshape(logits, [-1, CLASSES]));
}

/** Analytic multiply-add FLOPs (2 per MAC) of all convs of one forward pass. */
function forwardFlops(batch: number, size: number): number {
  let macs = 0;
  let ci = IN_CHANNELS;
  WIDTHS.forEach((c, level) => {
    const px = (size >> level) ** 2;
    for (let k = 0; k < CONVS_PER_LEVEL; k++) {
      macs += px * 9 * (k === 0 ? ci : c) * c;
    }
    ci = c;
  });
  for (let level = WIDTHS.length - 2; level >= 0; level--) {
    const c = WIDTHS[level]!;
    const px = (size >> level) ** 2;
    macs += px * 9 * (c + WIDTHS[level + 1]!) * c + (CONVS_PER_LEVEL - 1) * px * 9 * c * c;
  }
  macs += size * size * WIDTHS[0]! * CLASSES;
  return 2 * macs * batch;
}

function disposeNet(net: Net): void {
  for (const c of [...net.encoder.flat(), ...net.decoder.flat(), net.head]) {
    c.w.dispose();
    c.b.dispose();
  }
}

function inputs(batch: number, size: number): { x: tf.Tensor4D; labels: tf.Tensor } {
  return tf.tidy(() => {
    const x = tf.randomUniform([batch, size, size, IN_CHANNELS], 0, 1, 'float32', 7) as tf.Tensor4D;
    const cls = tf.cast(tf.greater(x, 0.5), 'int32');
    return { x, labels: tf.oneHot(tf.reshape(cls, [batch, size, size]), CLASSES) };
  });
}

/** Seconds of CPU time (user + system) used by this process so far. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface Timing {
  first: number;
  mean: number;
  /** CPU seconds per timed step: on a shared machine, wall time includes waiting for a core. */
  cpu: number;
}

async function timeIt(steps: number, fn: () => Promise<void>): Promise<Timing> {
  const t0 = performance.now();
  await fn();
  const first = (performance.now() - t0) / 1000;
  const c0 = cpuSeconds();
  let total = 0;
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await fn();
    total += (performance.now() - t) / 1000;
  }
  const n = Math.max(1, steps);
  return { first, mean: steps > 0 ? total / n : first, cpu: (cpuSeconds() - c0) / n };
}

interface Row {
  backend: string;
  what: string;
  batch: number;
  first: number;
  mean: number;
  cpu: number;
  gflops: number;
  /** The same figure from CPU time: what the step costs on an otherwise idle machine. */
  gflopsCpu: number;
}

async function benchBackend(name: BackendName, opts: Options): Promise<Row[]> {
  const sel = await selectBackend(name).catch((err: Error) => err);
  if (sel instanceof Error) {
    console.log(`${name}: unavailable (${sel.message.split('\n')[0]})`);
    return [];
  }
  console.log(sel.report);
  const rows: Row[] = [];
  const trains = name !== 'cpu';
  const batch = trains ? opts.batch : opts.cpuBatch;
  const net = buildNet();
  const { x, labels } = inputs(batch, opts.size);
  const fwdFlops = forwardFlops(batch, opts.size);

  const fwd = await timeIt(opts.steps, async () => {
    const out = tf.tidy(() => forward(net, x));
    await out.data();
    out.dispose();
  });
  rows.push({
    backend: name, what: 'forward', batch, ...fwd, gflops: fwdFlops / fwd.mean / 1e9,
    gflopsCpu: fwdFlops / fwd.cpu / 1e9,
  });

  if (trains) {
    const adam = tf.train.adam(1e-4);
    const step = async () => {
      const cost = adam.minimize(() => loss(net, x, labels), true);
      await cost!.data();
      cost!.dispose();
    };
    const tr = await timeIt(opts.steps, step);
    // Adam creates its moment variables on the first step; after that the count must not grow.
    const afterWarm = tf.memory().numTensors;
    await step();
    if (tf.memory().numTensors !== afterWarm) console.log(`WARNING: ${tf.memory().numTensors - afterWarm} tensors leaked per step`);
    rows.push({
      backend: name, what: 'train step', batch, ...tr, gflops: (3 * fwdFlops) / tr.mean / 1e9,
      gflopsCpu: (3 * fwdFlops) / tr.cpu / 1e9,
    });
    if (opts.profile) await profileStep(() => adam.minimize(() => loss(net, x, labels), true)!);
    adam.dispose();
  }
  x.dispose();
  labels.dispose();
  disposeNet(net);
  return rows;
}

/** Per-kernel time of one train step, largest first. */
async function profileStep(step: () => tf.Tensor): Promise<void> {
  const info = await tf.profile(() => {
    step().dispose();
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = Number(await k.kernelTimeMs);
    total += ms;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const sorted = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15);
  console.log(`  kernel profile of one train step (total kernel time ${(total / 1000).toFixed(2)} s):`);
  for (const [name, e] of sorted) {
    console.log(`    ${name.padEnd(24)} ${(e.ms / 1000).toFixed(3).padStart(7)} s  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.calls} calls`);
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const order: BackendName[] = opts.backends ?? ['tensorflow', 'webgpu', 'wasm', 'cpu'];
  console.log(
    `U-Net stand-in (widths ${WIDTHS.join(',')}, ${CONVS_PER_LEVEL} convs/level), ${opts.size}x${opts.size}, ` +
      `forward ${(forwardFlops(1, opts.size) / 1e9).toFixed(2)} GFLOP per image (train step counted as 3x forward)`,
  );
  const rows: Row[] = [];
  for (const name of order) rows.push(...(await benchBackend(name, opts)));
  const load = os.loadavg()[0]!.toFixed(1);
  console.log(`\nload average ${load} on ${os.cpus().length} cores (wall times include waiting for a core when load > cores)`);
  console.log('backend     what         batch  first(s)  mean(s)  GFLOP/s |  cpu(s)  GFLOP/s (from CPU time)');
  for (const r of rows) {
    console.log(
      `${r.backend.padEnd(11)} ${r.what.padEnd(12)} ${String(r.batch).padStart(5)}  ${r.first.toFixed(2).padStart(8)}  ` +
        `${r.mean.toFixed(2).padStart(7)}  ${r.gflops.toFixed(1).padStart(7)} | ` +
        `${r.cpu.toFixed(2).padStart(7)}  ${r.gflopsCpu.toFixed(1).padStart(7)}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
