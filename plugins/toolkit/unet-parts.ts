/**
 * The U-Net's encoder and decoder stacks (reference: Kohl et al. 2018). Encoder level 0 has no
 * pooling, level i > 0 starts with a 2x2 stride-2 pool; every level is `convsPerBlock` 3x3 SAME
 * convs + activation with C[i] channels. The decoder goes from the second-lowest level up:
 * resize to the skip's size, concat(upsampled, skip), convs with C[i].
 */
import type { Initializer, ParamFactory, Tensor, Tf } from '../../compiler/api.js';
import { BlockOptionError } from '../../compiler/errors.js';
import {
  convFlops,
  convParams,
  createConv,
  downsample,
  pooledSize,
  upsample,
  type Activation,
  type ConvLayer,
  type DownSampling,
  type LayerInfo,
  type UpSampling,
} from './nn.js';

export interface StackConfig {
  widths: number[];
  convsPerBlock: number;
  kernelSize: number;
  activation: Activation;
  init: Initializer;
  bias: Initializer;
}

export interface Encoder {
  /** Per level [H, W, C]. */
  levelShapes: number[][];
  layers: LayerInfo[];
  /** Output of every level, finest first. */
  apply(x: Tensor): Tensor[];
}

/** Spatial sizes per level; throws on a level whose input is already 1x1 (pooling cannot halve it). */
export function levelSizes(size: [number, number], levels: number): Array<[number, number]> {
  const sizes: Array<[number, number]> = [size];
  for (let i = 1; i < levels; i++) {
    const [h, w] = sizes[i - 1]!;
    if (h === 1 && w === 1) {
      throw new BlockOptionError(
        'widths',
        `${levels} levels need an input of at least ${2 ** (levels - 2) + 1} pixels on a side: level ${i} would pool a 1x1 map ` +
          `(input ${size[0]}x${size[1]}); use at most ${i} widths or a larger input.size`,
      );
    }
    sizes.push([pooledSize(h), pooledSize(w)]);
  }
  return sizes;
}

function convStack(
  tf: Tf,
  params: ParamFactory,
  prefix: string,
  inChannels: number,
  width: number,
  [h, w]: [number, number],
  c: StackConfig,
  layers: LayerInfo[],
): ConvLayer[] {
  const convs: ConvLayer[] = [];
  for (let j = 0; j < c.convsPerBlock; j++) {
    const cfg = { kernelSize: c.kernelSize, inChannels: j === 0 ? inChannels : width, outChannels: width };
    const conv = createConv(tf, params, `${prefix}/conv${j + 1}`, { ...cfg, init: c.init, bias: c.bias });
    convs.push(conv);
    layers.push({ name: `${prefix}/conv${j + 1}`, op: 'conv2d', output: [h, w, width], flops: convFlops(h, w, cfg, c.activation), params: convParams(cfg) });
  }
  return convs;
}

export function buildEncoder(
  tf: Tf,
  params: ParamFactory,
  inChannels: number,
  size: [number, number],
  down: DownSampling,
  c: StackConfig,
): Encoder {
  const sizes = levelSizes(size, c.widths.length);
  const layers: LayerInfo[] = [];
  const levels = c.widths.map((width, i) => {
    const [h, w] = sizes[i]!;
    if (i > 0) layers.push({ name: `level${i}/pool`, op: down, output: [h, w, c.widths[i - 1]!], flops: h * w * c.widths[i - 1]! * 4, params: 0 });
    return convStack(tf, params, `level${i}`, i === 0 ? inChannels : c.widths[i - 1]!, width, sizes[i]!, c, layers);
  });
  return {
    levelShapes: c.widths.map((width, i) => [...sizes[i]!, width]),
    layers,
    apply(x) {
      const outputs: Tensor[] = [];
      let h = x;
      levels.forEach((convs, i) => {
        if (i > 0) h = downsample(tf, h, down);
        for (const conv of convs) h = conv.apply(h, c.activation);
        outputs.push(h);
      });
      return outputs;
    },
  };
}

export interface Decoder {
  levelShapes: number[][];
  layers: LayerInfo[];
  /** Encoder outputs (finest first) -> the finest decoder output [B, H, W, C[0]]. */
  apply(encoded: Tensor[]): Tensor;
}

export function buildDecoder(
  tf: Tf,
  params: ParamFactory,
  encoderShapes: number[][],
  up: UpSampling,
  c: StackConfig,
): Decoder {
  const layers: LayerInfo[] = [];
  const levels: Array<{ level: number; size: [number, number]; convs: ConvLayer[] }> = [];
  const levelShapes: number[][] = [];
  let below = encoderShapes[encoderShapes.length - 1]![2]!;
  for (let i = c.widths.length - 2; i >= 0; i--) {
    const [h, w, skip] = encoderShapes[i]! as [number, number, number];
    layers.push({ name: `up${i}/resize`, op: 'resize', output: [h, w, below], flops: h * w * below * 7, params: 0 });
    layers.push({ name: `up${i}/concat`, op: 'concat', output: [h, w, below + skip], flops: 0, params: 0 });
    const convs = convStack(tf, params, `up${i}`, below + skip, c.widths[i]!, [h, w], c, layers);
    levels.push({ level: i, size: [h, w], convs });
    levelShapes.push([h, w, c.widths[i]!]);
    below = c.widths[i]!;
  }
  return {
    levelShapes,
    layers,
    apply(encoded) {
      let x = encoded[encoded.length - 1]!;
      for (const { level, size, convs } of levels) {
        x = tf.concat([upsample(tf, x, size, up), encoded[level]!], 3);
        for (const conv of convs) x = conv.apply(x, c.activation);
      }
      return x;
    },
  };
}
