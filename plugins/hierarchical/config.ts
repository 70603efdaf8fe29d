/**
 * Option schemas and the shared geometry of the hierarchical Probabilistic U-Net (Kohl et al.
 * 2019). Each schema is written once (TypeBox) and is both the JSON Schema the spec is checked
 * against and the static type of the block's options. The latent scales tie the blocks together
 * (a prior head per scale sits at a U-Net decoder level): every block derives that geometry from
 * the blocks it was handed (`geometryOf`), never from the spec.
 */
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../../compiler/api.js';

const Activation = StringEnum(['relu', 'elu', 'leaky-relu']);
export type Activation = Static<typeof Activation>;
const PositiveInt = Type.Integer({ minimum: 1 });
const Gain = Type.Number({ exclusiveMinimum: 0 });

const resnetCoreOptions = {
  /** Channels per level, finest first; each level after the first halves the resolution. */
  widths: Type.Array(PositiveInt, { minItems: 2 }),
  blocks_per_level: PositiveInt,
  convs_per_block: PositiveInt,
  activation: Activation,
  /** Gain of the orthogonal initialiser. */
  init_gain: Gain,
};

export const resnetSchema = Type.Object(
  {
    widths: Type.Array(PositiveInt, { minItems: 2, default: [24, 48, 96, 192, 192, 192, 192, 192], description: 'Channels per level, finest first.' }),
    blocks_per_level: Type.Integer({ minimum: 1, default: 3 }),
    convs_per_block: Type.Integer({ minimum: 1, default: 2 }),
    activation: StringEnum(['relu', 'elu', 'leaky-relu'], { default: 'relu' }),
    init_gain: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Gain of the orthogonal initialiser.' }),
  },
  { additionalProperties: false },
);
export type ResNetOptions = Static<typeof resnetSchema>;

export const latentSchema = Type.Object(
  {
    scales: Type.Integer({ minimum: 1, default: 4, description: "Latent scales, coarsest at the U-Net's bottom level." }),
    channels: Type.Integer({ minimum: 1, default: 1, description: 'Channels of each spatial latent (1 in the paper).' }),
    log_sigma_bound: Type.Number({ exclusiveMinimum: 0, default: 10, description: '|log sigma| is softly bounded (tanh) so exp() cannot overflow.' }),
  },
  { additionalProperties: false },
);
export type LatentOptions = Static<typeof latentSchema>;

const headInitGain = Type.Number({ exclusiveMinimum: 0, default: 0.1, description: 'Gain of the orthogonal init of the 1x1 mu/log-sigma heads (small keeps early KL sane).' });

export const priorSchema = Type.Object({ head_init_gain: headInitGain }, { additionalProperties: false });
export type HeadOptions = Static<typeof priorSchema>;

export const posteriorSchema = Type.Object(
  {
    // Without defaults: unset core options are copied from the `unet` block so the scales line up.
    widths: Type.Optional(resnetCoreOptions.widths),
    blocks_per_level: Type.Optional(resnetCoreOptions.blocks_per_level),
    convs_per_block: Type.Optional(resnetCoreOptions.convs_per_block),
    activation: Type.Optional(resnetCoreOptions.activation),
    init_gain: Type.Optional(resnetCoreOptions.init_gain),
    head_init_gain: headInitGain,
    mask_encoding: StringEnum(['onehot', 'onehot-shifted'], {
      default: 'onehot',
      description: 'How the mask joins the image: one-hot (DM) or one-hot minus 0.5 (Kohl 2018 code).',
    }),
  },
  { additionalProperties: false },
);
export type PosteriorOptions = Static<typeof posteriorSchema>;

export const combinerSchema = Type.Object({ init_gain: Type.Number({ exclusiveMinimum: 0, default: 1 }) }, { additionalProperties: false });
export type CombinerOptions = Static<typeof combinerSchema>;

/** The geometry every hierarchical block agrees on. */
export interface Geometry {
  levels: number;
  scales: number;
  channels: number;
  /** U-Net level of latent scale i (0 = coarsest = bottom level L-1). */
  levelOfScale: (scale: number) => number;
  /** [h, w] of latent scale i. */
  scaleSize: (scale: number) => [number, number];
  /** Latent channels concatenated to the features of `level` before upsampling (0 if none). */
  latentChannelsAt: (level: number) => number;
  /** Flattened size of one latent (all scales), the `decode` input's last axis. */
  latentSize: number;
}

/**
 * The geometry of `levels` U-Net levels carrying `scales` latent scales of `channels` channels on
 * an input of `size`; undefined-free: callers check `scalesProblem` / `sizeProblem` first.
 */
export function geometryOf(levels: number, latent: { scales: number; channels: number }, size: readonly [number, number]): Geometry {
  const { scales, channels } = latent;
  const levelOfScale = (s: number) => levels - 1 - s;
  const scaleSize = (s: number): [number, number] => {
    const f = 2 ** levelOfScale(s);
    return [size[0] / f, size[1] / f];
  };
  let latentSize = 0;
  for (let s = 0; s < scales; s++) latentSize += scaleSize(s)[0] * scaleSize(s)[1] * channels;
  return { levels, scales, channels, levelOfScale, scaleSize, latentChannelsAt: (level) => (level >= levels - scales ? channels : 0), latentSize };
}

/** Why `scales` latent scales do not fit `levels` U-Net levels (each scale is upsampled once after it is drawn). */
export function scalesProblem(levels: number, scales: number): string | undefined {
  if (scales <= levels - 1) return undefined;
  return `latent.scales = ${scales} needs at least ${scales + 1} U-Net levels (unet.widths has ${levels}): each scale is upsampled once after it is drawn`;
}

/** Why an input of `size` cannot go through `levels` levels of 2x2 pooling. */
export function sizeProblem(levels: number, size: readonly [number, number]): string | undefined {
  const factor = 2 ** (levels - 1);
  if (size[0] % factor === 0 && size[1] % factor === 0) return undefined;
  const fix = size.map((s) => Math.max(factor, Math.round(s / factor) * factor)).join('x');
  return `input size ${size.join('x')} is not divisible by 2^(levels-1) = ${factor}, which ${levels} U-Net levels need: use e.g. ${fix}, or fewer levels`;
}
