/**
 * AvgPoolGrad that matches tfjs's own AvgPool forward when windows overlap the padding.
 *
 * tfjs 4.22's forward AvgPool ('same' padding) divides each window by the number of REAL pixels
 * in it (like TensorFlow), but the stock AvgPoolGrad kernels (cpu and wasm alike) divide by the
 * full window size, so on odd-sized feature maps the gradient of the padded windows is wrong.
 * This kernel is registered for cpu and wasm; windows without padding keep the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasm-kernels/backend-ops.js';

interface AvgPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** dx from dy for an average pool over info's geometry, each window divided by its real-pixel count. */
export function avgPoolGradValues(dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const dx = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      const y0 = Math.max(0, oy * sh - top);
      const y1 = Math.min(h, oy * sh - top + fh);
      for (let ox = 0; ox < wo; ox++) {
        const x0 = Math.max(0, ox * sw - left);
        const x1 = Math.min(w, ox * sw - left + fw);
        const count = (y1 - y0) * (x1 - x0);
        if (count <= 0) continue;
        const g = ((b * ho + oy) * wo + ox) * c;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const d = ((b * h + y) * w + x) * c;
            for (let k = 0; k < c; k++) dx[d + k]! += dy[g + k]! / count;
          }
        }
      }
    }
  }
  return dx;
}

const FIXED = Symbol.for('punet.avgPoolGradFix');

function poolInfo(input: tf.TensorInfo, attrs: AvgPoolGradAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

function padded(info: tf.backend_util.Conv2DInfo): boolean {
  const p = info.padInfo;
  return p.top > 0 || p.left > 0 || p.bottom > 0 || p.right > 0;
}

type Args = Parameters<tf.KernelFunc>[0];

/** Replaces AvgPoolGrad on `backendName` ('cpu' or 'wasm', when registered). Idempotent. */
export function registerAvgPoolGradFix(backendName: 'cpu' | 'wasm'): void {
  const stock = tf.getKernel('AvgPoolGrad', backendName);
  if (stock === undefined || (stock as { [FIXED]?: true })[FIXED]) return;
  const kernelFunc = (args: Args): tf.TensorInfo | tf.TensorInfo[] => {
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const info = poolInfo(input, args.attrs as unknown as AvgPoolGradAttrs);
    if (!padded(info)) return stock.kernelFunc(args);
    if (backendName === 'wasm') {
      const backend = args.backend as WasmBackend;
      const values = avgPoolGradValues(backend.typedArrayFromHeap(dy) as Float32Array, info);
      return backend.makeOutput(input.shape, 'float32', undefined, values);
    }
    const backend = args.backend as tf.KernelBackend & { makeTensorInfo(s: number[], d: tf.DataType, v: Float32Array): tf.TensorInfo };
    const values = avgPoolGradValues(backend.readSync(dy.dataId) as Float32Array, info);
    return backend.makeTensorInfo(input.shape, 'float32', values);
  };
  tf.unregisterKernel('AvgPoolGrad', backendName);
  tf.registerKernel({ ...stock, kernelFunc: kernelFunc as tf.KernelFunc, [FIXED]: true } as tf.KernelConfig);
}
