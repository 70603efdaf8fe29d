/**
 * `ssn`: a U-Net (any block filling role `unet`, e.g. the built-in `unet`) whose features a head
 * (role `combiner`, e.g. `ssn-head`) turns into a low-rank Gaussian over the logit map. The
 * logits ARE the latent: the "prior" of a prepared image is that distribution, sampling draws
 * logit maps, and decoding a latent is the identity.
 */
import { Type } from '@sinclair/typebox';
import { defineArchitecture } from '../../compiler/api.js';
import type { Distribution, Prepared, ProbabilisticSegmenter, SlotBlocks, Tf } from '../../compiler/api.js';
import { featureNet } from '../builtin/contracts.js';
import { logitDistributionHead } from './head.js';

const slots = {
  unet: { contract: featureNet },
  combiner: { contract: logitDistributionHead },
};

export const ssnArchitecture = defineArchitecture({
  description: 'Stochastic Segmentation Network (Monteiro et al. 2020): U-Net + a low-rank Gaussian over the logits.',
  slots,
  options: Type.Object(
    {
      samples: Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: 20,
        description: 'Logit samples S per image in training (the loss ssn-mc averages over them).',
      }),
    },
    { additionalProperties: false },
  ),
  check(_options, { spec }) {
    const problem = lossProblem(spec.loss?.reconstruction?.kind);
    return problem ? [{ option: '', message: problem }] : [];
  },
  compose: (ctx) => composeSsn(ctx.tf, ctx.blocks, ctx.options.samples),
});

/**
 * The training logits carry a sample axis [B, S, H, W, K] that only a sample-aware loss
 * reduces; a built-in per-image loss would fail at step 1 or, when batch_size == S, broadcast
 * silently across images. The built-in kinds are checked by name; a plugin's loss (namespaced)
 * is trusted.
 */
function lossProblem(kind: string | undefined): string | undefined {
  if (kind === undefined || kind === 'ssn-mc' || kind.includes('/')) return undefined;
  return `the ssn architecture trains on S logit samples per image; its loss must average over them: write \`reconstruction ssn-mc\` (got '${kind}')`;
}

function composeSsn(tf: Tf, blocks: SlotBlocks<typeof slots>, samples: number): ProbabilisticSegmenter {
  const { unet, combiner: head } = blocks;
  return {
    prepare(images) {
      // The tidy keeps the distribution's parameter tensors (returned); the rest is freed.
      let dist: Distribution | undefined;
      const kept = tf.tidy(() => {
        dist = head.distribution(unet.features(images));
        return { ...dist.params };
      });
      const prepared: Prepared = { prior: dist!, dispose: () => tf.dispose(Object.values(kept)) };
      return prepared;
    },
    sample(prepared, n, opts) {
      return tf.tidy(() => {
        const prior = prepared.prior;
        if (opts.perScale?.[0] !== 'mean') return prior.sample(n, opts.seed);
        return tf.tile(tf.expandDims(prior.mean(), 1), [1, n, 1, 1, 1]);
      });
    },
    decode(_prepared, z) {
      return tf.clone(z);
    },
    trainForward(images, _masks, seed) {
      const dist = head.distribution(unet.features(images));
      // [B, S, H, W, K]: the loss (ssn-mc) averages the likelihood over the sample axis.
      return { logits: dist.sample(samples, seed), latents: [] };
    },
  };
}
