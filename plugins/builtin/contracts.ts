/**
 * The role contracts of the `prob-unet` architecture: what a block must provide to fill each
 * role, and the smaller views blocks read of each other while they build (an encoder needs only
 * the latent's head size). Other architectures reuse them (`ssn` takes any `featureNet`).
 * Types plus plain objects: importing this does not load TensorFlow.js.
 */
import { defineContract } from '../../compiler/api.js';
import type { Distribution, LayerInfo, Tensor } from '../../compiler/api.js';

/** Static facts a block may report, for `punet inspect` and the FLOP counter. */
export interface Described {
  /** Per-image output shapes (no batch axis), by name: e.g. `features: [128, 128, 32]`. */
  outputShapes?: Record<string, number[]>;
  /** Every layer in execution order, with its per-image output shape and forward FLOPs. */
  layers?: LayerInfo[];
}
const described = { outputShapes: 'object?', layers: 'object?' } as const;

/** Role `unet`: images [B, H, W, C] -> features [B, H, W, channels]. */
export interface FeatureNet extends Described {
  channels: number;
  features(images: Tensor): Tensor;
}
export const featureNet = defineContract<FeatureNet>('feature-net', 'images [B, H, W, C] -> features [B, H, W, channels]', {
  channels: 'integer',
  features: 'function',
  ...described,
});

/** What a block reads of the U-Net while it builds: its feature channels. */
export type FeatureChannels = Pick<FeatureNet, 'channels'>;
export const featureChannels = defineContract<FeatureChannels>('feature-channels', 'reports the channels of its features', { channels: 'integer' });

/** Roles `prior` / `posterior`: images (+ int32 masks [B, H, W]) -> latent head [B, headChannels]. */
export interface LatentEncoder extends Described {
  seesMask: boolean;
  encode(images: Tensor, masks?: Tensor): Tensor;
}
export const latentEncoder = defineContract<LatentEncoder>('latent-encoder', 'images (+ masks when seesMask) -> a head [B, headChannels] for the latent block', {
  seesMask: 'boolean',
  encode: 'function',
  ...described,
});

/** Role `latent`: turns an encoder head into a distribution over latents. */
export interface LatentBlock extends Described {
  /** How many values the encoders' heads must output (diagonal Gaussian: 2M). */
  headChannels: number;
  /** Std of the truncated-normal init of the heads' biases (small: large biases cause NaNs). */
  headBiasStd: number;
  eventShape: number[];
  distribution(head: Tensor): Distribution;
}
export const latentBlock = defineContract<LatentBlock>('latent', 'an encoder head [B, headChannels] -> a distribution over latents of eventShape', {
  headChannels: 'integer',
  headBiasStd: 'number',
  eventShape: 'number[]',
  distribution: 'function',
  ...described,
});

/** What an encoder reads of the latent block while it builds: the size and init of its head. */
export type LatentHead = Pick<LatentBlock, 'headChannels' | 'headBiasStd'>;
export const latentHead = defineContract<LatentHead>('latent-head', 'tells encoders the size and bias init of their head', {
  headChannels: 'integer',
  headBiasStd: 'number',
});

/** What a combiner reads of the latent block while it builds: the shape of one latent. */
export type LatentEvent = Pick<LatentBlock, 'eventShape'>;
export const latentEvent = defineContract<LatentEvent>('latent-event', 'tells combiners the shape of one latent', { eventShape: 'number[]' });

/** Role `combiner`: per-image work done once, then any number of latents in one batched pass. */
export interface Combiner extends Described {
  /** Once per image batch: whatever of the features does not depend on z. */
  prepare(features: Tensor): Tensor;
  /** z [B, n, ...eventShape] -> logits [B, n, H, W, K], one pass for all n. */
  combine(prepared: Tensor, z: Tensor): Tensor;
}
export const combiner = defineContract<Combiner>('combiner', 'features once per image (prepare), then latents z [B, n, ...] -> logits [B, n, H, W, K] (combine)', {
  prepare: 'function',
  combine: 'function',
  ...described,
});
