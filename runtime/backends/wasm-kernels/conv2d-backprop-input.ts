/**
 * Faster Conv2DBackpropInput for the wasm backend.
 *
 * The stock wasm kernel is a scalar C++ loop. At stride 1 (dilation 1) the input gradient is
 * itself a forward convolution, which the wasm Conv2D runs through XNNPACK:
 *   dx = conv2d(dy, W'), W'[i, j, o, c] = W[kh-1-i, kw-1-j, c, o]  (flipped, in/out swapped),
 * padded with (kh-1-top) rows above and whatever makes the output H rows below (same for width).
 * Other strides keep the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { runWasmKernel, withScratch, type WasmBackend } from './backend-ops.js';

interface BackpropInputAttrs {
  inputShape: [number, number, number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** Padding of the equivalent forward conv, or null when it does not exist (negative padding). */
export function transposedPadding(
  info: tf.backend_util.Conv2DInfo,
): { top: number; bottom: number; left: number; right: number } | null {
  const top = info.filterHeight - 1 - info.padInfo.top;
  const left = info.filterWidth - 1 - info.padInfo.left;
  const bottom = info.inHeight - info.outHeight + info.filterHeight - 1 - top;
  const right = info.inWidth - info.outWidth + info.filterWidth - 1 - left;
  return Math.min(top, left, bottom, right) < 0 ? null : { top, bottom, left, right };
}

/** Wraps the stock kernel: stride-1 NHWC cases go through XNNPACK's forward conv, others to `stock`. */
export function makeConv2dBackpropInputConfig(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const backend = args.backend as WasmBackend;
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as BackpropInputAttrs;
    const channelsLast = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat) === 'channelsLast';
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const padding = channelsLast && info.strideHeight === 1 && info.strideWidth === 1 ? transposedPadding(info) : null;
    if (padding === null) return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]);

    return withScratch(backend, (scratch) => {
      const flipped = info.filterHeight * info.filterWidth === 1
        ? filter
        : scratch.keep(runWasmKernel(backend, 'Reverse', { x: filter }, { dims: [0, 1] }));
      const swapped = scratch.transpose(flipped, [0, 1, 3, 2]);
      return runWasmKernel(backend, 'Conv2D', { x: dy, filter: swapped }, {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [[0, 0], [padding.top, padding.bottom], [padding.left, padding.right], [0, 0]],
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
      });
    });
  };
  return { ...stock, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
