/**
 * Option schemas, defaults and the shared geometry of the hierarchical Probabilistic U-Net
 * (Kohl et al. 2019). Blocks are built one role at a time, but the latent scales tie them
 * together (a prior head per scale sits at a U-Net decoder level), so every block derives the
 * same geometry from the resolved spec through `hierarchyOf`.
 */
import type { KindSpec, ResolvedSpec } from '../../compiler/api.js';

export type Activation = 'relu' | 'elu' | 'leaky-relu';

export interface ResNetOptions {
  /** Channels per level, finest first; each level after the first halves the resolution. */
  widths: number[];
  blocks_per_level: number;
  convs_per_block: number;
  activation: Activation;
  /** Gain of the orthogonal initialiser. */
  init_gain: number;
}

export interface LatentOptions {
  /** Number of latent scales, coarsest at the U-Net's bottom level. */
  scales: number;
  /** Channels of each spatial latent (1 in the paper). */
  channels: number;
  /** |log sigma| is softly bounded to this value (tanh) so exp() cannot overflow. */
  log_sigma_bound: number;
}

export interface HeadOptions {
  /** Gain of the orthogonal initialiser of the 1x1 mu/log-sigma heads (small keeps early KL sane). */
  head_init_gain: number;
}

export interface PosteriorOptions extends Partial<ResNetOptions>, HeadOptions {
  /** How the mask joins the image: one-hot (DM) or one-hot minus 0.5 (Kohl 2018 code). */
  mask_encoding: 'onehot' | 'onehot-shifted';
}

export interface CombinerOptions {
  init_gain: number;
}

const activation = { enum: ['relu', 'elu', 'leaky-relu'], default: 'relu' } as const;
const positiveInt = { type: 'integer', minimum: 1 } as const;

export const resnetSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    widths: { type: 'array', items: positiveInt, minItems: 2, default: [24, 48, 96, 192, 192, 192, 192, 192] },
    blocks_per_level: { ...positiveInt, default: 3 },
    convs_per_block: { ...positiveInt, default: 2 },
    activation,
    init_gain: { type: 'number', exclusiveMinimum: 0, default: 1 },
  },
} as const;

export const latentSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    scales: { ...positiveInt, default: 4 },
    channels: { ...positiveInt, default: 1 },
    log_sigma_bound: { type: 'number', exclusiveMinimum: 0, default: 10 },
  },
} as const;

export const priorSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { head_init_gain: { type: 'number', exclusiveMinimum: 0, default: 0.1 } },
} as const;

export const posteriorSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...resnetSchema.properties,
    // Without defaults: unset core options are copied from the `unet` block so the scales line up.
    widths: { type: 'array', items: positiveInt, minItems: 2 },
    blocks_per_level: positiveInt,
    convs_per_block: positiveInt,
    activation: { enum: ['relu', 'elu', 'leaky-relu'] },
    init_gain: { type: 'number', exclusiveMinimum: 0 },
    head_init_gain: { type: 'number', exclusiveMinimum: 0, default: 0.1 },
    mask_encoding: { enum: ['onehot', 'onehot-shifted'], default: 'onehot' },
  },
} as const;

export const combinerSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { init_gain: { type: 'number', exclusiveMinimum: 0, default: 1 } },
} as const;

/** Schema defaults for a block's options, for the case a block reads another role's spec. */
export function withDefaults<T>(schema: { properties: Record<string, unknown> }, given: KindSpec | undefined): T {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties)) {
    const d = (prop as { default?: unknown }).default;
    if (d !== undefined) out[key] = structuredClone(d);
  }
  for (const [key, value] of Object.entries(given ?? {})) if (key !== 'kind') out[key] = value;
  return out as T;
}

/** The geometry every hierarchical block agrees on. */
export interface Hierarchy {
  unet: ResNetOptions;
  latent: LatentOptions;
  levels: number;
  /** U-Net level of latent scale i (0 = coarsest = bottom level L-1). */
  levelOfScale: (scale: number) => number;
  /** [h, w] of latent scale i. */
  scaleSize: (scale: number) => [number, number];
  /** Latent channels concatenated to the features of `level` before upsampling (0 if none). */
  latentChannelsAt: (level: number) => number;
  /** Flattened size of one latent (all scales), the `decode` input's last axis. */
  latentSize: number;
}

/** A hierarchy error the user fixes in the spec (caught and reported with the block's position). */
export class HierarchyError extends Error {}

export function hierarchyOf(spec: Readonly<ResolvedSpec>): Hierarchy {
  if (spec.unet && spec.unet.kind !== 'resnet-unet') {
    throw new HierarchyError(`the hierarchical blocks need 'unet' of kind 'resnet-unet' (got '${spec.unet.kind}')`);
  }
  if (spec.latent && spec.latent.kind !== 'hierarchical-gaussian') {
    throw new HierarchyError(`the hierarchical blocks need 'latent' of kind 'hierarchical-gaussian' (got '${spec.latent.kind}')`);
  }
  const unet = withDefaults<ResNetOptions>(resnetSchema, spec.unet);
  const latent = withDefaults<LatentOptions>(latentSchema, spec.latent);
  const levels = unet.widths.length;
  if (latent.scales > levels - 1) {
    throw new HierarchyError(
      `latent.scales = ${latent.scales} needs at least ${latent.scales + 1} U-Net levels (unet.widths has ${levels}): ` +
        `each scale is upsampled once after it is drawn`,
    );
  }
  const [height, width] = spec.input.size;
  const factor = 2 ** (levels - 1);
  if (height % factor !== 0 || width % factor !== 0) {
    throw new HierarchyError(`input.size ${height}x${width} must be divisible by 2^(levels-1) = ${factor} for ${levels} U-Net levels`);
  }
  const levelOfScale = (s: number) => levels - 1 - s;
  const scaleSize = (s: number): [number, number] => {
    const f = 2 ** levelOfScale(s);
    return [height / f, width / f];
  };
  let latentSize = 0;
  for (let s = 0; s < latent.scales; s++) latentSize += scaleSize(s)[0] * scaleSize(s)[1] * latent.channels;
  return {
    unet,
    latent,
    levels,
    levelOfScale,
    scaleSize,
    latentChannelsAt: (level) => (level >= levels - latent.scales ? latent.channels : 0),
    latentSize,
  };
}
