/**
 * Native kernels on the wasm backend (native/): Conv2D, FusedConv2D (bias + linear/relu/elu),
 * Conv2DBackpropInput and Conv2DBackpropFilter (punet's Winograd and 1x1 products, else oneDNN),
 * BatchMatMul and Sum (oneDNN), and in punet's own C++: SplitV and Concat (the skip concats and
 * their gradient; wasm copies them element by element), AvgPool and its gradient (TensorFlow's
 * windows: divided by their real pixels), ResizeBilinear and its gradient, large same-shape Add,
 * Sub and Multiply (single-threaded in wasm), and punet's own kernels (native-kernel-names.ts).
 * They read and write the wasm backend's own heap, so tensors stay where they are and every other
 * kernel keeps running in wasm. Each kernel hands the cases it does not cover (NCHW, other dtypes,
 * prelu, broadcasts it cannot express) to the kernel it replaced.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeAddon } from './native.js';
import {
  ADAM_UPDATE,
  RELU_CONV_BACKPROP_FILTER,
  RELU_CONV_BACKPROP_INPUT,
  TILED_BIAS_RELU,
  TILED_BIAS_RELU_GRAD,
} from './native-kernel-names.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Attrs = Record<string, unknown>;
type Conv2DInfo = tf.backend_util.Conv2DInfo;

export const NATIVE_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', 'Sum', 'AvgPool', 'AvgPoolGrad', 'SplitV', 'Concat', 'ResizeBilinear', 'ResizeBilinearGrad', 'Add', 'Sub', 'Multiply'] as const;

const MARK = Symbol.for('punet.nativeKernel');
type Marked = tf.KernelConfig & { [MARK]?: true };

// Must match ConvParam / MatMulParam in native/dnnl_kernels.cc.
const CONV_PARAMS = 25;
const MATMUL_PARAMS = 10;
const SUM_PARAMS = 5;
const POOL_PARAMS = 16;
const RESIZE_PARAMS = 10;
const BINARY_PARAMS = 5;
const TILED_PARAMS = 7;
const TILED_GRAD_PARAMS = 8;
const ADAM_VECTORS = 7;
const ADAM_PARAMS = 1 + ADAM_VECTORS + 8;
const enum ConvKind {
  Forward = 0,
  BackwardData = 1,
  BackwardWeights = 2,
}
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, elu: 2 };

/** The wasm heap as bytes; re-created when the memory has grown (its buffer is then a new one). */
function heapOf(backend: BackendWasm): Uint8Array {
  // The threaded build can grow the memory from a worker, leaving HEAPU8 stale: ask the memory.
  const module = backend.wasm as unknown as { wasmMemory?: { buffer: ArrayBufferLike }; HEAPU8: Uint8Array };
  const buffer = module.wasmMemory?.buffer ?? module.HEAPU8.buffer;
  if (heapView === undefined || heapView.buffer !== buffer) heapView = new Uint8Array(buffer);
  return heapView;
}
let heapView: Uint8Array | undefined;

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Byte offset of a float32 tensor on the heap, checked to lie inside it. */
function offsetOf(backend: BackendWasm, heap: Uint8Array, t: tf.TensorInfo): number {
  const offset = backend.getMemoryOffset(t.dataId);
  if (offset + 4 * size(t.shape) > heap.byteLength) throw new Error(`native kernel: tensor [${t.shape}] lies outside the wasm heap`);
  return offset;
}

function convParams(kind: ConvKind, info: Conv2DInfo, activation: number): Uint32Array {
  const p = new Uint32Array(CONV_PARAMS);
  p.set([
    kind, info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outChannels, info.filterHeight, info.filterWidth,
    info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.bottom, info.padInfo.left, info.padInfo.right, activation, NONE, NONE, NONE, NONE, NONE, NONE,
  ]);
  return p;
}
/** An absent operand (no bias). */
const NONE = 0xffffffff;
const A = 19;
const B = 20;
const BIAS = 21;
const OUT = 22;
const MASK = 23;
const BIAS_GRAD = 24;

function convInfo(xShape: number[], filterShape: number[], attrs: Attrs): Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    (attrs.dilations as [number, number] | number | undefined) ?? 1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as undefined,
    false,
    'channelsLast',
  );
}

function channelsLast(attrs: Attrs): boolean {
  return tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC') === 'channelsLast';
}

const allFloat = (...ts: Array<tf.TensorInfo | undefined>) => ts.every((t) => t === undefined || t.dtype === 'float32');

/** Runs `call`, which writes `out`; frees `out` if it throws. */
function filled(backend: BackendWasm, out: tf.TensorInfo, call: () => void): tf.TensorInfo {
  try {
    call();
  } catch (err) {
    backend.disposeData(out.dataId);
    throw err;
  }
  return out;
}

/**
 * One convolution through the addon: allocates the output on the heap and fills it. A backward
 * kind may take a mask (a ReLU's output: dy counts only where it is positive) and backward-weights
 * a bias-gradient output to fill as well (the masked dy summed over pixels).
 */
function runConv(
  addon: NativeAddon,
  backend: BackendWasm,
  kind: ConvKind,
  info: Conv2DInfo,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  outShape: number[],
  extra: { bias?: tf.TensorInfo; activation?: number; mask?: tf.TensorInfo; biasGrad?: tf.TensorInfo } = {},
): tf.TensorInfo {
  const out = backend.makeOutput(outShape, 'float32');
  if (size(outShape) === 0) return out;
  const heap = heapOf(backend);
  const p = convParams(kind, info, extra.activation ?? 0);
  p[A] = offsetOf(backend, heap, a);
  p[B] = offsetOf(backend, heap, b);
  if (extra.bias) p[BIAS] = offsetOf(backend, heap, extra.bias);
  p[OUT] = offsetOf(backend, heap, out);
  if (extra.mask) p[MASK] = offsetOf(backend, heap, extra.mask);
  if (extra.biasGrad) p[BIAS_GRAD] = offsetOf(backend, heap, extra.biasGrad);
  return filled(backend, out, () => addon.conv(heap, p));
}

function makeKernel(
  name: string,
  fallback: tf.KernelConfig,
  native: NativeKernel,
): Marked {
  const kernelFunc = (args: KernelArgs) => native(args, args.backend as BackendWasm) ?? fallback.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  return { ...fallback, kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc, [MARK]: true };
}

function conv2d(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    if (!channelsLast(attrs) || !allFloat(x, filter)) return null;
    const info = convInfo(x.shape, filter.shape, attrs);
    return runConv(addon, backend, ConvKind.Forward, info, x, filter, info.outShape);
  };
}

function fusedConv2d(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const attrs = (args.attrs ?? {}) as Attrs;
    const activation = ACTIVATIONS[(attrs.activation as string | undefined) ?? 'linear'];
    if (activation === undefined || preluActivationWeights !== undefined || !channelsLast(attrs) || !allFloat(x, filter, bias)) return null;
    const info = convInfo(x!.shape, filter!.shape, attrs);
    // A bias broadcast along anything but the channels is left to wasm.
    if (bias !== undefined && size(bias.shape) !== info.outChannels) return null;
    return runConv(addon, backend, ConvKind.Forward, info, x!, filter!, info.outShape, { bias, activation });
  };
}

function conv2dBackpropInput(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    if (!channelsLast(attrs) || !allFloat(dy, filter)) return null;
    const inputShape = attrs.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, { ...attrs, dilations: 1 });
    return runConv(addon, backend, ConvKind.BackwardData, info, dy, filter, [...inputShape]);
  };
}

function conv2dBackpropFilter(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    if (!channelsLast(attrs) || !allFloat(x, dy)) return null;
    const filterShape = attrs.filterShape as number[];
    const info = convInfo(x.shape, filterShape, { ...attrs, dilations: 1 });
    return runConv(addon, backend, ConvKind.BackwardWeights, info, x, dy, [...filterShape]);
  };
}

/** Throws, naming the kernel, unless the masked backward pass's tensors are float32 NHWC with y shaped as dy. */
function checkMasked(kernel: string, attrs: Attrs, dy: tf.TensorInfo, y: tf.TensorInfo, other: tf.TensorInfo): void {
  if (!channelsLast(attrs) || !allFloat(dy, y, other) || !tf.util.arraysEqual(dy.shape, y.shape)) {
    throw new Error(`${kernel}: dy and y must be float32 NHWC tensors of one shape, got [${dy.shape}] and [${y.shape}]`);
  }
}

/** RELU_CONV_BACKPROP_INPUT (native-kernel-names.ts): Conv2DBackpropInput of dy masked by y > 0. */
function reluConvBackpropInput(addon: NativeAddon) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as BackendWasm;
    const { dy, filter, y } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo; y: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    checkMasked(RELU_CONV_BACKPROP_INPUT, attrs, dy, y, filter);
    const inputShape = attrs.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, { ...attrs, dilations: 1 });
    return runConv(addon, backend, ConvKind.BackwardData, info, dy, filter, [...inputShape], { mask: y });
  };
}

/** RELU_CONV_BACKPROP_FILTER (native-kernel-names.ts): [dw, db] of dy masked by y > 0. */
function reluConvBackpropFilter(addon: NativeAddon) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const backend = args.backend as BackendWasm;
    const { x, dy, y } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo; y: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    checkMasked(RELU_CONV_BACKPROP_FILTER, attrs, dy, y, x);
    const filterShape = attrs.filterShape as number[];
    const info = convInfo(x.shape, filterShape, { ...attrs, dilations: 1 });
    const db = backend.makeOutput([filterShape[3]!], 'float32');
    try {
      const dw = runConv(addon, backend, ConvKind.BackwardWeights, info, x, dy, [...filterShape], { mask: y, biasGrad: db });
      return [dw, db];
    } catch (err) {
      backend.disposeData(db.dataId);
      throw err;
    }
  };
}

function batchMatMul(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    if (!allFloat(a, b) || a.shape.length < 2 || b.shape.length < 2) return null;
    const transA = attrs.transposeA === true;
    const transB = attrs.transposeB === true;
    const [ra, ca] = a.shape.slice(-2) as [number, number];
    const [rb, cb] = b.shape.slice(-2) as [number, number];
    const [m, k] = transA ? [ca, ra] : [ra, ca];
    const [kb, n] = transB ? [cb, rb] : [rb, cb];
    if (k !== kb) return null; // the stock kernel reports the mismatch
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
    const batch = size(outer);
    const batchA = size(outerA);
    const batchB = size(outerB);
    // oneDNN broadcasts a whole operand (batch 1); partial broadcasts go to wasm.
    if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
    if (k === 0 && batch * m * n > 0) return null; // a sum of nothing: the stock kernel's zeros
    const out = backend.makeOutput([...outer, m, n], 'float32');
    if (batch * m * n === 0) return out;
    const heap = heapOf(backend);
    const p = new Uint32Array(MATMUL_PARAMS);
    p.set([batchA, batchB, m, k, n, transA ? 1 : 0, transB ? 1 : 0, offsetOf(backend, heap, a), offsetOf(backend, heap, b), offsetOf(backend, heap, out)]);
    return filled(backend, out, () => addon.matmul(heap, p));
  };
}

function sum(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    if (x.dtype !== 'float32' || x.shape.length === 0 || size(x.shape) === 0) return null;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
    // Nothing to add up (no axes, or only axes of size 1) is a copy: wasm does it.
    if (axes.every((axis) => x.shape[axis] === 1)) return null;
    // Adjacent axes only: the tensor is then [outer, reduced, inner]. Others stay in wasm.
    if (axes[axes.length - 1]! - axes[0]! !== axes.length - 1) return null;
    const first = axes[0]!;
    const last = axes[axes.length - 1]!;
    const outShape = attrs.keepDims === true ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const out = backend.makeOutput(outShape, 'float32');
    const heap = heapOf(backend);
    const p = new Uint32Array(SUM_PARAMS);
    p.set([size(x.shape.slice(0, first)), size(x.shape.slice(first, last + 1)), size(x.shape.slice(last + 1)), offsetOf(backend, heap, x), offsetOf(backend, heap, out)]);
    return filled(backend, out, () => addon.sum(heap, p));
  };
}

/** PoolParam (native/dnnl_kernels.cc) for an average pool of `input` with the kernel's attrs, or null where it is not 2-D float32 NHWC. */
function poolParams(input: tf.TensorInfo, attrs: Attrs): { info: tf.backend_util.Conv2DInfo; params: Uint32Array } | null {
  if (input.dtype !== 'float32' || input.shape.length !== 4 || size(input.shape) === 0) return null;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as undefined,
  );
  const pad = info.padInfo;
  const params = new Uint32Array(POOL_PARAMS);
  params.set([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth, pad.top, pad.bottom, pad.left, pad.right,
  ]);
  return { info, params };
}

function avgPool(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const pool = poolParams(x, (args.attrs ?? {}) as Attrs);
    if (pool === null || pool.info.outHeight * pool.info.outWidth === 0) return null;
    const out = backend.makeOutput([pool.info.batchSize, pool.info.outHeight, pool.info.outWidth, pool.info.outChannels], 'float32');
    const heap = heapOf(backend);
    pool.params.set([offsetOf(backend, heap, out), offsetOf(backend, heap, x)], POOL_PARAMS - 2);
    return filled(backend, out, () => addon.avgPool(heap, pool.params));
  };
}

function avgPoolGrad(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const pool = poolParams(input, (args.attrs ?? {}) as Attrs);
    if (pool === null || dy.dtype !== 'float32') return null;
    const out = backend.makeOutput([...input.shape], 'float32');
    const heap = heapOf(backend);
    pool.params.set([offsetOf(backend, heap, dy), offsetOf(backend, heap, out)], POOL_PARAMS - 2);
    return filled(backend, out, () => addon.avgPoolGrad(heap, pool.params));
  };
}

function splitV(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo[] | null => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    if (x.dtype !== 'float32' || size(x.shape) === 0) return null;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number | number[], axis);
    const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === axis ? s : d)), 'float32'));
    const heap = heapOf(backend);
    const p = new Uint32Array(5 + 2 * sizes.length);
    p.set([size(x.shape.slice(0, axis)), size(x.shape.slice(axis + 1)), x.shape[axis]!, sizes.length, offsetOf(backend, heap, x)]);
    outs.forEach((out, k) => p.set([sizes[k]!, offsetOf(backend, heap, out)], 5 + 2 * k));
    try {
      addon.split(heap, p);
    } catch (err) {
      for (const out of outs) backend.disposeData(out.dataId);
      throw err;
    }
    return outs;
  };
}

function concat(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const all = Object.values(args.inputs) as tf.TensorInfo[];
    if (all.length === 0 || !allFloat(...all)) return null;
    const axis = tf.util.parseAxisParam((args.attrs as Attrs).axis as number, all[0]!.shape)[0]!;
    tf.backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
    // Empty parts add nothing; a single part is a copy (the wasm kernel's cases).
    const parts = all.filter((t) => size(t.shape) > 0);
    if (parts.length < 2) return null;
    const outShape = tf.backend_util.computeOutShape(parts.map((t) => t.shape), axis);
    const out = backend.makeOutput(outShape, 'float32');
    const heap = heapOf(backend);
    const p = new Uint32Array(5 + 2 * parts.length);
    p.set([size(outShape.slice(0, axis)), size(outShape.slice(axis + 1)), outShape[axis]!, parts.length, offsetOf(backend, heap, out)]);
    parts.forEach((t, k) => p.set([t.shape[axis]!, offsetOf(backend, heap, t)], 5 + 2 * k));
    return filled(backend, out, () => addon.concat(heap, p));
  };
}

/** ResizeParam (native/dnnl_kernels.cc) but the two tensors: source image shape, resized size, attrs. */
function resizeParams(source: readonly number[], resized: readonly number[], attrs: Attrs): Uint32Array {
  const [n, h, w, c] = source as [number, number, number, number];
  const p = new Uint32Array(RESIZE_PARAMS);
  p.set([n, h, w, c, resized[0]!, resized[1]!, attrs.alignCorners === true ? 1 : 0, attrs.halfPixelCenters === true ? 1 : 0]);
  return p;
}

function resizeBilinear(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { images } = args.inputs as { images: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    const [newHeight, newWidth] = attrs.size as [number, number];
    if (images.dtype !== 'float32' || images.shape.length !== 4 || size(images.shape) === 0 || newHeight * newWidth === 0) return null;
    const out = backend.makeOutput([images.shape[0]!, newHeight, newWidth, images.shape[3]!], 'float32');
    const heap = heapOf(backend);
    const p = resizeParams(images.shape, [newHeight, newWidth], attrs);
    p.set([offsetOf(backend, heap, images), offsetOf(backend, heap, out)], RESIZE_PARAMS - 2);
    return filled(backend, out, () => addon.resizeBilinear(heap, p));
  };
}

function resizeBilinearGrad(addon: NativeAddon) {
  return (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
    const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    // tfjs's own for half-pixel centres (its gradient ignores them) and anything not float NHWC.
    if (!allFloat(images, dy) || images.shape.length !== 4 || dy.shape.length !== 4 || attrs.halfPixelCenters === true) return null;
    if (size(images.shape) === 0 || size(dy.shape) === 0) return null;
    const out = backend.makeOutput([...images.shape], 'float32');
    const heap = heapOf(backend);
    const p = resizeParams(images.shape, dy.shape.slice(1, 3), attrs);
    p.set([offsetOf(backend, heap, out), offsetOf(backend, heap, dy)], RESIZE_PARAMS - 2);
    return filled(backend, out, () => addon.resizeBilinearGrad(heap, p));
  };
}

/** Below this many elements an element-wise op stays in wasm: the call would cost more than it saves. */
const MIN_NATIVE_ELEMENTWISE = 1 << 18;
const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2 } as const;

/** Add, Sub or Multiply of two large float32 tensors of one shape (no broadcast), on every thread. */
function binary(op: keyof typeof BINARY_OPS) {
  return (addon: NativeAddon) =>
    (args: KernelArgs, backend: BackendWasm): tf.TensorInfo | null => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      if (a.dtype !== 'float32' || b.dtype !== 'float32' || !tf.util.arraysEqual(a.shape, b.shape) || size(a.shape) < MIN_NATIVE_ELEMENTWISE) return null;
      const out = backend.makeOutput([...a.shape], 'float32');
      const heap = heapOf(backend);
      const p = new Uint32Array(BINARY_PARAMS);
      p.set([BINARY_OPS[op], size(a.shape), offsetOf(backend, heap, a), offsetOf(backend, heap, b), offsetOf(backend, heap, out)]);
      return filled(backend, out, () => addon.binary(heap, p));
    };
}

/** TILED_BIAS_RELU (native-kernel-names.ts): relu(x[b] + bias[b, n]) as [B, N, H, W, C]. */
function tiledBiasRelu(addon: NativeAddon) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as BackendWasm;
    const { x, bias } = args.inputs as { x: tf.TensorInfo; bias: tf.TensorInfo };
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const n = bias.shape[1] ?? 0;
    if (!allFloat(x, bias) || x.shape.length !== 4 || bias.shape.length !== 3 || bias.shape[0] !== b || bias.shape[2] !== c) {
      throw new Error(`${TILED_BIAS_RELU}: x must be float32 [B, H, W, C] and bias [B, N, C], got [${x.shape}] and [${bias.shape}]`);
    }
    const out = backend.makeOutput([b, n, h, w, c], 'float32');
    if (size(out.shape) === 0) return out;
    const heap = heapOf(backend);
    const p = new Uint32Array(TILED_PARAMS);
    p.set([b, n, h * w, c, offsetOf(backend, heap, x), offsetOf(backend, heap, bias), offsetOf(backend, heap, out)]);
    return filled(backend, out, () => addon.tiledBiasRelu(heap, p));
  };
}

/** TILED_BIAS_RELU_GRAD (native-kernel-names.ts): [dx, dbias] from dy and TILED_BIAS_RELU's output y. */
function tiledBiasReluGrad(addon: NativeAddon) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const backend = args.backend as BackendWasm;
    const { dy, y } = args.inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
    if (!allFloat(dy, y) || dy.shape.length !== 5 || !tf.util.arraysEqual(dy.shape, y.shape)) {
      throw new Error(`${TILED_BIAS_RELU_GRAD}: dy and y must be float32 [B, N, H, W, C] of one shape, got [${dy.shape}] and [${y.shape}]`);
    }
    const [b, n, h, w, c] = dy.shape as [number, number, number, number, number];
    const dx = backend.makeOutput([b, h, w, c], 'float32');
    const dbias = backend.makeOutput([b, n, c], 'float32');
    const heap = heapOf(backend);
    const p = new Uint32Array(TILED_GRAD_PARAMS);
    p.set([b, n, h * w, c, offsetOf(backend, heap, dy), offsetOf(backend, heap, y), offsetOf(backend, heap, dx), offsetOf(backend, heap, dbias)]);
    try {
      if (size(dy.shape) > 0) addon.tiledBiasReluGrad(heap, p);
      else for (const out of [dx, dbias]) new Float32Array(heap.buffer, offsetOf(backend, heap, out), size(out.shape)).fill(0);
    } catch (err) {
      backend.disposeData(dx.dataId);
      backend.disposeData(dbias.dataId);
      throw err;
    }
    return [dx, dbias];
  };
}

/** TILED_BIAS_RELU's gradient, by TILED_BIAS_RELU_GRAD (registered with it). */
function registerTiledBiasReluGradient(): void {
  if (tf.getGradient(TILED_BIAS_RELU)) return;
  tf.registerGradient({
    kernelName: TILED_BIAS_RELU,
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [dx, dbias] = tf.engine().runKernel(TILED_BIAS_RELU_GRAD, { dy: dy as tf.Tensor, y: saved[0]! }) as unknown as [tf.Tensor, tf.Tensor];
      return { x: () => dx, bias: () => dbias };
    },
  });
}

/** ADAM_UPDATE (native-kernel-names.ts): [m, v, value] after one Adam step. */
function adamUpdate(addon: NativeAddon) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const backend = args.backend as BackendWasm;
    const inputs = args.inputs as Partial<Record<string, tf.TensorInfo>>;
    const vectors = ['gradient', 'm', 'v', 'value'].map((k) => inputs[k]);
    const scalars = ['oneMinusAccBeta1', 'oneMinusAccBeta2'].map((k) => inputs[k]);
    const length = vectors[0] === undefined ? 0 : size(vectors[0].shape);
    const isVector = (t: tf.TensorInfo | undefined) => t?.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === length;
    const isScalar = (t: tf.TensorInfo | undefined) => t?.dtype === 'float32' && size(t.shape) === 1;
    if (!vectors.every(isVector) || !scalars.every(isScalar)) {
      throw new Error(`${ADAM_UPDATE}: gradient, m, v and value must be float32 vectors of one length and 1 - beta^t float32 scalars`);
    }
    const a = (args.attrs ?? {}) as { beta1: number; beta2: number; epsilon: number; learningRate: number };
    const outputs = [0, 1, 2].map(() => backend.makeOutput([length], 'float32'));
    const heap = heapOf(backend);
    const scalarValue = (t: tf.TensorInfo) => new Float32Array(heap.buffer, offsetOf(backend, heap, t), 1)[0]!;
    const p = new Uint32Array(ADAM_PARAMS);
    p.set([length, ...[...(vectors as tf.TensorInfo[]), ...outputs].map((t) => offsetOf(backend, heap, t))]);
    // AdamScalars (native/adam.h) in float32, as tfjs's scalar tensors would hold them.
    new Float32Array(p.buffer, (1 + ADAM_VECTORS) * 4).set([
      a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, scalarValue(scalars[0]!), scalarValue(scalars[1]!), a.epsilon, -a.learningRate,
    ]);
    try {
      if (length > 0) addon.adam(heap, p);
    } catch (err) {
      for (const out of outputs) backend.disposeData(out.dataId);
      throw err;
    }
    return outputs;
  };
}

type NativeKernel = (args: KernelArgs, backend: BackendWasm) => tf.TensorInfo | tf.TensorInfo[] | null;
const NATIVE_BUILDERS: Record<(typeof NATIVE_KERNELS)[number], (addon: NativeAddon) => NativeKernel> = {
  Conv2D: conv2d,
  FusedConv2D: fusedConv2d,
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter,
  BatchMatMul: batchMatMul,
  Sum: sum,
  AvgPool: avgPool,
  AvgPoolGrad: avgPoolGrad,
  SplitV: splitV,
  Concat: concat,
  ResizeBilinear: resizeBilinear,
  ResizeBilinearGrad: resizeBilinearGrad,
  Add: binary('Add'),
  Sub: binary('Sub'),
  Multiply: binary('Multiply'),
};

/**
 * Replaces the wasm kernels in NATIVE_KERNELS with native ones that fall back to the kernels they
 * replace. Idempotent; call after the wasm backend's own training kernels are registered.
 */
export function registerNativeKernels(addon: NativeAddon): void {
  for (const name of NATIVE_KERNELS) {
    const current = tf.getKernel(name, 'wasm') as Marked | undefined;
    if (current === undefined) throw new Error(`wasm kernel ${name} is not registered: load the wasm backend first`);
    if (current[MARK] === true) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(makeKernel(name, current, NATIVE_BUILDERS[name](addon)));
  }
  const own: [string, (addon: NativeAddon) => (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]][] = [
    [RELU_CONV_BACKPROP_INPUT, reluConvBackpropInput],
    [RELU_CONV_BACKPROP_FILTER, reluConvBackpropFilter],
    [ADAM_UPDATE, adamUpdate],
    [TILED_BIAS_RELU, tiledBiasRelu],
    [TILED_BIAS_RELU_GRAD, tiledBiasReluGrad],
  ];
  for (const [name, build] of own) {
    if (tf.getKernel(name, 'wasm') === undefined) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: build(addon) as unknown as tf.KernelFunc });
  }
  registerTiledBiasReluGradient();
}

