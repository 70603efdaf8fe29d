/**
 * punet's public API. Everything here works on plain data or through the registry; the CLI is
 * built on exactly these entry points.
 *
 *   import { ged, hungarianIoU, sampleDiversity, ncc } from 'punet';
 *   import { createRegistry, loadSpec, compileModel } from 'punet';
 *   import { loadRun, readImage } from 'punet';      // a trained run as a model (docs/api.md)
 */

// Evaluation metrics on plain masks (Uint8Array of class ids or nested number[][]).
export * from './runtime/eval/index.js';

// The plugin API and the registry.
export * from './compiler/api.js';
export { Registry, PluginError } from './compiler/registry.js';
export type { Registered } from './compiler/registry.js';
export { createRegistry, builtinPlugins } from './plugins/index.js';
export { loadPlugin, loadPlugins, PluginLoadError } from './compiler/plugin-loader.js';
// For plugin authors: the shared distributions and the surfaces of the built-in blocks' roles.
export { diagGaussian, lowRankGaussian, floorLogVariance, DIAG_GAUSSIAN, LOW_RANK_GAUSSIAN } from './plugins/toolkit/distributions.js';
export type { LowRankGaussian } from './plugins/toolkit/distributions.js';
export { contractViolations, slotOrder } from './compiler/contracts.js';
// The role contracts of the built-in architectures, for plugins that fill or reuse their roles.
export * as probUNetContracts from './plugins/builtin/contracts.js';
export type { Described, FeatureNet, LatentEncoder, LatentBlock, Combiner } from './plugins/builtin/contracts.js';
export type { LayerInfo } from './plugins/toolkit/nn.js';

// The language front end.
export { loadSpec, checkSource, formatDiagnostics, hasErrors, buildSchema } from './spec/index.js';
export type { Diagnostic, SpecResult, LoadSpecOptions } from './spec/index.js';
export type { ResolvedSpec, KindSpec, BlockRole, EvalSpec, TrainSpec, LossSpec, BackendChoice } from './spec/types.js';

// The compiler and one training step (what a plugin's own tests drive).
export { compileModel } from './compiler/compile.js';
export type { CompiledModel, CompileModelOptions } from './compiler/compile.js';
export { compileTraining, trainStep, NonFiniteLossError } from './compiler/training.js';
export type { CompiledTraining, StepResult, StepModel } from './compiler/training.js';
export { specHash } from './compiler/provenance.js';

// Backends and data.
export { selectBackend } from './runtime/backends/select.js';
export type { Dataset, DataItem, Mode } from './runtime/data/types.js';
export { syntheticDataset } from './runtime/data/synthetic.js';
export { readDataset, writeDataset } from './runtime/data/store.js';
export { readPng, writePng } from './runtime/data/png.js';

// Trained runs as models (docs/api.md).
export { loadRun } from './runtime/api/model.js';
export type { LoadRunOptions, PunetModel, ImagesInput } from './runtime/api/model.js';
export { readImage } from './runtime/api/image.js';
export type { ReadImageOptions, ModelImage } from './runtime/api/image.js';
export type { ImageSamples } from './runtime/sample/sampler.js';
export { UserError } from './runtime/cli/errors.js';
export { DataError } from './runtime/data/errors.js';
