/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none).
 *
 *   dW[i, j, c, o] = sum over positions p = (n, y, x) of patch_p[i, j, c] * dy[p, o]
 *
 * i.e. ONE matrix product with the N*Ho*Wo positions as the reduction axis. wasm BatchMatMul is
 * only fast (XNNPACK fully-connected) with batch 1 and no transpose flags, and XNNPACK re-packs
 * its second operand ("weights") on every new tensor, so the layout is chosen to make that
 * operand the small one: A = patches^T [kh*kw*Ci, P], B = dy [P, Co] (dy as it comes, no copy),
 * and the product [kh*kw*Ci, Co] already is the filter layout [kh, kw, Ci, Co].
 *
 * Stride 1 (every conv in these networks) needs no patch matrix at all: see `stride1FilterGrad`.
 * Other strides: patches come from a depthwise convolution with a one-hot filter (output channel
 * c*K + tap copies input channel c at that tap), which applies the forward conv's own strides and
 * padding, then are transposed. (Going through Conv3DBackpropFilterV2 with depth 1 is WRONG at
 * stride 2 with SAME padding.)
 */
import * as tf from '@tensorflow/tfjs';
import { runWasmKernel, withScratch, type Scratch, type WasmBackend } from './backend-ops.js';

interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** One-hot depthwise filter [kh, kw, C, kh*kw] that copies each tap of each channel to its own output channel. */
export function patchExtractionFilter(kh: number, kw: number, channels: number): Float32Array {
  const taps = kh * kw;
  const values = new Float32Array(taps * channels * taps);
  for (let tap = 0; tap < taps; tap++) {
    for (let c = 0; c < channels; c++) values[(tap * channels + c) * taps + tap] = 1;
  }
  return values;
}

/**
 * Stride 1 without any patch matrix. Put x (planar, channel-major) and dy on one padded grid of
 * Hp x Wp = (Ho + kh - 1) x (Wo + kw - 1) per image, flattened to Q = N * Hp * Wp positions:
 *   xpad[c, q]  = x at grid position q shifted by the forward padding (zeros outside the image),
 *   dypad[q, o] = dy at the top-left Ho x Wo of each grid, zeros elsewhere.
 * Then dW[i, j] = xpad[:, q + i*Wp + j] . dypad[q, :] summed over q: the tap's operand is the SAME
 * buffer read from offset i*Wp + j (a zero-copy alias), and positions where the shift wraps into
 * the next row or image meet zeros of dypad. dypad is the packed operand of every tap's matmul,
 * so XNNPACK packs it once (its operator cache is keyed by that tensor).
 */
function stride1FilterGrad(
  scratch: Scratch,
  backend: WasmBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: ho, outWidth: wo } = info;
  const { top, left } = info.padInfo;
  const hp = ho + kh - 1;
  const wp = wo + kw - 1;
  const q = n * hp * wp;
  const margin = (kh - 1) * wp + (kw - 1); // the last tap reads this far past the last channel

  const planar = scratch.transpose(scratch.reshape(x, [n * h * w, ci]), [1, 0]); // [Ci, N*H*W]
  const xpad = scratch.allocate([ci * q + margin]);
  const dypad = kh === 1 && kw === 1 ? dy : scratch.allocate([q, co]);
  // Heap views are taken after every allocation: growing the heap detaches older views.
  const src = backend.typedArrayFromHeap(planar) as Float32Array;
  const dst = backend.typedArrayFromHeap(xpad) as Float32Array;
  dst.fill(0);
  const rows = Math.min(h, hp - top);
  const cols = Math.min(w, wp - left);
  for (let c = 0; c < ci; c++) {
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < rows; y++) {
        const from = ((c * n + b) * h + y) * w;
        dst.set(src.subarray(from, from + cols), c * q + (b * hp + y + top) * wp + left);
      }
    }
  }
  if (dypad !== dy) {
    const dySrc = backend.typedArrayFromHeap(dy) as Float32Array;
    const dyDst = backend.typedArrayFromHeap(dypad) as Float32Array;
    dyDst.fill(0);
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < ho; y++) {
        const from = (b * ho + y) * wo * co;
        dyDst.set(dySrc.subarray(from, from + wo * co), (b * hp + y) * wp * co);
      }
    }
  }

  const b3 = scratch.reshape(dypad, [1, q, co]);
  const perTap: tf.TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const a = scratch.alias(xpad, i * wp + j, [1, ci, q]);
      perTap.push(scratch.keep(runWasmKernel(backend, 'BatchMatMul', { a, b: b3 }, { transposeA: false, transposeB: false })));
    }
  }
  const out = backend.makeOutput([kh, kw, ci, co], 'float32');
  const outView = backend.typedArrayFromHeap(out) as Float32Array;
  perTap.forEach((t, tap) => outView.set(backend.typedArrayFromHeap(t) as Float32Array, tap * ci * co));
  return out;
}

/** patches^T [kh*kw*Ci, P] for any stride, through a one-hot depthwise convolution. */
function depthwisePatchesT(
  scratch: Scratch,
  backend: WasmBackend,
  x: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  attrs: BackpropFilterAttrs,
): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci } = info;
  const positions = info.batchSize * info.outHeight * info.outWidth;
  const filter = scratch.constant([kh, kw, ci, kh * kw], patchExtractionFilter(kh, kw, ci));
  const patches = scratch.keep(
    runWasmKernel(backend, 'DepthwiseConv2dNative', { x, filter }, {
      strides: attrs.strides,
      pad: attrs.pad,
      dilations: [1, 1],
      dimRoundingMode: attrs.dimRoundingMode,
      dataFormat: 'NHWC',
    }),
  );
  // [P, Ci, K] -> [K, Ci, P]
  return scratch.reshape(scratch.transpose(scratch.reshape(patches, [positions, ci, kh * kw]), [2, 1, 0]), [kh * kw * ci, positions]);
}

function conv2dBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  if (tf.backend_util.convertConv2DDataFormat(attrs.dataFormat) !== 'channelsLast') {
    throw new Error('wasm Conv2DBackpropFilter supports only NHWC data');
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = info;
  const positions = info.batchSize * info.outHeight * info.outWidth;
  const stride1 = info.strideHeight === 1 && info.strideWidth === 1;

  return withScratch(backend, (scratch) => {
    if (stride1) return stride1FilterGrad(scratch, backend, x, dy, info);
    const patchesT = depthwisePatchesT(scratch, backend, x, info, attrs);
    const product = runWasmKernel(
      backend,
      'BatchMatMul',
      { a: scratch.reshape(patchesT, [1, kh * kw * ci, positions]), b: scratch.reshape(dy, [1, positions, co]) },
      { transposeA: false, transposeB: false },
    );
    // [1, K*Ci, Co] is already [kh, kw, Ci, Co] in memory: give it the filter's shape.
    return { ...product, shape: [kh, kw, ci, co] };
  });
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
};
