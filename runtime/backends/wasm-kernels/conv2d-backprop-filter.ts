/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none).
 *
 * dW[i, j, c, o] = sum over (n, y, x) of patch(n, y, x)[i, j, c] * dy[n, y, x, o].
 * The patches are extracted by a depthwise convolution whose filter is one-hot (output channel
 * c * K + (i * kw + j) copies input channel c at tap (i, j)), with the forward pass's own strides
 * and padding, so every stride/padding combination is handled exactly as the forward conv did.
 * Then one matrix product reduces over all N * Ho * Wo positions. (Going through
 * Conv3DBackpropFilterV2 with depth 1 gives wrong results at stride 2 with SAME padding.)
 *
 * wasm BatchMatMul is only fast (XNNPACK) with batch 1 and no transpose flags, so the operand that
 * must be transposed is transposed explicitly: dy^T [Co, P] (the smaller one), times
 * patches [P, Ci*K], gives [Co, Ci, kh, kw], permuted to the filter layout [kh, kw, Ci, Co].
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

/** [P, Ci * kh * kw] patch matrix of x for the given forward-conv geometry. */
function extractPatches(
  scratch: Scratch,
  backend: WasmBackend,
  x: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  attrs: BackpropFilterAttrs,
): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci } = info;
  const positions = info.batchSize * info.outHeight * info.outWidth;
  const trivial =
    kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight === info.inHeight && info.outWidth === info.inWidth;
  if (trivial) return scratch.reshape(x, [positions, ci]); // a 1x1 stride-1 conv sees x itself
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
  return scratch.reshape(patches, [positions, ci * kh * kw]);
}

function conv2dBackpropFilterWasm(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
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

  return withScratch(backend, (scratch) => {
    const patches = extractPatches(scratch, backend, x, info, attrs);
    const dyT = scratch.transpose(scratch.reshape(dy, [positions, co]), [1, 0]);
    const product = scratch.keep(
      runWasmKernel(
        backend,
        'BatchMatMul',
        { a: scratch.reshape(dyT, [1, co, positions]), b: scratch.reshape(patches, [1, positions, ci * kh * kw]) },
        { transposeA: false, transposeB: false },
      ),
    );
    // [Co, Ci, kh, kw] -> [kh, kw, Ci, Co]; the result is the kernel's output, so it is not scratch.
    const asFilterMajor = scratch.reshape(product, [co, ci, kh, kw]);
    return runWasmKernel(backend, 'Transpose', { x: asFilterMajor }, { perm: [2, 3, 1, 0] });
  });
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
};
