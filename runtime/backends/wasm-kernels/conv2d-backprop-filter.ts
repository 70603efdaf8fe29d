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
 * Stride 1 (every conv in these networks): A is built from x transposed to planar [Ci, N, H, W]
 * by copying shifted image rows (memcpy-like), see `planarPatches`.
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
 * Fills `dest` ([kh, kw, Ci, N, Ho, Wo], i.e. patches^T) from `planar` ([Ci, N, H, W]) for a
 * stride-1 conv with the given leading padding: row (i, j, c, n, oy) is image row y = oy + i - top
 * of channel c, shifted by j - left, with zeros where the window leaves the image.
 */
export function planarPatches(
  planar: Float32Array,
  dest: Float32Array,
  info: Pick<tf.backend_util.Conv2DInfo, 'batchSize' | 'inHeight' | 'inWidth' | 'inChannels' | 'outHeight' | 'outWidth' | 'filterHeight' | 'filterWidth'>,
  top: number,
  left: number,
): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo } = info;
  let d = 0; // running destination offset: rows are written in order
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      const shift = j - left;
      const x0 = Math.max(0, -shift); // first output column whose source column is inside the image
      const x1 = Math.min(wo, w - shift); // one past the last such column
      for (let c = 0; c < ci; c++) {
        for (let b = 0; b < n; b++) {
          const image = (c * n + b) * h;
          for (let oy = 0; oy < ho; oy++, d += wo) {
            const y = oy + i - top;
            if (y < 0 || y >= h || x1 <= x0) {
              dest.fill(0, d, d + wo);
              continue;
            }
            if (x0 > 0) dest.fill(0, d, d + x0);
            const src = (image + y) * w + shift;
            dest.set(planar.subarray(src + x0, src + x1), d + x0);
            if (x1 < wo) dest.fill(0, d + x1, d + wo);
          }
        }
      }
    }
  }
}

/** patches^T [kh*kw*Ci, P] for a stride-1 conv. */
function stride1PatchesT(scratch: Scratch, backend: WasmBackend, x: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, filterHeight: kh, filterWidth: kw } = info;
  const positions = n * info.outHeight * info.outWidth;
  const planar = scratch.transpose(scratch.reshape(x, [n * h * w, ci]), [1, 0]); // [Ci, N*H*W]
  if (kh === 1 && kw === 1 && info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight === h && info.outWidth === w) {
    return planar; // a 1x1 conv without padding sees x itself
  }
  const patchesT = scratch.keep(backend.makeOutput([kh * kw * ci, positions], 'float32'));
  // Views are taken after every allocation: a heap growth detaches older views.
  planarPatches(
    backend.typedArrayFromHeap(planar) as Float32Array,
    backend.typedArrayFromHeap(patchesT) as Float32Array,
    info,
    info.padInfo.top,
    info.padInfo.left,
  );
  return patchesT;
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
    const patchesT = stride1 ? stride1PatchesT(scratch, backend, x, info) : depthwisePatchesT(scratch, backend, x, info, attrs);
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
