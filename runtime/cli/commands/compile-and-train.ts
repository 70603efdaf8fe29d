/**
 * `punet compile-and-train SPEC`: spec -> backend -> data -> compiled model -> training ->
 * samples and evaluation on the test split, all in one run folder.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { intFlag, parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { listCheckpoints } from '../../run/checkpoint.js';
import { newRunDir, readJson, runPath, writeJsonAtomic } from '../../run/folder.js';
import { endProvenance, startProvenance } from '../../run/provenance.js';
import { PUNET_VERSION } from '../../run/version.js';
import { acquireRunLock, checkRunFolder } from '../../run/ownership.js';
import { checkResumable } from '../../run/resume.js';
import { pluginRecords } from '../../../compiler/plugin-loader.js';
import { checkBudget, estimateResources, memoryLimit } from '../../../spec/budget.js';
import {
  applyOverrides,
  compileOrFail,
  describeData,
  loadData,
  loadSpecOrFail,
  useBackend,
  type RunInfo,
} from '../../run/session.js';
import { ResumeError, train, TrainingDivergedError } from '../../train/trainer.js';
import { restoreWeights } from '../../train/snapshot.js';
import { readLatestCheckpoint } from '../../run/checkpoint.js';
import { evaluateAndWrite, sampleSplitToFolder } from '../../sample/report.js';
import { specHash } from '../../../compiler/provenance.js';
import type { ProbabilisticSegmenter } from '../../../compiler/api.js';
import type { ResolvedSpec } from '../../../spec/types.js';
import type { Dataset } from '../../data/types.js';
import { latentGridForImage, writeLatentGrid } from '../../figures/run-figures.js';
import { LatentGridError } from '../../figures/latent-decode.js';
import { writeReport } from '../../report/write.js';

export const summary = 'Train a spec end to end: compile, train, sample and evaluate (writes a run folder)';

const HELP = `usage: punet compile-and-train SPEC [options]
       compile-and-train SPEC [options]

Compiles the .punet spec, trains it, then samples and evaluates it on the test split.

options:
  --data SOURCE    data instead of the spec's: a data source name (synthetic) or a folder
                   (a punet dataset folder, or a folder of PNGs)
  --steps N        training steps (overrides train.steps)
  --out RUN_DIR    run folder (default: runs/<model>-<timestamp>)
  --seed N         run seed (overrides train.seed)
  --backend B      auto, tensorflow, webgpu, wasm or cpu (overrides train.backend)
  --resume         continue the run in --out from its last good checkpoint
  --set PATH=VALUE override one value of the spec (repeatable), e.g. --set train.optimizer.lr=1e-3;
                   checked like the spec, recorded in spec.json
${pluginHelp(19)}
  -h, --help       this help
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('compile-and-train', argv, {
    data: { type: 'string' },
    steps: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    resume: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    ...PLUGIN_FLAG,
  }, HELP);
  if (!args) return EXIT.ok;
  const { values, positionals } = args;
  if (positionals.length !== 1) {
    throw new UserError(`compile-and-train: expected one SPEC file, got ${positionals.length ? positionals.join(' ') : 'none'}\n\n${HELP.trimEnd()}`, EXIT.usage);
  }
  const steps = intFlag('compile-and-train', 'steps', values.steps);
  const seed = intFlag('compile-and-train', 'seed', values.seed, true);
  if (values.resume && !values.out) throw new UserError('compile-and-train: --resume needs --out RUN_DIR (the run folder to continue)', EXIT.usage);

  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  const sets = values.set ?? [];
  const loaded = await loadSpecOrFail(positionals[0]!, err, sets, pluginFlags(values));
  const spec = applyOverrides(loaded.spec, loaded.registry, { data: values.data, steps, seed, backend: values.backend });
  const registry = loaded.registry;

  const runDir = values.out ? resolve(values.out) : newRunDir('runs', spec.model);
  const shownOut = values.out ?? runDir;
  // Every check before the first write: a refused run leaves the folder exactly as it was.
  checkRunFolder(runDir, shownOut);
  if (values.resume) checkResumable(runDir, spec, shownOut);
  else if (existsSync(runDir) && listCheckpoints(runPath(runDir, 'checkpoints')).length) {
    throw new UserError(`${shownOut} already holds a trained run; continue it with --resume, or choose another --out`);
  }
  checkBudget(estimateResources(spec, dirname(loaded.file)), memoryLimit());

  let backendLine = '';
  await useBackend(spec.train.backend, values.backend ? '--backend' : `train.backend in ${relative(process.cwd(), loaded.file) || loaded.file}`, (s) => {
    backendLine = s.trim();
    out(s);
  });
  const dataset = await loadData(spec, registry, dirname(loaded.file));
  out(describeData(dataset) + '\n');
  if (dataset.splits.test.length === 0) {
    throw new UserError(
      `the data (${dataset.name}) has no test images, so the trained model could not be evaluated; ` +
        'give it a test share (e.g. punet import --split 0.7,0.15,0.15, or a larger synthetic count)',
    );
  }
  const compiled = compileOrFail(spec, registry);
  out(`model: ${spec.model}, ${compiled.parameterCount.toLocaleString('en-US')} parameters\n`);
  out(`run folder: ${runDir}\n`);

  acquireRunLock(runDir, shownOut);
  // A fresh run in a killed run's folder (no checkpoint): its stale log and best/ would mix in.
  if (!values.resume) for (const stale of [runPath(runDir, 'metrics'), runPath(runDir, 'best')]) rmSync(stale, { recursive: true, force: true });
  writeJsonAtomic(runPath(runDir, 'spec'), spec);
  const info: RunInfo = {
    specFile: loaded.file,
    specDir: dirname(loaded.file),
    punetVersion: PUNET_VERSION,
    started: new Date().toISOString(),
    command: ['compile-and-train', ...argv],
    plugins: pluginRecords(registry, PUNET_VERSION),
    ...startProvenance(dirname(loaded.file), backendLine),
  };
  if (!values.resume || !existsSync(runPath(runDir, 'run'))) writeJsonAtomic(runPath(runDir, 'run'), info);
  else writeJsonAtomic(runPath(runDir, 'run'), { ...readJson<RunInfo>(runPath(runDir, 'run')), resumed: new Date().toISOString() });

  // First Ctrl-C: finish the step, checkpoint, exit 130. Second: exit at once.
  const stop = { requested: false };
  const onSigint = () => {
    if (stop.requested) process.exit(EXIT.interrupted);
    stop.requested = true;
    err('\ninterrupt: finishing the current step and saving a checkpoint (press Ctrl-C again to quit without saving)\n');
  };
  process.on('SIGINT', onSigint);
  let result;
  try {
    result = await train({ spec, registry, model: compiled, dataset, runDir, specHash: specHash(spec), resume: values.resume, stop });
  } catch (e) {
    compiled.dispose();
    if (e instanceof TrainingDivergedError) throw new UserError(`${pluginTermNote(spec, e.failure.term)}${e.message}`);
    if (e instanceof ResumeError) throw new UserError(e.message);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (result.status === 'interrupted') {
    const specArg = positionals[0]!;
    err(
      `stopped at step ${result.step}/${spec.train.steps}; checkpoint saved in ${result.lastCheckpoint}\n` +
        `resume with: compile-and-train ${specArg} --out ${runDir} --resume${sets.map((s) => ` --set '${s}'`).join('')}${values.data ? ` --data ${values.data}` : ''}${steps ? ` --steps ${steps}` : ''}${seed !== undefined ? ` --seed ${seed}` : ''}${values.backend ? ` --backend ${values.backend}` : ''}\n`,
    );
    compiled.dispose();
    return EXIT.interrupted;
  }

  // Evaluate the checkpoint chosen by validation GED when there is one, else the last weights.
  const best = readLatestCheckpoint(runPath(runDir, 'best'), (m) => err(`warning: ${m}\n`));
  if (best) restoreWeights(compiled, best.checkpoint.weights);
  const which = best ? `best checkpoint (step ${best.checkpoint.meta.step}, validation GED ${best.checkpoint.meta.best?.ged.toFixed(4) ?? '?'})` : `last checkpoint (step ${result.step})`;
  out(`training done: ${result.step} steps. Evaluating the ${which} on the test split.\n`);

  const samplesDir = runPath(runDir, 'samples');
  const written = await sampleSplitToFolder(compiled.segmenter, dataset, spec, { split: 'test', n: 16, limit: 8, outDir: samplesDir });
  const report = await evaluateAndWrite(compiled.segmenter, dataset, spec, registry, {
    split: 'test',
    sampleCounts: spec.eval.samples,
    runDir,
    checkpoint: best ? { which: 'best', step: best.checkpoint.meta.step } : { which: 'last', step: result.step },
  });
  const latentGrid = await writeFirstLatentGrid(compiled.segmenter, dataset, spec, samplesDir, (m) => err(`note: ${m}\n`));
  compiled.dispose();
  const page = await writeReport(runDir);
  const started = readJson<RunInfo>(runPath(runDir, 'run'));
  writeJsonAtomic(runPath(runDir, 'run'), { ...started, ...endProvenance(started.started), ...(result.status === 'early-stopped' ? { earlyStopped: result.step } : {}) });
  out(report.table + '\n\n');
  out(`run:         ${runDir}\n`);
  out(`samples:     ${written.overview ?? samplesDir}${written.images ? ` (${written.images} test images, 16 samples each)` : ''}\n`);
  if (latentGrid) out(`latent grid: ${latentGrid}\n`);
  out(`evaluation:  ${runPath(runDir, 'eval')}\n`);
  out(`metrics:     ${runPath(runDir, 'metrics')}\n`);
  out(`report:      ${page.path}\n`);
  return EXIT.ok;
}

/** "plugin loss 'x/y': " when the non-finite term comes from a plugin (ids of plugins have a '/'), so the user knows whose code to check. */
function pluginTermNote(spec: ResolvedSpec, term: string): string {
  const part = { reconstruction: spec.loss.reconstruction, KL: spec.loss.kl, regularization: spec.loss.regularization }[term] ?? spec.loss.objective;
  return part.kind.includes('/') ? `plugin ${term === 'reconstruction' ? 'loss' : term} '${part.kind}': ` : '';
}

/** The latent-space figure of the first test image; models without a Gaussian prior get a note instead. */
async function writeFirstLatentGrid(
  segmenter: ProbabilisticSegmenter,
  dataset: Dataset,
  spec: ResolvedSpec,
  dir: string,
  note: (message: string) => void,
): Promise<string | undefined> {
  const index = dataset.splits.test[0];
  if (index === undefined) return undefined;
  const item = dataset.items[index]!;
  try {
    const grid = await latentGridForImage(segmenter, item.image, {
      imageId: item.id,
      height: dataset.height,
      width: dataset.width,
      channels: dataset.channels,
      classes: spec.input.classes,
    });
    const file = join(dir, `latent-grid-${item.id.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
    return writeLatentGrid(file, grid); // PNG and SVG
  } catch (e) {
    if (e instanceof LatentGridError) {
      note(`no latent grid: ${e.message}`);
      return undefined;
    }
    throw e;
  }
}
