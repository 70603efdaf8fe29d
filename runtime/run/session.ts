/**
 * The steps the training, sampling and evaluation commands share: load and validate a spec,
 * apply command-line overrides, pick the data source, load data, select the backend, and reopen
 * a run folder (spec, plugins, compiled model, checkpoint weights).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { CompileError } from '../../compiler/errors.js';
import { createPluginRegistry, fileSha256, isPath, pluginVersionChanges, resolveSpecifier, type PluginRecord, type PluginRequest } from '../../compiler/plugin-loader.js';
import type { Registry } from '../../compiler/registry.js';
import { formatDiagnostics } from '../../spec/index.js';
import { commandRegistry, readSpec } from '../../spec/frontend-cli.js';
import type { BackendChoice, KindSpec, ResolvedSpec } from '../../spec/types.js';
import { BACKEND_REQUESTS, selectBackend, type BackendRequest } from '../backends/select.js';
import { EXIT, UserError } from '../cli/errors.js';
import { isDatasetDir } from '../data/store.js';
import type { Dataset } from '../data/types.js';
import { normalizeDataset } from '../data/normalize.js';
import { datasetProblems } from '../data/validate.js';
import { resolve as resolveContribution, withDefaults } from '../train/contributions.js';
import { restoreWeights } from '../train/snapshot.js';
import { readLatestCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { checkSameSpec } from './resume.js';
import { readJson, runPath } from './folder.js';
import { PUNET_VERSION } from './version.js';

export interface LoadedSpec {
  spec: ResolvedSpec;
  registry: Registry;
  file: string;
}

/**
 * Loads + validates a spec with its `use` plugins and the `--plugin` modules; prints diagnostics
 * (file:line:col) and fails with exit 1 on errors.
 */
export async function loadSpecOrFail(
  file: string,
  err: (s: string) => void,
  overrides: readonly string[] = [],
  cliPlugins: readonly string[] = [],
): Promise<LoadedSpec> {
  const abs = resolvePath(file);
  if (!existsSync(abs)) throw new UserError(`spec file not found: ${file}`);
  if (statSync(abs).isDirectory()) throw new UserError(`${file} is a folder; give the path of a .punet spec file`);
  const registry = await commandRegistry(cliPlugins);
  const result = await readSpec(abs, registry, overrides);
  if (result.diagnostics.length) err(formatDiagnostics(result.diagnostics, { sources: result.sources }) + '\n');
  if (!result.spec) {
    const n = result.diagnostics.filter((d) => d.severity === 'error').length;
    throw new UserError(`${file}: ${n} error${n === 1 ? '' : 's'} in the spec; fix ${n === 1 ? 'it' : 'them'} and run again`);
  }
  return { spec: result.spec, registry, file: abs };
}

export interface Overrides {
  data?: string;
  steps?: number;
  seed?: number;
  backend?: string;
}

/** The spec as it will be trained: command-line flags replace the spec's values (recorded in spec.json). */
export function applyOverrides(spec: ResolvedSpec, registry: Registry, o: Overrides): ResolvedSpec {
  const out = structuredClone(spec);
  if (o.steps !== undefined) out.train.steps = o.steps;
  if (o.seed !== undefined) out.train.seed = o.seed;
  if (o.backend !== undefined) out.train.backend = o.backend as BackendChoice;
  if (o.data !== undefined) out.train.data = dataSourceFromFlag(o.data, registry, out);
  return out;
}

/**
 * `--data`: a registered data source id (`synthetic`) or a folder: a punet dataset folder
 * (dataset.json) or a folder of PNGs.
 */
export function dataSourceFromFlag(value: string, registry: Registry, spec: ResolvedSpec): KindSpec {
  const asPath = resolvePath(value);
  if (existsSync(asPath)) {
    if (!statSync(asPath).isDirectory()) {
      throw new UserError(`--data ${value} is a file; give a folder (a punet dataset or a folder of PNGs) or a data source name (${registry.ids('dataSources').join(', ')})`);
    }
    const kind = isDatasetDir(asPath) ? 'dataset' : 'png-folder';
    return wrapCompile(() => withDefaults('dataSources', { kind, path: asPath }, registry, '--data', spec));
  }
  if (registry.get('dataSources', value)) return wrapCompile(() => withDefaults('dataSources', { kind: value }, registry, '--data', spec));
  throw new UserError(
    `--data ${value}: no such folder, and not a data source name (known: ${registry.ids('dataSources').join(', ')}); ` +
      'give a folder (a punet dataset or a folder of PNGs) or a data source name',
  );
}

/** Loads the spec's data and checks it fits the model's input. */
export async function loadData(spec: ResolvedSpec, registry: Registry, specDir: string): Promise<Dataset> {
  const { contribution, options } = wrapCompile(() => resolveContribution(registry, 'dataSources', spec.train.data, 'train.data', spec));
  const dataset = await contribution.load({ options, input: spec.input, seed: spec.train.seed, specDir });
  // Every source's result (built-in or a plugin's) is held to the rules an imported dataset obeys.
  const problems = datasetProblems(dataset, { input: spec.input, requireSplits: true });
  if (problems.length) throw new UserError(`${describeSource(registry, spec.train.data.kind)} returned unusable data: ${problems.join('; ')}; fix the data source or change the spec's input`);
  // input.normalize, the same for training, evaluation and sampling (runtime/data/normalize.ts).
  return normalizeDataset(dataset, spec.input.normalize);
}

/** `data source 'acme/shapes' (plugin acme 1.2.0)`: whose data it is, for error messages. */
function describeSource(registry: Registry, kind: string): string {
  const registered = registry.get('dataSources', kind);
  return registered ? `data source '${kind}' (plugin ${registered.plugin.name} ${registered.plugin.version})` : `data source '${kind}'`;
}

export function describeData(d: Dataset): string {
  return `data: ${d.name}, ${d.items.length} images ${d.height}x${d.width}x${d.channels} (train ${d.splits.train.length} / val ${d.splits.val.length} / test ${d.splits.test.length})`;
}

/** An unknown `--backend` value is a usage error (exit 2), found before any work starts. */
export function checkBackendFlag(value: string | undefined): void {
  if (value !== undefined && !(BACKEND_REQUESTS as readonly string[]).includes(value)) {
    throw new UserError(`--backend ${value}: unknown backend; choose one of ${BACKEND_REQUESTS.join(', ')}`, EXIT.usage);
  }
}

/** Selects the backend and prints its one-line report. */
export async function useBackend(requested: string, source: string, out: (s: string) => void): Promise<string> {
  if (source === '--backend') checkBackendFlag(requested);
  const selection = await selectBackend(requested as BackendRequest, { source });
  out(selection.report + '\n');
  return selection.name;
}

export function compileOrFail(spec: ResolvedSpec, registry: Registry): CompiledModel {
  return wrapCompile(() => compileModel(spec, registry, { seed: spec.train.seed }));
}

/** How a run was started (run.json). */
export interface RunInfo {
  specFile: string;
  specDir: string;
  punetVersion: string;
  started: string;
  command: string[];
  /** Every registered plugin with its version; those loaded from files also with the file's sha256 at training time. */
  plugins?: PluginRecord[];
  /** Provenance (runtime/run/provenance.ts); absent in runs made before it was recorded. */
  host?: string;
  /** The backend selection line printed at start. */
  backend?: string;
  git?: { commit: string; dirty: boolean };
  /** Last time the run was continued with --resume. */
  resumed?: string;
  ended?: string;
  /** Wall-clock seconds from `started` to `ended` (pauses between interrupt and resume included). */
  durationSeconds?: number;
  /** The step at which train.early_stop ended training. */
  earlyStopped?: number;
}

export interface OpenedRun {
  runDir: string;
  spec: ResolvedSpec;
  registry: Registry;
  info: RunInfo;
  compiled: CompiledModel;
  checkpoint: LoadedCheckpoint;
  which: 'best' | 'last';
}

export interface OpenRunOptions {
  /** Load the run's plugins even if their files changed since training. */
  trustPlugins?: boolean;
  /** `--plugin` modules to register first (relative to the current directory). */
  cliPlugins?: readonly string[];
}

/** Reopens a run folder with the weights of its best (or last) checkpoint. */
export async function openRun(runDir: string, which: 'best' | 'last', warn: (s: string) => void, opts: OpenRunOptions = {}): Promise<OpenedRun> {
  const dir = resolvePath(runDir);
  if (!existsSync(dir)) throw new UserError(`run folder not found: ${runDir}`);
  const specPath = runPath(dir, 'spec');
  if (!existsSync(specPath)) throw new UserError(`${runDir} is not a punet run folder (no spec.json); give the folder compile-and-train printed`);
  const spec = readRunSpec(specPath);
  const info: RunInfo = existsSync(runPath(dir, 'run'))
    ? readJson<RunInfo>(runPath(dir, 'run'))
    : { specFile: '', specDir: dir, punetVersion: 'unknown', started: '', command: [] };
  const use = runPluginRequests(spec.use, info, dir);
  if (use.length && !opts.trustPlugins) checkPluginHashes(use, info, runDir);
  let registry: Registry;
  try {
    registry = await createPluginRegistry({ cliPlugins: opts.cliPlugins, use });
  } catch (e) {
    throw new UserError(`cannot load the plugins of ${runDir}: ${(e as Error).message}`);
  }
  checkRecordedPluginsLoaded(info, registry, runDir);
  for (const change of pluginVersionChanges(info.plugins ?? [], registry, PUNET_VERSION)) warn(change);
  let checkpoint = which === 'best' ? readLatestCheckpoint(runPath(dir, 'best'), warn) : undefined;
  let used: 'best' | 'last' = which;
  if (!checkpoint) {
    if (which === 'best') used = 'last';
    checkpoint = readLatestCheckpoint(runPath(dir, 'checkpoints'), warn);
  }
  if (!checkpoint) throw new UserError(`${runDir} has no usable checkpoint yet (train it first, or resume it with --resume)`);
  // spec.json must describe what the checkpoint holds: otherwise eval would score another model.
  checkSameSpec(checkpoint.checkpoint.spec as ResolvedSpec, spec, checkpoint.dir);
  const compiled = compileOrFail(spec, registry);
  try {
    restoreWeights(compiled, checkpoint.checkpoint.weights);
  } catch (e) {
    compiled.dispose();
    throw new UserError(`${checkpoint.dir}: ${(e as Error).message}`);
  }
  return { runDir: dir, spec, registry, info, compiled, checkpoint, which: used };
}

/** A run's spec.json, refused with a one-line message when damaged (it is what the run trained). */
export function readRunSpec(path: string): ResolvedSpec {
  const spec = readJson<ResolvedSpec>(path);
  const ok = spec && typeof spec === 'object' && !Array.isArray(spec) && Array.isArray(spec.use) && typeof spec.train === 'object' && spec.train !== null;
  if (!ok) throw new UserError(`${path} is damaged (not a resolved punet spec); restore it from a checkpoint's spec.json (checkpoints/step-*/spec.json)`);
  return spec;
}

/**
 * The `use` lines of a run's spec.json as loader requests. Relative `use` lines are stored as
 * absolute paths. A package name loads the file run.json recorded for it (it was resolved from
 * the folder of the spec that wrote it, which may not be the top spec's); runs without that
 * record resolve it from the spec's folder.
 */
function runPluginRequests(uses: readonly string[], info: RunInfo, runDir: string): PluginRequest[] {
  const fromDir = info.specDir || runDir;
  return uses.map((specifier) => {
    const recorded = isPath(specifier) ? undefined : info.plugins?.find((r) => r.package === specifier && r.file && existsSync(r.file));
    return { specifier: recorded?.file ?? specifier, fromDir };
  });
}

/**
 * A run's plugins run as code when the run is reopened: refuse any whose file changed since
 * training (run.json `plugins` holds their sha256), unless the user trusts them explicitly.
 */
function checkPluginHashes(uses: PluginRequest[], info: RunInfo, runDir: string): void {
  const recorded = info.plugins;
  const fix = 'check the change, then pass --trust-plugins to load it anyway';
  if (!Array.isArray(recorded)) throw new UserError(`${runDir}/run.json records no plugin hashes, so its plugins (${uses.map((u) => u.specifier).join(', ')}) cannot be verified; ${fix}`);
  for (const use of uses) {
    const file = resolveSpecifier(use.specifier, use);
    const entry = recorded.find((r) => r.file === file);
    if (!entry) throw new UserError(`plugin ${file} (use '${use.specifier}') is not among the plugins ${runDir} was trained with; ${fix}`);
    if (fileSha256(file) !== entry.sha256) throw new UserError(`plugin ${file} ('${entry.name}') changed since ${runDir} was trained (sha256 differs); ${fix}`);
  }
}

/** A plugin the run was trained with through `--plugin` must be named again: its ids are in spec.json. */
function checkRecordedPluginsLoaded(info: RunInfo, registry: Registry, runDir: string): void {
  for (const r of info.plugins ?? []) {
    if (r.builtin || registry.pluginInfo(r.name)) continue;
    throw new UserError(
      `${runDir} was trained with plugin '${r.name}'${r.file ? ` (${r.file})` : ''}, which its spec does not \`use\`; ` +
        `pass it again with --plugin ${r.file ?? 'MODULE'}`,
    );
  }
}

export function specDirOf(info: RunInfo, fallback: string): string {
  return info.specDir || dirname(fallback);
}

/** Spec problems found while compiling are the user's to fix: no stack trace. */
export function wrapCompile<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CompileError) throw new UserError(`spec error at ${e.message}`);
    throw e;
  }
}
