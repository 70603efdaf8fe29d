/**
 * `ssn`: a U-Net (any block filling role `unet`, e.g. the built-in `unet`) whose features a head
 * (role `combiner`, e.g. `ssn-head`) turns into a low-rank Gaussian over the logit map. The
 * logits ARE the latent: the "prior" of a prepared image is that distribution, sampling draws
 * logit maps, and decoding a latent is the identity.
 */
import type { ArchitectureContribution, Block, BlockRole, FeatureNet, LowRankGaussian, Prepared, ProbabilisticSegmenter, Tf } from '../../index.js';
import { expectBlock } from '../../compiler/roles.js';
import type { LogitDistributionHead } from './head.js';

export interface SsnOptions {
  samples: number;
}

export const ssnArchitecture: ArchitectureContribution<SsnOptions> = {
  description: 'Stochastic Segmentation Network (Monteiro et al. 2020): U-Net + a low-rank Gaussian over the logits.',
  roles: { required: ['unet', 'combiner'] },
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      samples: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        default: 20,
        description: 'Logit samples S per image in training (the loss ssn-mc averages over them).',
      },
    },
  },
  compose: (ctx) => {
    checkLoss(ctx.spec.loss?.reconstruction?.kind);
    return composeSsn(ctx.tf, ctx.blocks, ctx.options);
  },
};

/**
 * The training logits carry a sample axis [B, S, H, W, K] that only a sample-aware loss
 * reduces; a built-in per-image loss would fail at step 1 or, when batch_size == S, broadcast
 * silently across images. Plugin API 1.0 lets neither side declare the shape, so the built-in
 * kinds are checked by name here and a plugin's loss (namespaced) is trusted.
 */
function checkLoss(kind: string | undefined): void {
  if (kind === undefined || kind === 'ssn-mc' || kind.includes('/')) return;
  throw new Error(`the ssn architecture trains on S logit samples per image; its loss must average over them: write \`reconstruction ssn-mc\` (got '${kind}')`);
}

function composeSsn(tf: Tf, blocks: Readonly<Partial<Record<BlockRole, Block>>>, o: SsnOptions): ProbabilisticSegmenter {
  const unet = expectBlock<FeatureNet>(blocks, 'unet', ['features']);
  const head = expectBlock<LogitDistributionHead>(blocks, 'combiner', ['distribution']);
  return {
    prepare(images) {
      // The tidy keeps the distribution's parameter tensors (returned); the rest is freed.
      let dist: LowRankGaussian | undefined;
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
      return { logits: dist.sample(o.samples, seed), latents: [] };
    },
  };
}
