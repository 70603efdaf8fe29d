/**
 * The flat Probabilistic U-Net (Kohl et al. 2018) as a built-in plugin: blocks `unet`,
 * `conv-encoder` (prior / posterior), `gaussian` (latent), `fcomb` (combiner), and the
 * architecture `prob-unet` that composes them. No TensorFlow.js import: `tf` arrives in ctx.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineArchitecture, defineBlock, definePlugin, StringEnum } from '../../compiler/api.js';
import type { BuildContext, Distribution, LayerInfo, Prepared, ProbabilisticSegmenter, RoleContracts, SlotBlocks, Tensor, Tf } from '../../compiler/api.js';
import { BlockOptionError } from '../../compiler/errors.js';
import { TILED_BIAS_RELU } from '../../runtime/backends/native-kernel-names.js';
import { diagGaussianFromHead, DIAG_GAUSSIAN } from '../toolkit/distributions.js';
import { biasInitializer, convFlops, convParams, createConv, fusedConv, weightInitializer, type ConvLayer } from '../toolkit/nn.js';
import { buildDecoder, buildEncoder, type StackConfig } from '../toolkit/unet-parts.js';
import {
  combiner,
  featureChannels,
  featureNet,
  latentBlock,
  latentEncoder,
  latentEvent,
  latentHead,
  type Combiner,
  type FeatureNet,
  type LatentBlock,
  type LatentEncoder,
} from './contracts.js';

// ---------------------------------------------------------------------------------------------
// Option schemas: one TypeBox schema per block is both the JSON Schema the spec is validated
// against and the static type of `ctx.options`.

const PositiveInt = (def: number, description: string) => Type.Integer({ minimum: 1, default: def, description });
const Widths = Type.Array(Type.Integer({ minimum: 1 }), {
  minItems: 1,
  default: [32, 64, 128, 192],
  description: 'Channels per level, finest first (one level per entry).',
});
const ActivationOption = StringEnum(['relu', 'elu'], { default: 'relu', description: 'After every conv but the last.' });
const InitOption = StringEnum(['he-normal-truncated', 'orthogonal', 'glorot-uniform'], {
  default: 'he-normal-truncated',
  description: 'Conv kernel initialiser (he-normal-truncated: variance scaling 2.0, fan-in, truncated normal).',
});
const BiasStd = Type.Number({ minimum: 0, default: 0.001, description: 'Std of the truncated-normal bias init (0: zeros).' });
const stackOptions = {
  widths: Widths,
  convs_per_block: PositiveInt(3, 'Convs per level.'),
  kernel_size: PositiveInt(3, 'Conv kernel size (stride 1, SAME padding).'),
  down: StringEnum(['avgpool', 'maxpool'], {
    default: 'avgpool',
    description: '2x2 stride-2 pooling at the start of every level but the first.',
  }),
  activation: ActivationOption,
  init: InitOption,
  bias_init_std: BiasStd,
};

const stackSchema = Type.Object(stackOptions);

const { activation, init, bias_init_std, ...levelOptions } = stackOptions;
const unetSchema = Type.Object(
  {
    ...levelOptions,
    up: StringEnum(['bilinear', 'nearest'], { default: 'bilinear', description: 'Decoder upsampling to the skip size (align corners).' }),
    activation,
    init,
    bias_init_std,
  },
  { additionalProperties: false },
);

const encoderSchema = Type.Object(
  {
    ...stackOptions,
    sees: StringEnum(['image', 'image+mask'], { default: 'image', description: "The prior sees the image; the posterior 'image+mask'." }),
    mask_encoding: StringEnum(['onehot-shifted', 'onehot'], {
      default: 'onehot-shifted',
      description: 'How the mask joins the image: onehot(y) - 0.5 (Kohl et al.) or onehot(y).',
    }),
  },
  { additionalProperties: false },
);

const gaussianSchema = Type.Object(
  {
    size: PositiveInt(6, 'Latent dimensions M.'),
    log_sigma_bound: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'log sigma = b * tanh(raw / b), so sigma stays in [e^-b, e^b].' }),
    head_init_std: Type.Number({ minimum: 0, default: 0.001, description: "Std of the truncated-normal init of the encoders' head biases." }),
  },
  { additionalProperties: false },
);

const fcombSchema = Type.Object(
  {
    layers: PositiveInt(3, '1x1 convs (with activation) before the logits conv.'),
    width: PositiveInt(32, 'Channels of those 1x1 convs.'),
    inject: StringEnum(['last'], { default: 'last', description: "Where z joins the U-Net: 'last' = after its last feature map." }),
    activation: ActivationOption,
    init: InitOption,
    bias_init_std: BiasStd,
  },
  { additionalProperties: false },
);

/** Validated block options (exported for runtime/export, which rebuilds the graph from them). */
export type StackOptions = Static<typeof stackSchema>;
export type UNetOptions = Static<typeof unetSchema>;
type EncoderOptions = Static<typeof encoderSchema>;
export type GaussianOptions = Static<typeof gaussianSchema>;
export type FcombOptions = Static<typeof fcombSchema>;

function stackConfig(o: StackOptions): StackConfig {
  return {
    widths: o.widths,
    convsPerBlock: o.convs_per_block,
    kernelSize: o.kernel_size,
    activation: o.activation,
    init: weightInitializer(o.init),
    bias: biasInitializer(o.bias_init_std),
  };
}

// ---------------------------------------------------------------------------------------------
// Blocks

function buildUNet(ctx: BuildContext<UNetOptions>): FeatureNet {
  const { tf } = ctx;
  const cfg = stackConfig(ctx.options);
  const encoder = buildEncoder(tf, ctx.params.scope('encoder'), ctx.input.channels, ctx.input.size, ctx.options.down, cfg);
  const decoder = buildDecoder(tf, ctx.params.scope('decoder'), encoder.levelShapes, ctx.options.up, cfg);
  const outputShapes: Record<string, number[]> = {};
  encoder.levelShapes.forEach((s, i) => (outputShapes[`encoder.level${i}`] = s));
  decoder.levelShapes.forEach((s, j) => (outputShapes[`decoder.up${decoder.levelShapes.length - 1 - j}`] = s));
  outputShapes.features = [...ctx.input.size, ctx.options.widths[0]!];
  return {
    channels: ctx.options.widths[0]!,
    outputShapes,
    layers: [...encoder.layers.map(prefixed('encoder')), ...decoder.layers.map(prefixed('decoder'))],
    features(images) {
      return tf.tidy(() => decoder.apply(encoder.apply(images)));
    },
  };
}

function prefixed(scope: string) {
  return (l: LayerInfo): LayerInfo => ({ ...l, name: `${scope}/${l.name}` });
}

const encoderNeeds = { latent: latentHead } satisfies RoleContracts;

function buildLatentEncoder(ctx: BuildContext<EncoderOptions, typeof encoderNeeds>): LatentEncoder {
  const { tf } = ctx;
  const o = ctx.options;
  const seesMask = o.sees === 'image+mask';
  const latent = ctx.blocks.latent;
  const classes = ctx.input.classes;
  const inChannels = ctx.input.channels + (seesMask ? classes : 0);
  const cfg = stackConfig(o);
  const encoder = buildEncoder(tf, ctx.params.scope('encoder'), inChannels, ctx.input.size, o.down, cfg);
  const last = o.widths[o.widths.length - 1]!;
  const headCfg = { kernelSize: 1, inChannels: last, outChannels: latent.headChannels };
  const head = createConv(tf, ctx.params, 'head', { ...headCfg, init: cfg.init, bias: biasInitializer(latent.headBiasStd) });
  const outputShapes: Record<string, number[]> = {};
  encoder.levelShapes.forEach((s, i) => (outputShapes[`encoder.level${i}`] = s));
  outputShapes.pooled = [last];
  outputShapes.head = [latent.headChannels];
  const layers: LayerInfo[] = [
    ...encoder.layers.map(prefixed('encoder')),
    { name: 'pool-hw', op: 'mean', output: [last], flops: encoder.levelShapes.at(-1)!.reduce((a, b) => a * b, 1), params: 0 },
    { name: 'head', op: 'conv2d', output: [latent.headChannels], flops: convFlops(1, 1, headCfg, 'linear'), params: convParams(headCfg) },
  ];
  return {
    seesMask,
    outputShapes,
    layers,
    encode(images, masks) {
      return tf.tidy(() => {
        let x = images;
        if (seesMask) {
          if (!masks) throw new Error(`the ${ctx.role} encoder sees the mask: call encode(images, masks)`);
          let onehot = tf.oneHot(tf.cast(masks, 'int32') as never, classes).toFloat();
          if (o.mask_encoding === 'onehot-shifted') onehot = tf.sub(onehot, 0.5);
          x = tf.concat([images, onehot], 3);
        }
        const levels = encoder.apply(x);
        const pooled = tf.mean(levels[levels.length - 1]!, [1, 2], true);
        return tf.reshape(head.apply(pooled, 'linear'), [images.shape[0]!, latent.headChannels]);
      });
    },
  };
}

function buildGaussian(tf: Tf, o: GaussianOptions): LatentBlock {
  return {
    headChannels: 2 * o.size,
    headBiasStd: o.head_init_std,
    eventShape: [o.size],
    outputShapes: { mu: [o.size], log_sigma: [o.size] },
    layers: [],
    distribution(head) {
      return diagGaussianFromHead(tf, head, o.size, o.log_sigma_bound);
    },
  };
}

/**
 * fcomb: tile z over H x W, concat after the U-Net's features, `layers` x (1x1 conv + act),
 * 1x1 conv to K logits. The first conv over concat(features, z) is W_f.features + W_z.z + b: the
 * W_f part is computed once per image (`prepare`) and the per-sample W_z.z broadcast-added, so
 * n samples cost one batched pass over the remaining 1x1 convs. With ReLU on the native kernels,
 * that add and the activation are one threaded kernel (TILED_BIAS_RELU, with its own gradient).
 */
const fcombNeeds = { unet: featureChannels, latent: latentEvent } satisfies RoleContracts;

function buildFcomb(ctx: BuildContext<FcombOptions, typeof fcombNeeds>): Combiner {
  const { tf } = ctx;
  const o = ctx.options;
  const { unet, latent } = ctx.blocks;
  if (latent.eventShape.length !== 1) {
    throw new BlockOptionError('inject', `fcomb tiles a vector latent; the latent block has event shape [${latent.eventShape}]`);
  }
  const m = latent.eventShape[0]!;
  const features = unet.channels;
  const classes = ctx.input.classes;
  const [h, w] = ctx.input.size;
  const init = weightInitializer(o.init);
  const bias = biasInitializer(o.bias_init_std);
  const layers: LayerInfo[] = [];
  const convs: ConvLayer[] = [];
  for (let i = 0; i < o.layers; i++) {
    const cfg = { kernelSize: 1, inChannels: i === 0 ? features + m : o.width, outChannels: o.width };
    convs.push(createConv(tf, ctx.params, `conv${i + 1}`, { ...cfg, init, bias }));
    layers.push({ name: `conv${i + 1}`, op: 'conv2d', output: [h, w, o.width], flops: convFlops(h, w, cfg, o.activation), params: convParams(cfg) });
  }
  const logitsCfg = { kernelSize: 1, inChannels: o.width, outChannels: classes };
  const logitsConv = createConv(tf, ctx.params, 'logits', { ...logitsCfg, init, bias });
  layers.push({ name: 'logits', op: 'conv2d', output: [h, w, classes], flops: convFlops(h, w, logitsCfg, 'linear'), params: convParams(logitsCfg) });
  const first = convs[0]!;
  return {
    outputShapes: { logits: [h, w, classes] },
    layers,
    prepare(f) {
      return tf.tidy(() => {
        const wf = tf.slice(first.kernel, [0, 0, 0, 0], [1, 1, features, o.width]);
        return fusedConv(tf, f, wf, first.bias, 'linear');
      });
    },
    combine(prepared, z) {
      const activate = (t: Tensor) => (o.activation === 'relu' ? tf.relu(t) : tf.elu(t));
      return tf.tidy(() => {
        const [b, ph, pw] = prepared.shape as number[];
        const n = z.shape[1]!;
        const wz = tf.reshape(tf.slice(first.kernel, [0, 0, features, 0], [1, 1, m, o.width]), [m, o.width]);
        const zw = tf.reshape(tf.matMul(tf.reshape(z, [b! * n, m]), wz), [b!, n, o.width]);
        // Where the native kernels run, the n-fold add and the ReLU are one threaded pass.
        const oneKernel = o.activation === 'relu' && tf.getKernel(TILED_BIAS_RELU, tf.getBackend()) !== undefined;
        let x = oneKernel
          ? (tf.engine().runKernel(TILED_BIAS_RELU, { x: prepared, bias: zw }) as Tensor)
          : activate(tf.add(tf.expandDims(prepared, 1), tf.reshape(zw, [b!, n, 1, 1, o.width])));
        x = tf.reshape(x, [b! * n, ph!, pw!, o.width]);
        for (const conv of convs.slice(1)) x = conv.apply(x, o.activation);
        return tf.reshape(logitsConv.apply(x, 'linear'), [b!, n, ph!, pw!, classes]);
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Architecture

interface ProbUNetPrepared extends Prepared {
  combinerInput: Tensor;
}

/** Build order matters: encoders read the latent's head size, fcomb the U-Net's channels. */
const probUNetSlots = {
  unet: { contract: featureNet },
  latent: { contract: latentBlock },
  prior: { contract: latentEncoder },
  posterior: { contract: latentEncoder },
  combiner: { contract: combiner },
};

function composeProbUNet(tf: Tf, blocks: SlotBlocks<typeof probUNetSlots>): ProbabilisticSegmenter {
  const { unet, prior, posterior, latent, combiner } = blocks;
  const cached = (p: Prepared) => (p as ProbUNetPrepared).combinerInput;
  return {
    prepare(images) {
      // The U-Net and the prior run once here; sampling only re-runs the combiner.
      let priorDist: Distribution | undefined;
      // tidy keeps the returned tensors: the combiner input and the prior's parameters.
      const kept = tf.tidy(() => {
        priorDist = latent.distribution(prior.encode(images));
        return { combinerInput: combiner.prepare(unet.features(images)), params: { ...priorDist.params } };
      });
      const prepared: ProbUNetPrepared = {
        prior: priorDist!,
        combinerInput: kept.combinerInput,
        dispose() {
          tf.dispose([kept.combinerInput, ...Object.values(kept.params)]);
        },
      };
      return prepared;
    },
    sample(prepared, n, opts) {
      return tf.tidy(() => {
        const mode = opts.perScale?.[0] ?? 'sample';
        const z = mode === 'mean' ? tf.tile(tf.expandDims(prepared.prior.mean(), 1), [1, n, 1]) : prepared.prior.sample(n, opts.seed);
        return combiner.combine(cached(prepared), z);
      });
    },
    decode(prepared, z) {
      return tf.tidy(() => combiner.combine(cached(prepared), z));
    },
    trainForward(images, masks, seed) {
      const features = unet.features(images);
      const priorDist: Distribution = latent.distribution(prior.encode(images));
      const posteriorDist: Distribution = latent.distribution(posterior.encode(images, masks));
      const z = posteriorDist.sample(1, seed);
      const logits = combiner.combine(combiner.prepare(features), z);
      const [bs, , h, w, k] = logits.shape as number[];
      return {
        logits: tf.reshape(logits, [bs!, h!, w!, k!]),
        latents: [{ posterior: posteriorDist, prior: priorDist }],
      };
    },
  };
}

export default definePlugin({
  name: 'punet-prob-unet',
  version: '0.2.0',
  punetApi: '^2.0.0',
  blocks: {
    unet: defineBlock({
      description: 'U-Net (Kohl et al. 2018): conv levels with pooling, bilinear-up decoder with skips; ends in C[0] features.',
      roles: ['unet'],
      options: unetSchema,
      build: buildUNet,
    }),
    'conv-encoder': defineBlock({
      description: 'U-Net encoder (own weights) + mean over H, W + 1x1 head to the latent parameters: prior or posterior net.',
      roles: ['prior', 'posterior'],
      options: encoderSchema,
      needs: encoderNeeds,
      check(options, { role }) {
        // The posterior q(z|x,y) is conditioned on the segmentation; the prior p(z|x) must not see it.
        if (role === 'prior' && options.sees === 'image+mask') {
          return [{ option: 'sees', code: 'E405', message: 'the prior must not see the mask (masks are unknown at test time): write sees: image' }];
        }
        if (role === 'posterior' && options.sees === 'image') {
          return [{ option: 'sees', code: 'E404', message: 'the posterior must see the mask (it models q(z | image, mask)): write sees: "image+mask"' }];
        }
        return [];
      },
      build: buildLatentEncoder,
    }),
    gaussian: defineBlock({
      description: 'Axis-aligned Gaussian latent of size M: mu and a bounded log sigma from the encoder head.',
      roles: ['latent'],
      family: DIAG_GAUSSIAN,
      options: gaussianSchema,
      build: (ctx) => buildGaussian(ctx.tf, ctx.options),
    }),
    fcomb: defineBlock({
      description: "Combiner: z tiled over the image after the U-Net's last features, 1x1 convs to class logits.",
      roles: ['combiner'],
      options: fcombSchema,
      needs: fcombNeeds,
      build: buildFcomb,
    }),
  },
  architectures: {
    'prob-unet': defineArchitecture({
      description: 'Probabilistic U-Net (Kohl et al. 2018): U-Net + prior/posterior nets + global latent + fcomb.',
      slots: probUNetSlots,
      options: Type.Object({}, { additionalProperties: false }),
      compose: (ctx) => composeProbUNet(ctx.tf, ctx.blocks),
    }),
  },
});
