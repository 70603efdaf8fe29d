/**
 * The public plugin API: the only surface a plugin (built-in or third party) sees.
 *
 * A plugin is a plain object: `name`, `version`, the plugin-API range it supports, and its
 * contributions by extension point. Every contribution declares a JSON Schema for its options;
 * punet validates options against it (defaults applied first) before calling the contribution,
 * so contribution code can trust `ctx.options`.
 */
import type * as tfNs from '@tensorflow/tfjs';
import type { BlockRole, InputSpec, KindSpec, ResolvedSpec } from '../spec/types.js';
import type { Dataset } from './dataset.js';

export type Tf = typeof tfNs;
export type Tensor = tfNs.Tensor;
export type Scalar = tfNs.Scalar;
export type Variable = tfNs.Variable;

/** The plugin API version this punet implements. Plugins declare a semver range against it. */
export const PLUGIN_API_VERSION = '1.0.0';

/** A JSON Schema (draft-07 subset that ajv 8 accepts) for a contribution's options. */
export type OptionsSchema = Record<string, unknown>;

export interface ContributionBase {
  /** One line, shown by `punet plugins` and in "did you mean" lists. */
  description: string;
  /** JSON Schema of the options object (the block's keys other than `kind`). */
  options: OptionsSchema;
  /**
   * Optional checks JSON Schema cannot express (e.g. "one more value than boundaries"), run on
   * schema-valid options with defaults applied. Each problem names the option path inside the
   * contribution's options (`values`, `widths.2`; '' = the whole object).
   */
  check?(options: any): OptionProblem[];
}

export interface OptionProblem {
  option: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Parameters

export type Initializer =
  | { kind: 'he-normal-truncated' }
  | { kind: 'orthogonal'; gain?: number }
  | { kind: 'glorot-uniform' }
  | { kind: 'truncated-normal'; std: number }
  | { kind: 'zeros' }
  | { kind: 'constant'; value: number };

/**
 * Creates named trainable variables. Names are paths (`prior/level2/conv1/kernel`); each
 * variable's initial value is drawn from a seed derived from the run seed and its name, so a
 * model's weights do not depend on the order blocks are built in.
 */
export interface ParamFactory {
  /** Creates `${scope}/${name}`. `regularize: true` marks it for weight decay (conv kernels). */
  variable(name: string, shape: number[], init: Initializer, opts?: { regularize?: boolean }): Variable;
  /** A factory whose names are prefixed with `${scope}/${name}`. */
  scope(name: string): ParamFactory;
}

/** One layer of a built block, for `punet inspect` and the FLOP counter. */
export interface LayerInfo {
  name: string;
  op: 'conv2d' | 'avgpool' | 'maxpool' | 'resize' | 'concat' | 'mean' | 'tile-add';
  /** Per-image output shape [H, W, C] (or [C]). */
  output: number[];
  /** Forward FLOPs per image: a multiply-add counts 2, a bias add / activation / pool read 1. */
  flops: number;
  params: number;
}

// ---------------------------------------------------------------------------------------------
// Distributions (what latent blocks produce)

/** A batch of distributions over latents, reparameterised so samples carry gradients. */
export interface Distribution {
  /** Family id, e.g. 'diag-gaussian'; KL estimators check it. */
  readonly family: string;
  /** Named parameter tensors, each [B, ...eventShape] (diag-gaussian: mu, log_sigma). */
  readonly params: Readonly<Record<string, Tensor>>;
  /** Shape of one latent, without the batch axis. */
  readonly eventShape: number[];
  /** n reparameterised samples per batch item: [B, n, ...eventShape]. Deterministic in `seed`. */
  sample(n: number, seed: number): Tensor;
  /** The mean, [B, ...eventShape]. */
  mean(): Tensor;
}

// ---------------------------------------------------------------------------------------------
// Blocks and architectures

export interface BuildContext<O> {
  tf: Tf;
  /** This contribution's options, validated, defaults applied. */
  options: O;
  input: InputSpec;
  /** The whole resolved spec, read-only (e.g. a prior reads `spec.latent`). */
  spec: Readonly<ResolvedSpec>;
  params: ParamFactory;
  /**
   * The blocks built before this one, in the order the architecture lists its roles
   * (required, then optional): e.g. a combiner reads the U-Net's output channels here.
   */
  blocks?: Readonly<Partial<Record<BlockRole, Block>>>;
}

/** A built block: its variables were created through `params`; `apply` is role specific. */
export interface Block {
  /** Free-form callable surface; the architecture that composes roles knows their shapes. */
  readonly [member: string]: unknown;
}

export interface BlockContribution<O = any, B extends Block = Block> extends ContributionBase {
  /** The roles this kind can fill (`unet`, `prior`, `posterior`, `latent`, `combiner`). */
  roles: BlockRole[];
  build(ctx: BuildContext<O> & { role: BlockRole }): B;
}

/** Tensors computed once per image before sampling (U-Net features, prior distribution, ...). */
export interface Prepared {
  /** The prior over latents for these images. */
  prior: Distribution;
  /** Everything the architecture caches; all of it is disposed by `dispose()`. */
  dispose(): void;
}

export interface TrainForward {
  /** Reconstruction logits [B, H, W, K] with latents drawn from the posterior. */
  logits: Tensor;
  /** One (posterior, prior) pair per latent scale; the flat model has one. */
  latents: Array<{ posterior: Distribution; prior: Distribution }>;
}

export interface SampleOptions {
  seed: number;
  /** Per latent scale: draw a sample, or take the mean (hierarchical sampling knob); one entry means every scale. */
  perScale?: Array<'sample' | 'mean'>;
}

/** What an architecture composes its blocks into; the runtime knows models only through this. */
export interface ProbabilisticSegmenter {
  /** Once per batch of images: U-Net features, prior, ... Caller disposes. Not inside a tidy. */
  prepare(images: Tensor): Prepared;
  /** n prior samples per image, logits [B, n, H, W, K], reusing `prepared` (no U-Net pass). */
  sample(prepared: Prepared, n: number, opts: SampleOptions): Tensor;
  /** Decodes given latents z [B, n, ...latentShape] with the prepared features: logits [B, n, H, W, K]. */
  decode(prepared: Prepared, z: Tensor): Tensor;
  /** Training forward pass; `masks` are int32 class ids [B, H, W]. Call inside tidy / a gradient. */
  trainForward(images: Tensor, masks: Tensor, seed: number): TrainForward;
}

export interface ArchitectureContribution<O = any> extends ContributionBase {
  /** Roles this architecture composes. Missing required roles are a semantic error. */
  roles: { required: BlockRole[]; optional?: BlockRole[] };
  compose(ctx: BuildContext<O> & { blocks: Partial<Record<BlockRole, Block>> }): ProbabilisticSegmenter;
}

// ---------------------------------------------------------------------------------------------
// Losses

export interface ReconstructionContext<O> {
  tf: Tf;
  options: O;
  /** [B, H, W, K] logits. */
  logits: Tensor;
  /** [B, H, W] int32 class ids. */
  labels: Tensor;
  /** The 0-based training step; absent outside training (losses with a schedule use their final form). */
  step?: number;
}

export interface LossContribution<O = any> extends ContributionBase {
  /** The batch's reconstruction loss as a scalar (convention of the kind: e.g. sum per image, mean over batch). */
  compute(ctx: ReconstructionContext<O>): Scalar;
}

export interface KLContribution<O = any> extends ContributionBase {
  /** The batch's KL term as a scalar, from one (posterior, prior) pair per latent scale. */
  compute(ctx: { tf: Tf; options: O; latents: TrainForward['latents']; seed: number }): Scalar;
}

/** JSON-serialisable state an objective keeps across steps (GECO's EMA and multiplier). */
export type ObjectiveState = Record<string, number>;

export interface ObjectiveContribution<O = any> extends ContributionBase {
  initialState(options: O): ObjectiveState;
  /** The loss to minimise; `logs` are scalars shown in progress and the metrics log. */
  combine(ctx: {
    tf: Tf;
    options: O;
    reconstruction: Scalar;
    kl: Scalar;
    pixelsPerImage: number;
    state: ObjectiveState;
  }): { loss: Scalar; logs?: Record<string, Scalar> };
  /** The state after a step, from the step's measured values (e.g. GECO's Lagrange ascent). */
  nextState?(ctx: { options: O; state: ObjectiveState; reconstruction: number; kl: number; pixelsPerImage: number }): ObjectiveState;
}

export interface RegularizerContribution<O = any> extends ContributionBase {
  compute(ctx: { tf: Tf; options: O; weights: Variable[] }): Scalar;
}

// ---------------------------------------------------------------------------------------------
// Evaluation (plain data, no tensors: anyone can call these)

/** A hard segmentation: class id per pixel, row-major, length H*W. */
export type Mask = Uint8Array;

export interface DistanceContribution<O = any> extends ContributionBase {
  /** d(a, b) >= 0, symmetric, d(a, a) = 0. `classes` counts the background class. */
  distance(a: Mask, b: Mask, ctx: { options: O; classes: number }): number;
}

export interface MetricContext<O> {
  options: O;
  samples: Mask[];
  annotations: Mask[];
  classes: number;
  distance: (a: Mask, b: Mask) => number;
  /** Foreground probability maps per sample, when the metric needs soft predictions. */
  probabilities?: Float32Array[];
  /** The known distribution over segmentations (built-in data only). */
  modes?: Array<{ mask: Mask; probability: number }>;
}

export interface MetricContribution<O = any> extends ContributionBase {
  /** Per image; the runtime averages over images (NaN values are skipped and counted). */
  compute(ctx: MetricContext<O>): number;
  /** Whether the metric needs `modes` (skipped with a note on data without them). */
  needsModes?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Training

export interface OptimizerHandle {
  optimizer: tfNs.Optimizer;
  setLearningRate(lr: number): void;
}

export interface OptimizerContribution<O = any> extends ContributionBase {
  create(ctx: { tf: Tf; options: O }): OptimizerHandle;
  /** The base learning rate that schedules scale. */
  baseLearningRate(options: O): number;
}

export interface ScheduleContribution<O = any> extends ContributionBase {
  learningRate(ctx: { options: O; step: number; baseLearningRate: number; totalSteps: number }): number;
}

export interface DataSourceContribution<O = any> extends ContributionBase {
  load(ctx: { options: O; input: InputSpec; seed: number; specDir: string }): Promise<Dataset>;
}

// ---------------------------------------------------------------------------------------------
// The plugin object

export interface Contributions {
  blocks: BlockContribution;
  architectures: ArchitectureContribution;
  losses: LossContribution;
  klEstimators: KLContribution;
  objectives: ObjectiveContribution;
  regularizers: RegularizerContribution;
  distances: DistanceContribution;
  metrics: MetricContribution;
  optimizers: OptimizerContribution;
  schedules: ScheduleContribution;
  dataSources: DataSourceContribution;
}

export type ExtensionPoint = keyof Contributions;

export const EXTENSION_POINTS: readonly ExtensionPoint[] = [
  'blocks',
  'architectures',
  'losses',
  'klEstimators',
  'objectives',
  'regularizers',
  'distances',
  'metrics',
  'optimizers',
  'schedules',
  'dataSources',
];

export type PunetPlugin = {
  name: string;
  version: string;
  /** Semver range of the plugin API this plugin was written for, e.g. "^1.0.0". */
  punetApi: string;
} & { [P in ExtensionPoint]?: Record<string, Contributions[P]> };

/** Identity helper that gives plugin authors type checking: `export default definePlugin({...})`. */
export function definePlugin<P extends PunetPlugin>(plugin: P): P {
  return plugin;
}

export type { KindSpec, BlockRole, InputSpec, ResolvedSpec, Dataset };
