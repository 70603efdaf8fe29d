/**
 * The native (oneDNN) kernels on the wasm backend: each one against the cpu backend and against a
 * plain loop written here, on odd shapes (stride 1 and 2, same/valid padding, 1x1 and 3x3 filters,
 * batch 1 and 3, channels 1, 3, 7), and proof (the addon's call counter) that the native code ran.
 * Skipped, with the reason in the test name, where the addon is not built; PUNET_REQUIRE_NATIVE=1
 * (set by CI) turns that into a failure.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon, type NativeAddon } from '../../runtime/backends/native.js';
import {
  ADAM_UPDATE,
  RELU_CONV_BACKPROP_FILTER,
  RELU_CONV_BACKPROP_INPUT,
  TILED_BIAS_RELU,
  TILED_BIAS_RELU_GRAD,
} from '../../runtime/backends/native-kernel-names.js';
import { fusedConv } from '../../plugins/toolkit/nn.js';
import { installFrugalGradients, uninstallFrugalGradients } from '../../runtime/backends/frugal-gradients.js';
import { createFlatAdam } from '../../plugins/builtin/flat-adam.js';
import { onBackend, relErr, seededValues } from './helpers.js';
import { geometry, naiveFilterGrad, naiveForward, naiveInputGrad, type ConvGeometry } from './reference.js';

const load = loadNativeAddon();
const required = process.env.PUNET_REQUIRE_NATIVE === '1';

it.runIf(!load.ok)(`native kernels unavailable, tests skipped: ${load.ok ? '' : load.reason}`, () => {
  expect(required, 'PUNET_REQUIRE_NATIVE=1 but the native addon did not load').toBe(false);
});

type Pad = 'same' | 'valid';
interface Case {
  batch: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: Pad;
}

// Every listed variant appears at least once; sizes are odd so SAME padding is asymmetric.
const CASES: Case[] = [
  { batch: 1, h: 9, w: 7, cin: 1, cout: 3, k: 3, stride: 1, pad: 'same' },
  { batch: 3, h: 9, w: 7, cin: 3, cout: 7, k: 3, stride: 2, pad: 'same' },
  { batch: 3, h: 8, w: 5, cin: 7, cout: 1, k: 3, stride: 1, pad: 'valid' },
  { batch: 1, h: 9, w: 9, cin: 7, cout: 3, k: 3, stride: 2, pad: 'valid' },
  { batch: 3, h: 5, w: 7, cin: 3, cout: 7, k: 1, stride: 1, pad: 'same' },
  { batch: 1, h: 7, w: 6, cin: 7, cout: 7, k: 1, stride: 2, pad: 'valid' },
  // 1x1 stride 1 over 2624 pixels: a matrix product in chunks of 819 pixels (native/pointwise.cc).
  { batch: 2, h: 32, w: 41, cin: 32, cout: 48, k: 1, stride: 1, pad: 'same' },
  // 3x3 stride 1 from 32 channels: Winograd kernels (punet's, unless PUNET_WINOGRAD says otherwise).
  { batch: 2, h: 11, w: 9, cin: 32, cout: 48, k: 3, stride: 1, pad: 'same' },
  { batch: 1, h: 10, w: 7, cin: 48, cout: 32, k: 3, stride: 1, pad: 'valid' },
];
const winograd = (c: Case) => c.k === 3 && c.stride === 1 && Math.min(c.cin, c.cout) >= 32;
const pointwise = (c: Case) => c.k === 1 && c.stride === 1;

const name = (c: Case) => `${c.batch}x${c.h}x${c.w}x${c.cin} -> ${c.cout}, ${c.k}x${c.k}, stride ${c.stride}, ${c.pad}`;

function geometryOf(c: Case): ConvGeometry {
  return geometry([c.batch, c.h, c.w, c.cin], [c.k, c.k, c.cin, c.cout], c.stride, c.pad);
}

interface Data {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  bias: Float32Array;
}

/** The loops of reference.ts (written from the definitions), plus bias and ReLU for the fused op. */
function loops(c: Case, d: Data) {
  const g = geometryOf(c);
  const y = naiveForward(g, d.x, d.w);
  return {
    y,
    dx: naiveInputGrad(g, d.w, d.dy),
    dw: naiveFilterGrad(g, d.x, d.dy),
    fused: y.map((v, k) => Math.max(0, v + d.bias[k % c.cout]!)),
  };
}

function kernels(c: Case, d: Data) {
  const g = geometryOf(c);
  return tf.tidy(() => {
    const x = tf.tensor4d(d.x, [c.batch, c.h, c.w, c.cin]);
    const w = tf.tensor4d(d.w, [c.k, c.k, c.cin, c.cout]);
    const dy = tf.tensor4d(d.dy, [c.batch, g.ho, g.wo, c.cout]);
    const bias = tf.tensor1d(d.bias);
    return {
      y: tf.conv2d(x, w, c.stride, c.pad).dataSync() as Float32Array,
      dx: tf.conv2dTranspose(dy, w, [c.batch, c.h, c.w, c.cin], c.stride, c.pad).dataSync() as Float32Array,
      dw: (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: c.stride,
        pad: c.pad,
        dataFormat: 'NHWC',
        filterShape: [c.k, c.k, c.cin, c.cout],
      }) as tf.Tensor).dataSync() as Float32Array,
      fused: tf.fused.conv2d({ x, filter: w, strides: c.stride, pad: c.pad, bias, activation: 'relu' }).dataSync() as Float32Array,
    };
  });
}

/** Seeded operands of a case: x, w, dy and bias from seeds seed, seed + 1, seed + 2, seed + 3. */
function dataOf(c: Case, seed: number): Data {
  const g = geometryOf(c);
  return {
    x: seededValues(c.batch * c.h * c.w * c.cin, seed),
    w: seededValues(c.k * c.k * c.cin * c.cout, seed + 1),
    dy: seededValues(c.batch * g.ho * g.wo * c.cout, seed + 2),
    bias: seededValues(c.cout, seed + 3),
  };
}

function maxRelErr(actual: Float32Array, expected: Float32Array | Float64Array): number {
  expect(actual.length).toBe(expected.length);
  return relErr(actual, expected);
}

function nativeCalls(addon: NativeAddon): number {
  return addon.stats().calls;
}

/** Runs `fn` counting the calls of one of punet's own wasm kernels (wrapped in tfjs's registry for the while). */
async function callsOf<T>(kernelName: string, fn: () => Promise<T>): Promise<{ result: T; calls: number }> {
  await onBackend('wasm', () => undefined); // registers punet's kernels, when no test before did
  const original = tf.getKernel(kernelName, 'wasm')!;
  let calls = 0;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...original, kernelFunc: (args) => (calls++, original.kernelFunc(args)) });
  try {
    return { result: await fn(), calls };
  } finally {
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel(original);
  }
}

describe.runIf(load.ok)('native convolution kernels', () => {
  const addon = load.ok ? load.addon : (undefined as never);

  it.each(CASES)('%# $batch x $h x $w x $cin -> $cout, $k x $k, stride $stride, $pad: native = cpu = loops', async (c) => {
    const d = dataOf(c, 1);
    const before = nativeCalls(addon);
    const { winogradPrimitives, pointwiseCalls } = addon.stats();
    const native = await onBackend('wasm', () => kernels(c, d));
    // Four kernels, each natively (none handed to the wasm fallback).
    expect(nativeCalls(addon) - before, name(c)).toBe(4);
    // Winograd or matrix products for all four (forward, fused, backward data and filter) exactly where eligible.
    expect(addon.stats().winogradPrimitives - winogradPrimitives, name(c)).toBe(winograd(c) ? 4 : 0);
    expect(addon.stats().pointwiseCalls - pointwiseCalls, name(c)).toBe(pointwise(c) ? 4 : 0);
    const cpu = await onBackend('cpu', () => kernels(c, d));
    const loop = loops(c, d);
    for (const k of ['y', 'dx', 'dw', 'fused'] as const) {
      expect(maxRelErr(native[k], loop[k]), `${k} native vs loops, ${name(c)}`).toBeLessThan(1e-5);
      expect(maxRelErr(cpu[k], loop[k]), `${k} cpu vs loops, ${name(c)}`).toBeLessThan(1e-5);
    }
  });

  // punet's own kernels: its Winograd (native/winograd.cc), forced here whatever PUNET_WINOGRAD
  // says, on tiles cut by the image edge (sizes not multiples of 4, smaller than a tile), channels
  // not multiples of 8, asymmetric and no padding; and its 1x1 matrix products
  // (native/pointwise.cc) over several chunks of pixels. Some on two threads (blocks of tiles or
  // chunks split between them, partial filter gradients summed).
  const OWN_KERNELS: (Case & { threads: number })[] = [
    { batch: 2, h: 11, w: 9, cin: 32, cout: 48, k: 3, stride: 1, pad: 'same', threads: 1 },
    { batch: 1, h: 10, w: 7, cin: 48, cout: 32, k: 3, stride: 1, pad: 'valid', threads: 1 },
    { batch: 3, h: 3, w: 5, cin: 33, cout: 37, k: 3, stride: 1, pad: 'same', threads: 1 },
    { batch: 3, h: 13, w: 18, cin: 35, cout: 40, k: 3, stride: 1, pad: 'same', threads: 2 },
    { batch: 2, h: 6, w: 9, cin: 40, cout: 35, k: 3, stride: 1, pad: 'valid', threads: 2 },
    // 961 tiles: over the 8 MB of transformed tiles that backward-weights keeps whole, so it sums
    // blocks of tiles per thread instead (the cases above take the by-points path).
    { batch: 1, h: 124, w: 124, cin: 32, cout: 32, k: 3, stride: 1, pad: 'same', threads: 2 },
    { batch: 3, h: 29, w: 31, cin: 37, cout: 21, k: 1, stride: 1, pad: 'same', threads: 2 },
  ];
  // Both copies of the Winograd kernels: 8 channels a vector, and 16 where the CPU has AVX-512.
  const lanes = [8, 16] as const;
  // (The large case once: it is there for the other backward-weights path, not the lanes.)
  const ownCases = OWN_KERNELS.flatMap((c) => (pointwise(c) || c.h > 100 ? [{ ...c, lanes: 8 as const }] : lanes.map((l) => ({ ...c, lanes: l }))));
  it.for(ownCases)("%# punet's own kernels, $batch x $h x $w x $cin -> $cout, $k x $k, $pad, $threads thread(s), $lanes lanes: native = loops (ReLU and ELU fused)", async (c, ctx) => {
    const d = dataOf(c, 11);
    const { threads, winogradLanes } = addon.stats();
    try {
      addon.setWinogradLanes(c.lanes);
    } catch {
      return ctx.skip(`no AVX-512 on this CPU: the ${c.lanes}-lane kernels cannot run`);
    }
    addon.setWinograd('punet');
    addon.setThreads(c.threads);
    // The count of the kernels this case is for: Winograd primitives, or 1x1 calls.
    const ownCount = () => (pointwise(c) ? addon.stats().pointwiseCalls : addon.stats().punetWinogradPrimitives);
    try {
      const before = ownCount();
      const native = await onBackend('wasm', () => kernels(c, d));
      expect(ownCount() - before, name(c)).toBe(4);
      const loop = loops(c, d);
      for (const k of ['y', 'dx', 'dw', 'fused'] as const) {
        expect(maxRelErr(native[k], loop[k]), `${k} native vs loops, ${name(c)}`).toBeLessThan(1e-5);
      }
      // ELU is the other activation the output transform fuses.
      const elu = await onBackend('wasm', () =>
        tf.tidy(() => {
          const x = tf.tensor4d(d.x, [c.batch, c.h, c.w, c.cin]);
          const w = tf.tensor4d(d.w, [c.k, c.k, c.cin, c.cout]);
          return tf.fused.conv2d({ x, filter: w, strides: 1, pad: c.pad, bias: tf.tensor1d(d.bias), activation: 'elu' }).dataSync() as Float32Array;
        }),
      );
      const eluLoop = loop.y.map((v, k) => {
        const z = v + d.bias[k % c.cout]!;
        return z > 0 ? z : Math.expm1(z);
      });
      expect(maxRelErr(elu, eluLoop), `fused ELU native vs loops, ${name(c)}`).toBeLessThan(1e-5);
    } finally {
      addon.setWinograd('auto');
      addon.setThreads(threads);
      addon.setWinogradLanes(winogradLanes);
    }
  });

  // oneDNN's Winograd (PUNET_WINOGRAD=onednn) exists on AVX-512 CPUs only: checked where it does.
  it.for(CASES.filter(winograd))("%# oneDNN's Winograd where the CPU has it, $batch x $h x $w x $cin -> $cout, $pad: native = loops", async (c, ctx) => {
    addon.setWinograd('onednn');
    try {
      if (addon.stats().winograd !== 'onednn') return ctx.skip("oneDNN 2.6 has no Winograd kernels for this CPU (AVX-512 only)");
      const d = dataOf(c, 21);
      const before = addon.stats();
      const native = await onBackend('wasm', () => kernels(c, d));
      const after = addon.stats();
      expect(after.winogradPrimitives - before.winogradPrimitives, name(c)).toBe(4);
      expect(after.punetWinogradPrimitives - before.punetWinogradPrimitives, name(c)).toBe(0);
      const loop = loops(c, d);
      for (const k of ['y', 'dx', 'dw', 'fused'] as const) {
        expect(maxRelErr(native[k], loop[k]), `${k} native vs loops, ${name(c)}`).toBeLessThan(1e-5);
      }
    } finally {
      addon.setWinograd('auto');
    }
  });

  it('BatchMatMul: plain, transposed, and a broadcast batch, = cpu = loops', async () => {
    const cases = [
      { a: [3, 5, 7], b: [3, 7, 4], ta: false, tb: false },
      { a: [3, 7, 5], b: [3, 4, 7], ta: true, tb: true },
      { a: [1, 5, 7], b: [3, 4, 7], ta: false, tb: true },
      { a: [2, 7, 1], b: [1, 7, 3], ta: true, tb: false },
    ];
    for (const c of cases) {
      const av = seededValues(c.a.reduce((p, q) => p * q), 5);
      const bv = seededValues(c.b.reduce((p, q) => p * q), 6);
      const run = () => tf.tidy(() => tf.matMul(tf.tensor3d(av, c.a as never), tf.tensor3d(bv, c.b as never), c.ta, c.tb).dataSync() as Float32Array);
      const before = nativeCalls(addon);
      const native = await onBackend('wasm', run);
      expect(nativeCalls(addon) - before, JSON.stringify(c)).toBe(1);
      const cpu = await onBackend('cpu', run);
      // The loop: C[b, i, j] = sum_k op(A)[b, i, k] op(B)[b, k, j].
      const [ra, ca] = c.a.slice(1) as [number, number];
      const [rb, cb] = c.b.slice(1) as [number, number];
      const [m, kk] = c.ta ? [ca, ra] : [ra, ca];
      const n = c.tb ? rb : cb;
      const batch = Math.max(c.a[0]!, c.b[0]!);
      const loop = new Float32Array(batch * m * n);
      for (let bi = 0; bi < batch; bi++) {
        const aBase = (c.a[0] === 1 ? 0 : bi) * ra * ca;
        const bBase = (c.b[0] === 1 ? 0 : bi) * rb * cb;
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let k = 0; k < kk; k++) {
              const a = av[aBase + (c.ta ? k * ca + i : i * ca + k)]!;
              const b = bv[bBase + (c.tb ? j * cb + k : k * cb + j)]!;
              s += a * b;
            }
            loop[(bi * m + i) * n + j] = s;
          }
      }
      expect(maxRelErr(native, loop), JSON.stringify(c)).toBeLessThan(1e-5);
      expect(maxRelErr(cpu, loop), JSON.stringify(c)).toBeLessThan(1e-5);
    }
  });

  it('Sum over leading, middle, last and all axes, with and without keepDims, = cpu = loops', async () => {
    const shape = [3, 5, 7, 4];
    const values = seededValues(shape.reduce((a, b) => a * b), 10);
    const cases: Array<{ axes: number[]; keepDims: boolean }> = [
      { axes: [0, 1, 2], keepDims: false }, // a bias gradient
      { axes: [1], keepDims: true },
      { axes: [3], keepDims: false },
      { axes: [0, 1, 2, 3], keepDims: false },
    ];
    // Left to wasm, and still right: a 'sum' over axes of size 1 only (a copy), non-adjacent axes.
    const calls = nativeCalls(addon);
    const copy = () => tf.tidy(() => tf.sum(tf.ones([1, 3, 1, 2]), [0, 2]).dataSync() as Float32Array);
    expect(Array.from(await onBackend('wasm', copy))).toEqual([1, 1, 1, 1, 1, 1]);
    const apart = () => tf.tidy(() => tf.sum(tf.ones([2, 3, 4, 2]), [0, 2]).dataSync() as Float32Array);
    expect(Array.from(await onBackend('wasm', apart))).toEqual(new Array(6).fill(8));
    expect(nativeCalls(addon)).toBe(calls);
    for (const c of cases) {
      const run = () => tf.tidy(() => tf.sum(tf.tensor4d(values, shape as never), c.axes, c.keepDims).dataSync() as Float32Array);
      const before = nativeCalls(addon);
      const native = await onBackend('wasm', run);
      expect(nativeCalls(addon) - before, JSON.stringify(c)).toBe(1);
      const cpu = await onBackend('cpu', run);
      // The loop: every element added into the output cell its kept coordinates name.
      const outDims = shape.map((d, i) => (c.axes.includes(i) ? 1 : d));
      const loop = new Float32Array(outDims.reduce((a, b) => a * b));
      values.forEach((v, flat) => {
        let rest = flat;
        let cell = 0;
        let stride = 1;
        for (let i = shape.length - 1; i >= 0; i--) {
          const coord = rest % shape[i]!;
          rest = Math.floor(rest / shape[i]!);
          if (!c.axes.includes(i)) cell += coord * stride;
          stride *= outDims[i]!;
        }
        loop[cell] += v;
      });
      expect(maxRelErr(native, loop), JSON.stringify(c)).toBeLessThan(1e-5);
      expect(maxRelErr(cpu, loop), JSON.stringify(c)).toBeLessThan(1e-5);
    }
    // Contiguous rows (the L2 penalty's whole-weight sums, last-axis sums) longer than one of the
    // native row sum's 4096-float chunks and not a multiple of its 16 lanes, against double loops.
    for (const rowShape of [[300_007], [7, 9_001]]) {
      const [outer, reduced] = rowShape.length === 1 ? [1, rowShape[0]!] : [rowShape[0]!, rowShape[1]!];
      const data = seededValues(outer * reduced, 16).map((v) => v + 0.25); // a mean far from zero: errors would show
      const before = nativeCalls(addon);
      const native = await onBackend('wasm', () => tf.tidy(() => tf.sum(tf.tensor(data, rowShape), -1).dataSync() as Float32Array));
      expect(nativeCalls(addon) - before).toBe(1);
      const loop = Array.from({ length: outer }, (_, o) => data.subarray(o * reduced, (o + 1) * reduced).reduce((a, b) => a + b, 0));
      expect(maxRelErr(native, Float64Array.from(loop)), `rows ${rowShape}`).toBeLessThan(1e-6);
    }
  });

  it('AvgPool and AvgPoolGrad (odd and even sizes, same and valid) = cpu = loops', async () => {
    const cases = [
      { shape: [3, 9, 7, 5], k: 2, stride: 2, pad: 'same' as Pad },
      { shape: [1, 8, 6, 3], k: 2, stride: 2, pad: 'same' as Pad },
      { shape: [3, 9, 8, 1], k: 3, stride: 2, pad: 'valid' as Pad },
    ];
    for (const c of cases) {
      const [n, h, w, ch] = c.shape as [number, number, number, number];
      // Geometry as for a conv with ch -> ch channels (pooling windows are placed the same way).
      const g = geometry([n, h, w, ch], [c.k, c.k, ch, ch], c.stride, c.pad);
      const x = seededValues(n * h * w * ch, 12);
      const dy = seededValues(n * g.ho * g.wo * ch, 13);
      const run = () =>
        tf.tidy(() => {
          const pooled = tf.avgPool(tf.tensor4d(x, [n, h, w, ch]), c.k, c.stride, c.pad).dataSync() as Float32Array;
          const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(t as tf.Tensor4D, c.k, c.stride, c.pad), tf.tensor4d(dy, [n, g.ho, g.wo, ch]))));
          return [pooled, grad(tf.tensor4d(x, [n, h, w, ch])).dataSync() as Float32Array];
        });
      const before = nativeCalls(addon);
      const [nativePooled, native] = await onBackend('wasm', run);
      // The pool (alone and under the gradient), the loss's Sum and the AvgPoolGrad.
      expect(nativeCalls(addon) - before, JSON.stringify(c)).toBe(4);
      const [cpuPooled, cpu] = await onBackend('cpu', run);
      // The loops: each window's mean over its real (unpadded) pixels, and its gradient spread
      // evenly over them.
      const loopPooled = new Float32Array(n * g.ho * g.wo * ch);
      const loop = new Float32Array(x.length);
      for (let b = 0; b < n; b++)
        for (let oy = 0; oy < g.ho; oy++)
          for (let ox = 0; ox < g.wo; ox++) {
            const y0 = Math.max(0, oy * c.stride - g.top);
            const y1 = Math.min(h, oy * c.stride - g.top + c.k);
            const x0 = Math.max(0, ox * c.stride - g.left);
            const x1 = Math.min(w, ox * c.stride - g.left + c.k);
            const count = (y1 - y0) * (x1 - x0);
            for (let yy = y0; yy < y1; yy++)
              for (let xx = x0; xx < x1; xx++)
                for (let k = 0; k < ch; k++) {
                  const at = ((b * g.ho + oy) * g.wo + ox) * ch + k;
                  loop[((b * h + yy) * w + xx) * ch + k] += dy[at]! / count;
                  loopPooled[at] += x[((b * h + yy) * w + xx) * ch + k]! / count;
                }
          }
      expect(maxRelErr(nativePooled!, loopPooled), JSON.stringify(c)).toBeLessThan(1e-5);
      expect(maxRelErr(cpuPooled!, loopPooled), JSON.stringify(c)).toBeLessThan(1e-5);
      expect(maxRelErr(native!, loop), JSON.stringify(c)).toBeLessThan(1e-5);
      expect(maxRelErr(cpu!, loop), JSON.stringify(c)).toBeLessThan(1e-5);
    }
  });

  it('SplitV along the channels (a concat gradient) and a middle axis = cpu = loops', async () => {
    const shape = [3, 5, 7, 6];
    const values = seededValues(shape.reduce((a, b) => a * b), 11);
    for (const c of [{ sizes: [2, 4], axis: 3 }, { sizes: [1, 3, 1], axis: 1 }]) {
      const run = () => tf.tidy(() => tf.split(tf.tensor4d(values, shape as never), c.sizes, c.axis).map((t) => t.dataSync() as Float32Array));
      const before = nativeCalls(addon);
      const native = await onBackend('wasm', run);
      expect(nativeCalls(addon) - before, JSON.stringify(c)).toBe(1);
      const cpu = await onBackend('cpu', run);
      // The loop: element (.., i along the axis, ..) goes to the part holding i, at i - its start.
      const inner = shape.slice(c.axis + 1).reduce((a, b) => a * b, 1);
      const axis = shape[c.axis]!;
      const loop = c.sizes.map((s) => new Float32Array((values.length / axis) * s));
      values.forEach((v, flat) => {
        const outer = Math.floor(flat / (axis * inner));
        let i = Math.floor(flat / inner) % axis;
        let k = 0;
        while (i >= c.sizes[k]!) i -= c.sizes[k++]!;
        loop[k]![(outer * c.sizes[k]! + i) * inner + (flat % inner)] = v;
      });
      c.sizes.forEach((_, k) => {
        expect(Array.from(native[k]!), `part ${k} native, ${JSON.stringify(c)}`).toEqual(Array.from(loop[k]!));
        expect(Array.from(cpu[k]!), `part ${k} cpu, ${JSON.stringify(c)}`).toEqual(Array.from(loop[k]!));
      });
    }
  });

  it("SplitV and Concat of a flat vector into parts of over 64K floats (the optimizer's), on 2 threads, copy exactly", async () => {
    const sizes = [150_001, 7, 70_000];
    const values = seededValues(sizes.reduce((a, b) => a + b), 13);
    const threads = addon.stats().threads;
    addon.setThreads(2);
    try {
      const before = nativeCalls(addon);
      // Read inside tidy, returned outside it (tidy would walk a returned array element by element).
      let parts: Float32Array[] = [];
      let joined: Float32Array = new Float32Array(0);
      await onBackend('wasm', () =>
        tf.tidy(() => {
          const split = tf.split(tf.tensor1d(values), sizes);
          parts = split.map((t) => t.dataSync() as Float32Array);
          joined = tf.concat(split).dataSync() as Float32Array;
        }),
      );
      expect(nativeCalls(addon) - before).toBe(2);
      let offset = 0;
      sizes.forEach((n, k) => {
        expect(parts[k]!.findIndex((v, i) => v !== values[offset + i]), `part ${k}`).toBe(-1);
        offset += n;
      });
      expect(joined.findIndex((v, i) => v !== values[i]), 'joined').toBe(-1);
    } finally {
      addon.setThreads(threads);
    }
  });

  it('Concat along the channels (a skip connection), a middle axis, with an empty part = cpu = loops', async () => {
    const cases = [
      { shapes: [[3, 5, 7, 2], [3, 5, 7, 4]], axis: 3 },
      { shapes: [[2, 1, 3], [2, 3, 3], [2, 0, 3], [2, 2, 3]], axis: 1 },
    ];
    for (const c of cases) {
      const values = c.shapes.map((shape, k) => seededValues(shape.reduce((a, b) => a * b, 1), 20 + k));
      const run = () => tf.tidy(() => tf.concat(values.map((v, k) => tf.tensor(v, c.shapes[k]!)), c.axis).dataSync() as Float32Array);
      const before = nativeCalls(addon);
      const native = await onBackend('wasm', run);
      expect(nativeCalls(addon) - before, JSON.stringify(c)).toBe(1);
      const cpu = await onBackend('cpu', run);
      // The loop: for each outer index, each part's whole [size x inner] block in turn.
      const outer = c.shapes[0]!.slice(0, c.axis).reduce((a, b) => a * b, 1);
      const loop: number[] = [];
      for (let o = 0; o < outer; o++) {
        c.shapes.forEach((shape, k) => {
          const block = shape.slice(c.axis).reduce((a, b) => a * b, 1);
          loop.push(...values[k]!.subarray(o * block, (o + 1) * block));
        });
      }
      expect(Array.from(native), JSON.stringify(c)).toEqual(loop);
      expect(Array.from(cpu), JSON.stringify(c)).toEqual(loop);
    }
  });

  it('ResizeBilinearGrad (align corners, up and down, odd sizes) = cpu, and is the adjoint of the resize', async () => {
    const cases = [
      { shape: [3, 5, 7, 4], size: [10, 13] },
      { shape: [2, 9, 6, 3], size: [4, 11] },
    ];
    for (const c of cases) {
      const [n, h, w, ch] = c.shape as [number, number, number, number];
      const x = seededValues(n * h * w * ch, 16);
      const r = seededValues(n * c.size[0]! * c.size[1]! * ch, 17);
      const rT = () => tf.tensor4d(r, [n, c.size[0]!, c.size[1]!, ch]);
      const run = () =>
        tf.tidy(() => {
          const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeBilinear(t as tf.Tensor4D, c.size as [number, number], true), rT())));
          return grad(tf.tensor4d(x, c.shape as never)).dataSync() as Float32Array;
        });
      const before = nativeCalls(addon);
      const native = await onBackend('wasm', run);
      // The resize, the loss's Sum and the gradient.
      expect(nativeCalls(addon) - before, JSON.stringify(c)).toBe(3);
      const cpu = await onBackend('cpu', run);
      expect(maxRelErr(native, cpu), JSON.stringify(c)).toBeLessThan(1e-5);
      // The gradient of a linear map is its adjoint: <resize(x), r> = <x, grad>.
      const forward = await onBackend('cpu', () => tf.tidy(() => tf.sum(tf.mul(tf.image.resizeBilinear(tf.tensor4d(x, c.shape as never), c.size as [number, number], true), rT())).dataSync()[0]!));
      const adjoint = native.reduce((acc, g, i) => acc + g * x[i]!, 0);
      expect(Math.abs(adjoint - forward) / Math.abs(forward), JSON.stringify(c)).toBeLessThan(1e-5);
    }
  });

  it('ResizeBilinear (align corners or not, half-pixel centres, up and down, odd sizes) = cpu', async () => {
    const cases = [
      { shape: [3, 5, 7, 4], size: [10, 13], alignCorners: true, halfPixelCenters: false },
      { shape: [2, 9, 6, 3], size: [4, 11], alignCorners: false, halfPixelCenters: false },
      { shape: [2, 6, 5, 9], size: [12, 3], alignCorners: false, halfPixelCenters: true },
      { shape: [1, 1, 4, 2], size: [3, 1], alignCorners: true, halfPixelCenters: false },
    ];
    for (const c of cases) {
      const x = seededValues(c.shape.reduce((a, b) => a * b, 1), 18);
      const run = () =>
        tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(x, c.shape as never), c.size as [number, number], c.alignCorners, c.halfPixelCenters).dataSync() as Float32Array);
      const before = nativeCalls(addon);
      const native = await onBackend('wasm', run);
      expect(nativeCalls(addon) - before, JSON.stringify(c)).toBe(1);
      const cpu = await onBackend('cpu', run);
      expect(native.length).toBe(c.shape[0]! * c.size[0]! * c.size[1]! * c.shape[3]!);
      expect(maxRelErr(native, cpu), JSON.stringify(c)).toBeLessThan(1e-6);
    }
  });

  // conv + bias + ReLU's backward pass with dy masked inside the convolutions (Winograd, 1x1
  // products, and oneDNN's direct kernel, which gets the masked dy written out first), on 1 and 2
  // threads, against the same layer's gradients on the cpu backend.
  const RELU_BACKWARD: (Case & { threads: number })[] = [
    { batch: 2, h: 11, w: 9, cin: 32, cout: 48, k: 3, stride: 1, pad: 'same', threads: 1 },
    { batch: 3, h: 13, w: 18, cin: 35, cout: 40, k: 3, stride: 1, pad: 'same', threads: 2 },
    { batch: 2, h: 32, w: 41, cin: 32, cout: 48, k: 1, stride: 1, pad: 'same', threads: 2 },
    { batch: 3, h: 9, w: 7, cin: 3, cout: 7, k: 3, stride: 1, pad: 'same', threads: 2 },
  ];
  it.each(RELU_BACKWARD)('%# conv + bias + ReLU backward, dy masked in the kernels, $batch x $h x $w x $cin -> $cout, $k x $k, $threads thread(s) = cpu', async (c) => {
    const d = dataOf(c, 41);
    const run = () => {
      let out: Float32Array[] = [];
      tf.tidy(() => {
        const x = tf.tensor4d(d.x, [c.batch, c.h, c.w, c.cin]);
        const w = tf.tensor4d(d.w, [c.k, c.k, c.cin, c.cout]);
        const b = tf.tensor1d(d.bias.map((v) => 0.3 * v));
        const r = tf.tensor4d(d.dy, [c.batch, c.h, c.w, c.cout]);
        const loss = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(fusedConv(tf, xi, wi, bi, 'relu'), r));
        const y = fusedConv(tf, x, w, b, 'relu').dataSync() as Float32Array;
        out = [...tf.grads(loss)([x, w, b]).map((g) => g.dataSync() as Float32Array), y];
      });
      return out;
    };
    const { threads, winogradLanes } = addon.stats();
    addon.setThreads(c.threads);
    try {
      // The portable copy of the Winograd kernels here, the default (AVX-512 where present) below.
      addon.setWinogradLanes(8);
      const portable = await onBackend('wasm', run);
      addon.setWinogradLanes(winogradLanes);
      let filterCalls = 0;
      const { result: native, calls: inputCalls } = await callsOf(RELU_CONV_BACKPROP_INPUT, async () => {
        const counted = await callsOf(RELU_CONV_BACKPROP_FILTER, () => onBackend('wasm', run));
        filterCalls = counted.calls;
        return counted.result;
      });
      expect([inputCalls, filterCalls], name(c)).toEqual([1, 1]);
      const cpu = await onBackend('cpu', run);
      const [dx, dw, db, y] = native;
      expect(maxRelErr(dx!, cpu[0]!), `dx, ${name(c)}`).toBeLessThan(1e-5);
      expect(maxRelErr(dw!, cpu[1]!), `dw, ${name(c)}`).toBeLessThan(1e-5);
      expect(maxRelErr(db!, cpu[2]!), `db, ${name(c)}`).toBeLessThan(1e-5);
      for (const k of [0, 1, 2]) expect(maxRelErr(portable[k]!, cpu[k]!), `8 lanes, output ${k}, ${name(c)}`).toBeLessThan(1e-5);
      // Under tfjs's own backward pass (each input's gradient in its own scope) the same numbers.
      uninstallFrugalGradients();
      try {
        const tfjsOwn = await onBackend('wasm', run);
        for (const k of [0, 1, 2]) expect(maxRelErr(tfjsOwn[k]!, cpu[k]!), `tfjs's gradients, output ${k}, ${name(c)}`).toBeLessThan(1e-5);
      } finally {
        installFrugalGradients();
      }
      // The ReLU cut part of dy, and not all of it.
      const cut = y!.filter((v) => v === 0).length;
      expect(cut, name(c)).toBeGreaterThan(y!.length / 10);
      expect(cut, name(c)).toBeLessThan((y!.length * 9) / 10);
    } finally {
      addon.setThreads(threads);
      addon.setWinogradLanes(winogradLanes);
    }
  });

  it('Add, Sub and Multiply of large same-shape tensors = cpu, bit for bit; small or broadcast ones stay in wasm', async () => {
    const shape = [3, 97, 101, 11]; // 323,301 elements: above the native threshold, not a round number
    const a = seededValues(shape.reduce((x, y) => x * y), 17);
    const b = seededValues(a.length, 18);
    const ops = { add: tf.add, sub: tf.sub, mul: tf.mul } as const;
    for (const [name, op] of Object.entries(ops)) {
      const run = () => tf.tidy(() => op(tf.tensor(a, shape), tf.tensor(b, shape)).dataSync() as Float32Array);
      const before = nativeCalls(addon);
      const native = await onBackend('wasm', run);
      expect(nativeCalls(addon) - before, name).toBe(1);
      const cpu = await onBackend('cpu', run);
      expect(native.findIndex((x, i) => x !== cpu[i]), name).toBe(-1);
      expect(native.findIndex((x, i) => x !== Math.fround(name === 'add' ? a[i]! + b[i]! : name === 'sub' ? a[i]! - b[i]! : a[i]! * b[i]!)), `${name} vs loop`).toBe(-1);
    }
    const calls = nativeCalls(addon);
    const small = await onBackend('wasm', () => tf.tidy(() => tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync() as Float32Array));
    const broadcast = await onBackend('wasm', () => tf.tidy(() => tf.mul(tf.tensor(a, shape), tf.scalar(2)).dataSync() as Float32Array));
    expect(nativeCalls(addon)).toBe(calls);
    expect(Array.from(small)).toEqual([4, 6]);
    expect(broadcast.findIndex((x, i) => x !== Math.fround(2 * a[i]!))).toBe(-1);
  });

  it('tiled bias + ReLU (fcomb over n samples) = broadcast add then relu, values and gradients', async () => {
    const [b, h, w, c, n] = [3, 5, 7, 6, 4];
    const x = seededValues(b * h * w * c, 51);
    const bias = seededValues(b * n * c, 52);
    const dy = seededValues(b * n * h * w * c, 53);
    // The loss <f(x, bias), dy>: its value and both gradients, from the kernel or from the composed ops.
    const run = (fused: boolean) => {
      let out: Float32Array[] = [];
      tf.tidy(() => {
        const f = (xt: tf.Tensor, bt: tf.Tensor) =>
          fused
            ? (tf.engine().runKernel(TILED_BIAS_RELU, { x: xt, bias: bt }) as tf.Tensor)
            : tf.relu(tf.add(tf.expandDims(xt, 1), tf.reshape(bt, [b, n, 1, 1, c])));
        const xt = tf.tensor4d(x, [b, h, w, c]);
        const bt = tf.tensor3d(bias, [b, n, c]);
        const [gx, gb] = tf.grads((xi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(f(xi, bi), tf.tensor(dy, [b, n, h, w, c]))))([xt, bt]);
        out = [f(xt, bt).dataSync() as Float32Array, gx!.dataSync() as Float32Array, gb!.dataSync() as Float32Array];
      });
      return out;
    };
    let gradCalls = 0;
    const { result, calls } = await callsOf(TILED_BIAS_RELU, async () => {
      const counted = await callsOf(TILED_BIAS_RELU_GRAD, () => onBackend('wasm', () => run(true)));
      gradCalls = counted.calls;
      return counted.result;
    });
    expect(calls).toBe(2); // the kernel, taped and plain
    expect(gradCalls).toBe(1); // its gradient, in one kernel
    const [y, gx, gb] = result;
    const [yRef, gxRef, gbRef] = await onBackend('cpu', () => run(false));
    expect(y!.length).toBe(b * n * h * w * c);
    expect(y!.findIndex((v, i) => v !== yRef![i]), 'values').toBe(-1);
    expect(y!.filter((v) => v === 0).length, 'the ReLU cut some').toBeGreaterThan(0);
    expect(maxRelErr(gx!, gxRef!), 'dx').toBeLessThan(1e-6);
    expect(maxRelErr(gb!, gbRef!), 'dbias').toBeLessThan(1e-6);
  });

  it("Adam's update in one kernel = the composed wasm ops and the cpu backend's, bit for bit, on 1 and 2 threads", async () => {
    // 2.5M elements: enough for the kernel to use a second thread.
    const n = 2_500_000;
    const g = seededValues(n, 31);
    const m = seededValues(n, 32).map((x) => 0.1 * x);
    const v = seededValues(n, 33).map((x) => 0.01 * x * x);
    const value = seededValues(n, 34);
    const attrs = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, learningRate: 3e-4 };
    const accBeta = [0.9 ** 3, 0.999 ** 3];
    // Read inside tidy, returned outside it (tidy would walk a returned array element by element).
    const valuesOf = (fn: () => tf.Tensor[]) => {
      let out: Float32Array[] = [];
      tf.tidy(() => {
        out = fn().map((t) => t.dataSync() as Float32Array);
      });
      return out;
    };
    const composed = () =>
      valuesOf(() => {
        const [gt, mt, vt, wt] = [g, m, v, value].map((a) => tf.tensor1d(a));
        const [b1, b2] = accBeta.map((b) => tf.sub(1, tf.scalar(b)));
        const m1 = tf.add(tf.mul(mt!, attrs.beta1), tf.mul(gt!, 1 - attrs.beta1));
        const v1 = tf.add(tf.mul(vt!, attrs.beta2), tf.mul(tf.square(gt!), 1 - attrs.beta2));
        const next = tf.add(tf.mul(tf.div(tf.div(m1, b1!), tf.add(tf.sqrt(tf.div(v1, b2!)), attrs.epsilon)), -attrs.learningRate), wt!);
        return [m1, v1, next];
      });
    const wasm = await onBackend('wasm', composed);
    const cpu = await onBackend('cpu', composed);
    const threads = addon.stats().threads;
    try {
      for (const t of [1, 2]) {
        addon.setThreads(t);
        const before = nativeCalls(addon);
        const native = await onBackend('wasm', () =>
          valuesOf(() => {
            const [gradient, mt, vt, wt] = [g, m, v, value].map((a) => tf.tensor1d(a));
            const [oneMinusAccBeta1, oneMinusAccBeta2] = accBeta.map((b) => tf.sub(1, tf.scalar(b)));
            const inputs = { gradient: gradient!, m: mt!, v: vt!, value: wt!, oneMinusAccBeta1: oneMinusAccBeta1!, oneMinusAccBeta2: oneMinusAccBeta2! };
            return tf.engine().runKernel(ADAM_UPDATE, inputs, attrs) as unknown as tf.Tensor[];
          }),
        );
        expect(nativeCalls(addon) - before).toBe(1);
        for (let k = 0; k < 3; k++) {
          expect(native[k]!.length).toBe(n);
          // toEqual on 2.5M numbers is slow: the first difference instead.
          expect(native[k]!.findIndex((x, i) => x !== wasm[k]![i]), `output ${k}, ${t} thread(s), vs wasm ops`).toBe(-1);
          expect(native[k]!.findIndex((x, i) => x !== cpu[k]![i]), `output ${k}, ${t} thread(s), vs cpu ops`).toBe(-1);
        }
        // The parameters moved (the check above could not pass on an update that did nothing).
        expect(native[2]!.filter((x, i) => x !== value[i]).length).toBeGreaterThan(n / 2);
      }
    } finally {
      addon.setThreads(threads);
    }
  });

  it("flat Adam on the native path takes the steps of tfjs's AdamOptimizer, bit for bit", async () => {
    const { calls } = await callsOf(ADAM_UPDATE, () => onBackend('wasm', async () => {
      const shapes = [[3, 3, 4, 8], [8], [1, 1, 8, 2], [2]];
      const make = (prefix: string) => shapes.map((shape, i) => tf.variable(tf.tensor(seededValues(shape.reduce((a, b) => a * b, 1), 40 + i), shape), true, `${prefix}/w${i}`));
      const [a, b] = [make('adam-ref'), make('adam-flat')];
      const reference = tf.train.adam(0.01, 0.9, 0.999, 1e-8);
      const flat = createFlatAdam(tf, { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
      for (let step = 0; step < 4; step++) {
        for (const [optimizer, vars] of [[reference, a], [flat, b]] as const) {
          const grads = vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(seededValues(v.size, 100 * step + i), v.shape) }));
          optimizer.applyGradients(grads);
          tf.dispose(grads.map((x) => x.tensor));
        }
      }
      for (let i = 0; i < shapes.length; i++) expect(Array.from(b[i]!.dataSync()), `variable ${i}`).toEqual(Array.from(a[i]!.dataSync()));
      reference.dispose();
      flat.dispose();
      tf.dispose([...a, ...b]);
    }));
    expect(calls).toBe(4); // one Adam kernel per step
  });

  it('refuses params of the wrong length or pointing outside the heap, naming the kernel', () => {
    const heap = new Uint8Array(256);
    // Params lengths, as ConvParam ... TiledGradParam in native/dnnl_kernels.cc.
    const kernels: Array<[string, number, RegExp]> = [
      ['conv', 25, /tensor offset outside the heap/],
      ['matmul', 10, /tensor offset outside the heap/],
      ['sum', 5, /^sum: tensor outside the heap/],
      ['avgPool', 16, /^avgPool: tensor outside the heap/],
      ['avgPoolGrad', 16, /^avgPoolGrad: tensor outside the heap/],
      ['resizeBilinear', 10, /^resizeBilinear: tensor outside the heap/],
      ['resizeBilinearGrad', 10, /^resizeBilinearGrad: tensor outside the heap/],
      ['adam', 16, /^adam: vector outside the heap/],
      ['binary', 5, /^binary: unknown operation/],
      ['tiledBiasRelu', 7, /^tiledBiasRelu: tensor outside the heap/],
      ['tiledBiasReluGrad', 8, /^tiledBiasReluGrad: tensor outside the heap/],
    ];
    const call = (name: string, p: Uint32Array) => (addon as unknown as Record<string, (h: Uint8Array, p: Uint32Array) => void>)[name]!(heap, p);
    for (const [name, length, problem] of kernels) {
      expect(() => call(name, new Uint32Array(length + 1)), name).toThrow(/documented length/);
      expect(() => call(name, new Uint32Array(length).fill(1 << 20)), name).toThrow(problem);
    }
  });

  it('hands what it does not cover to the wasm kernel (prelu activation) and still computes it right', async () => {
    const c = CASES[1]!;
    const x = seededValues(c.batch * c.h * c.w * c.cin, 7);
    const w = seededValues(c.k * c.k * c.cin * c.cout, 8);
    const alpha = seededValues(c.cout, 9);
    const run = () =>
      tf.tidy(() =>
        tf.fused
          .conv2d({
            x: tf.tensor4d(x, [c.batch, c.h, c.w, c.cin]),
            filter: tf.tensor4d(w, [c.k, c.k, c.cin, c.cout]),
            strides: c.stride,
            pad: c.pad,
            activation: 'prelu',
            preluActivationWeights: tf.tensor1d(alpha),
          })
          .dataSync() as Float32Array,
      );
    const before = nativeCalls(addon);
    const wasm = await onBackend('wasm', run);
    expect(nativeCalls(addon)).toBe(before);
    const cpu = await onBackend('cpu', run);
    expect(maxRelErr(wasm, cpu)).toBeLessThan(1e-5);
  });
});
