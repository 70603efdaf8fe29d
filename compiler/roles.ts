/**
 * The surfaces the built-in blocks expose to the `prob-unet` architecture (and to any plugin
 * architecture that wants to reuse them). Types only, plus a small runtime check, so plugin
 * modules can import this without loading TensorFlow.js.
 */
import type { Block, BlockRole, Distribution, LayerInfo, Tensor } from './api.js';
import { BlockOptionError } from './errors.js';

/** Static facts every built-in block reports (for `punet inspect` and the FLOP counter). */
export type Described = {
  /** Per-image output shapes (no batch axis), by name: e.g. `features: [128, 128, 32]`. */
  outputShapes: Record<string, number[]>;
  /** Every layer in execution order, with its per-image output shape and forward FLOPs. */
  layers: LayerInfo[];
};

/** Role `unet`: images [B, H, W, C] -> features [B, H, W, channels]. */
export type FeatureNet = Described & {
  channels: number;
  features(images: Tensor): Tensor;
};

/** Roles `prior` / `posterior`: images (+ int32 masks [B, H, W]) -> latent head [B, headChannels]. */
export type LatentEncoder = Described & {
  seesMask: boolean;
  encode(images: Tensor, masks?: Tensor): Tensor;
};

/** Role `latent`: turns an encoder head into a distribution over latents. */
export type LatentBlock = Described & {
  /** How many values the encoders' heads must output (diagonal Gaussian: 2M). */
  headChannels: number;
  /** Std of the truncated-normal init of the heads' biases (small: large biases cause NaNs). */
  headBiasStd: number;
  eventShape: number[];
  distribution(head: Tensor): Distribution;
};

/** Role `combiner`: per-image work done once, then any number of latents in one batched pass. */
export type Combiner = Described & {
  /** Once per image batch: whatever of the features does not depend on z. */
  prepare(features: Tensor): Tensor;
  /** z [B, n, ...eventShape] -> logits [B, n, H, W, K], one pass for all n. */
  combine(prepared: Tensor, z: Tensor): Tensor;
};

/**
 * Fetches the block filling `role` and checks it has the members an architecture calls. A
 * missing member is reported on the block (its kind cannot fill this role for this architecture).
 */
export function expectBlock<T>(
  blocks: Readonly<Partial<Record<BlockRole, Block>>> | undefined,
  role: BlockRole,
  members: string[],
): T {
  const block = blocks?.[role];
  if (!block) throw new BlockOptionError('', `needs a '${role}' block built before it`);
  const missing = members.filter((m) => !(m in block));
  if (missing.length) {
    throw new BlockOptionError('', `the '${role}' block lacks ${missing.map((m) => `'${m}'`).join(', ')} (not usable in this role here)`);
  }
  return block as unknown as T;
}
