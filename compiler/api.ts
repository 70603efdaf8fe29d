/**
 * The public plugin API: the only surface a plugin (built-in or third party) sees.
 *
 * A plugin is a plain object: `name`, `version`, the plugin-API range it supports, and its
 * contributions by extension point. Every contribution declares a JSON Schema for its options;
 * punet validates options against it (defaults applied first) before calling the contribution,
 * so contribution code can trust `ctx.options`.
 */
import type * as tfNs from '@tensorflow/tfjs';
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import type { BlockRole, InputSpec, KindSpec, ResolvedSpec } from '../spec/types.js';
import type { Dataset } from '../runtime/data/types.js';

export type Tf = typeof tfNs;
export type Tensor = tfNs.Tensor;
export type Scalar = tfNs.Scalar;
export type Variable = tfNs.Variable;

/** The plugin API version this punet implements. Plugins declare a semver range against it. */
export const PLUGIN_API_VERSION = '2.0.0';

/**
 * A JSON Schema (draft-07 subset that ajv 8 accepts) for a contribution's options. Write it with
 * TypeBox (`Type.Object(...)`) and `defineBlock` / `defineArchitecture` / ... give `ctx.options`
 * its static type from the one schema.
 */
export type OptionsSchema = TSchema | Record<string, unknown>;

/** The options type a schema describes (`any` for a plain JSON Schema object). */
export type OptionsOf<S> = S extends TSchema ? Static<S> : any;

/**
 * One of a few names, as a JSON Schema `enum` (TypeBox's `Union` of literals would be an
 * `anyOf`, whose errors cannot say "did you mean"): `StringEnum(['relu', 'elu'], { default: 'relu' })`.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, enum: [...values] });
}

export interface ContributionBase<O = any> {
  /** One line, shown by `punet plugins` and in "did you mean" lists. */
  description: string;
  /** JSON Schema of the options object (the block's keys other than `kind`); TypeBox schemas are JSON Schema. */
  options: OptionsSchema;
  /**
   * Rules JSON Schema cannot express (e.g. "one more value than boundaries", "a prior cannot see
   * the mask"), run on schema-valid options with defaults applied, by `punet check` and by the
   * compiler alike. Each problem names the option path inside the contribution's options
   * (`values`, `widths.2`; '' = the whole object).
   */
  check?(options: O, ctx: CheckContext): OptionProblem[];
}

/** What a contribution's `check` may look at besides its own options (read-only). */
export interface CheckContext {
  input: Readonly<InputSpec>;
  /** The whole resolved spec, for rules that relate this entry to others (e.g. an architecture that needs a particular loss). */
  spec: Readonly<ResolvedSpec>;
  /** The spec path of the entry being checked, e.g. `prior` or `loss.kl`. */
  path: string;
  /** For blocks: the role this block fills. */
  role?: BlockRole;
}

export interface OptionProblem {
  /** Option path inside the contribution's options; '' = the entry itself. */
  option: string;
  /** Where to point instead, when the cause is better shown elsewhere in the spec (e.g. `input.size`). */
  at?: string;
  message: string;
  /** Default 'error'. A warning is printed by `check` and does not stop compilation. */
  severity?: 'error' | 'warning';
  /** Diagnostic code (built-ins keep their documented codes); default E412 (error) / W412 (warning). */
  code?: string;
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
  /** Marginal standard deviation of each latent coordinate, [B, ...eventShape] (low-rank factors included). */
  stddev(): Tensor;
  /** Log-density of latents z [B, n, ...eventShape] under each batch item's distribution: [B, n]. */
  logProb(z: Tensor): Tensor;
}

// ---------------------------------------------------------------------------------------------
// Blocks and architectures

/**
 * What a value held by a block member must be. Checked when a block is built, so a block that
 * cannot fill a role is reported there, naming the role, the member and what it must be.
 */
export type MemberKind = 'function' | 'number' | 'integer' | 'boolean' | 'string' | 'number[]' | 'object';

/** A member's kind; a trailing '?' marks a member the block may leave out (e.g. `layers`, for inspect). */
export type MemberSpec = MemberKind | `${MemberKind}?`;

/** Every member of B with the kind of value it holds. Exhaustive: a member left out is a type error. */
export type MemberTable<B> = { readonly [K in keyof B]-?: MemberSpec };

/**
 * A role contract: what a block must provide to fill a role of an architecture (or to be read by
 * another block while it builds). `B` is the static type; `members` checks it at run time.
 */
export interface RoleContract<B = unknown> {
  /** Short name for messages, e.g. 'prob-unet latent'. */
  readonly name: string;
  /** One line: what a block in this role does. */
  readonly description: string;
  readonly members: MemberTable<B>;
  /** Type carrier only (never set). */
  readonly __block?: B;
}

/** A contract from its static type and the matching (exhaustive) member table. */
export function defineContract<B>(name: string, description: string, members: MemberTable<B>): RoleContract<B> {
  return { name, description, members };
}

/** The block type a contract describes. */
export type BlockOf<C> = C extends RoleContract<infer B> ? B : never;

/** Contracts by role: what a block reads from blocks built before it, or what an architecture's slots require. */
export type RoleContracts = { readonly [R in BlockRole]?: RoleContract<any> };

/** The typed blocks that satisfy `N`'s contracts, by role. */
export type BlocksOf<N extends RoleContracts> = { readonly [R in keyof N]: BlockOf<N[R]> };

export interface BuildContext<O, N extends RoleContracts = {}> {
  tf: Tf;
  /** This contribution's options, validated, defaults applied. */
  options: O;
  input: Readonly<InputSpec>;
  params: ParamFactory;
  /** The role this block is built for. */
  role: BlockRole;
  /**
   * The blocks this one declared in `needs`, already built (the architecture's slot order puts
   * them first) and checked against the contracts `needs` names.
   */
  blocks: BlocksOf<N>;
}

/** A built block: whatever object its contribution returns; the role contract says what it must hold. */
export type Block = object;

export interface BlockContribution<O = any, B extends Block = Block, N extends RoleContracts = any> extends ContributionBase<O> {
  /** The roles this kind can fill (`unet`, `prior`, `posterior`, `latent`, `combiner`). */
  roles: BlockRole[];
  /** Blocks this one reads while building (by role), with the contract each must satisfy. */
  needs?: N;
  /** The distribution family this block produces, for latent blocks (`diag-gaussian`): KL estimators declare which families they handle. */
  family?: string;
  build(ctx: BuildContext<O, N>): B;
}

/** One role an architecture composes: the contract its block must satisfy. */
export interface RoleSlot<B = unknown> {
  contract: RoleContract<B>;
  /** A spec may leave an optional role out; compose then gets `undefined` for it. */
  optional?: boolean;
}

/** An architecture's slots by role. Key order is build order. */
export type RoleSlots = { readonly [R in BlockRole]?: RoleSlot<any> };

/** The composed blocks an architecture receives, typed by its slots. */
export type SlotBlocks<S extends RoleSlots> = {
  readonly [R in keyof S]: S[R] extends RoleSlot<infer B> ? (S[R] extends { optional: true } ? B | undefined : B) : never;
};

export interface ComposeContext<O, S extends RoleSlots> {
  tf: Tf;
  options: O;
  input: Readonly<InputSpec>;
  params: ParamFactory;
  blocks: SlotBlocks<S>;
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

export interface ArchitectureContribution<O = any, S extends RoleSlots = any> extends ContributionBase<O> {
  /** The roles this architecture composes, in build order, each with the contract its block must satisfy. */
  slots: S;
  compose(ctx: ComposeContext<O, S>): ProbabilisticSegmenter;
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

export interface LossContribution<O = any> extends ContributionBase<O> {
  /** The batch's reconstruction loss as a scalar (convention of the kind: e.g. sum per image, mean over batch). */
  compute(ctx: ReconstructionContext<O>): Scalar;
}

export interface KLContribution<O = any> extends ContributionBase<O> {
  /** Distribution families this estimator handles (the latent block's `family`); absent = any. */
  families?: string[];
  /** The batch's KL term as a scalar, from one (posterior, prior) pair per latent scale. */
  compute(ctx: { tf: Tf; options: O; latents: TrainForward['latents']; seed: number }): Scalar;
}

/** JSON-serialisable state an objective keeps across steps (GECO's EMA and multiplier). */
export type ObjectiveState = Record<string, number>;

export interface ObjectiveContribution<O = any> extends ContributionBase<O> {
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

export interface RegularizerContribution<O = any> extends ContributionBase<O> {
  compute(ctx: { tf: Tf; options: O; weights: Variable[] }): Scalar;
}

// ---------------------------------------------------------------------------------------------
// Evaluation (plain data, no tensors: anyone can call these)

/** A hard segmentation: class id per pixel, row-major, length H*W. */
export type Mask = Uint8Array;

export interface DistanceContribution<O = any> extends ContributionBase<O> {
  /** d(a, b) >= 0, symmetric, d(a, a) = 0. Masks are row-major [height, width]; `classes` counts the background class. */
  distance(a: Mask, b: Mask, ctx: { options: O; classes: number; height: number; width: number }): number;
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

export interface MetricContribution<O = any> extends ContributionBase<O> {
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

export interface OptimizerContribution<O = any> extends ContributionBase<O> {
  create(ctx: { tf: Tf; options: O }): OptimizerHandle;
  /** The base learning rate that schedules scale. */
  baseLearningRate(options: O): number;
}

export interface ScheduleContribution<O = any> extends ContributionBase<O> {
  learningRate(ctx: { options: O; step: number; baseLearningRate: number; totalSteps: number }): number;
}

export interface DataSourceContribution<O = any> extends ContributionBase<O> {
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

/** A block contribution typed from its TypeBox options schema, its `needs` and what `build` returns. */
export function defineBlock<S extends OptionsSchema, B extends Block, N extends RoleContracts = {}>(
  block: Omit<BlockContribution<OptionsOf<S>, B, N>, 'options'> & { options: S },
): BlockContribution<OptionsOf<S>, B, N> {
  return block;
}

/** An architecture typed from its TypeBox options schema and its slots. */
export function defineArchitecture<S extends OptionsSchema, Slots extends RoleSlots>(
  architecture: Omit<ArchitectureContribution<OptionsOf<S>, Slots>, 'options'> & { options: S },
): ArchitectureContribution<OptionsOf<S>, Slots> {
  return architecture;
}

/** Any other contribution typed from its TypeBox options schema: `defineContribution<LossContribution>()({...})`. */
export function defineContribution<C extends ContributionBase>() {
  return <S extends OptionsSchema>(contribution: Omit<C, 'options' | 'check'> & { options: S; check?(options: OptionsOf<S>, ctx: CheckContext): OptionProblem[] }) =>
    contribution as unknown as C;
}

/** Identity helper that gives plugin authors type checking: `export default definePlugin({...})`. */
export function definePlugin<P extends PunetPlugin>(plugin: P): P {
  return plugin;
}

export type { KindSpec, BlockRole, InputSpec, ResolvedSpec, Dataset };
