/**
 * What the commands do after training: sample images of a split (or one PNG) into a folder, and
 * evaluate a split into eval.json + a terminal table.
 */
import { join } from 'node:path';
import type { ProbabilisticSegmenter } from '../../compiler/api.js';
import type { Registry } from '../../compiler/registry.js';
import type { Dataset, SplitName } from '../data/types.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { runPath, writeJsonAtomic } from '../run/folder.js';
import { STREAM } from '../train/rng.js';
import { evaluateSplit, formatEvalTable, type EvalReport } from './evaluate.js';
import { sampleItems } from './sampler.js';
import { writeSampleImages } from './write.js';
import { writeSampleGrid } from '../figures/run-figures.js';
import { replaceFolder } from './output-folder.js';

export interface SampleToFolderOptions {
  split: SplitName;
  n: number;
  /** At most this many images of the split (the first ones). */
  limit?: number;
  outDir: string;
  seed?: number;
  batchSize?: number;
}

export async function sampleSplitToFolder(
  segmenter: ProbabilisticSegmenter,
  dataset: Dataset,
  spec: ResolvedSpec,
  o: SampleToFolderOptions,
): Promise<{ images: number; files: string[]; overview?: string }> {
  const items = dataset.splits[o.split].slice(0, o.limit ?? Infinity);
  if (!items.length) return { images: 0, files: [] };
  const samples = await sampleItems(segmenter, dataset, items, o.n, {
    seed: o.seed ?? spec.train.seed,
    stream: STREAM.sampling,
    batchSize: o.batchSize ?? spec.train.batch_size,
  });
  const files = writeSampleImages(
    o.outDir,
    items.map((index, k) => ({
      id: dataset.items[index]!.id,
      image: dataset.items[index]!.image,
      annotations: dataset.items[index]!.annotations,
      samples: samples[k]!.masks,
    })),
    { height: dataset.height, width: dataset.width, channels: dataset.channels, classes: Math.max(dataset.classes, spec.input.classes) },
  );
  const grid = writeSampleGrid(join(o.outDir, 'sample-grid.png'), dataset, items, samples, { classes: spec.input.classes });
  return { images: items.length, files: [grid, ...files], overview: grid };
}

/** Images shown in the evaluation figure. */
const FIGURE_IMAGES = 8;

export interface EvaluateAndWriteOptions {
  split: SplitName;
  sampleCounts: number[];
  runDir: string;
  checkpoint: { which: 'best' | 'last'; step: number };
  seed?: number;
  perScale?: Array<'sample' | 'mean'>;
  /**
   * Folder for eval.json and the evaluation figure (`punet eval`: RUN/eval/<name>, replaced as a
   * whole). Without it: the training-time files RUN/eval.json and RUN/samples/eval-grid.png.
   */
  outDir?: string;
  /** Also score the prior-mean (deterministic) prediction on the same images (default true). */
  baseline?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface WrittenEval {
  report: EvalReport & { checkpoint: { which: string; step: number }; latent: string; time: string };
  table: string;
  path: string;
}

export async function evaluateAndWrite(
  segmenter: ProbabilisticSegmenter,
  dataset: Dataset,
  spec: ResolvedSpec,
  registry: Registry,
  o: EvaluateAndWriteOptions,
): Promise<WrittenEval> {
  const write = (dir: string | undefined) => evaluateInto(segmenter, dataset, spec, registry, o, dir);
  if (!o.outDir) return write(undefined);
  let written: WrittenEval | undefined;
  await replaceFolder(o.outDir, async (tmp) => {
    written = await write(tmp);
  }, 'eval.json');
  const path = join(o.outDir, 'eval.json');
  return { ...written!, path };
}

async function evaluateInto(
  segmenter: ProbabilisticSegmenter,
  dataset: Dataset,
  spec: ResolvedSpec,
  registry: Registry,
  o: EvaluateAndWriteOptions,
  dir: string | undefined,
): Promise<WrittenEval> {
  const gridFile = dir ? join(dir, 'eval-grid.png') : join(runPath(o.runDir, 'samples'), 'eval-grid.png');
  const seed = o.seed ?? spec.train.seed;
  const base = await evaluateSplit(segmenter, dataset, spec, registry, {
    split: o.split,
    sampleCounts: o.sampleCounts,
    seed,
    batchSize: spec.train.batch_size,
    perScale: o.perScale,
    onProgress: o.onProgress,
    // The figure shows what was scored: the first images with (up to) 16 of their samples.
    onSamples: (items, samples) => {
      const k = Math.min(FIGURE_IMAGES, items.length);
      const shown = samples.slice(0, k).map((s) => ({ masks: s.masks.slice(0, 16), foreground: s.foreground.slice(0, 16) }));
      writeSampleGrid(gridFile, dataset, items.slice(0, k), shown, { classes: spec.input.classes });
    },
  });
  // The deterministic baseline: every sample is the prior-mean prediction, so one is enough.
  if ((o.baseline ?? true) && !o.perScale) {
    try {
      const mean = await evaluateSplit(segmenter, dataset, spec, registry, {
        split: o.split,
        sampleCounts: [1],
        seed,
        batchSize: spec.train.batch_size,
        perScale: ['mean'],
      });
      base.baseline = { 'prior-mean': { results: mean.results } };
    } catch (e) {
      // A plugin architecture that cannot decode its prior mean costs the baseline, not the evaluation.
      base.skipped.push({ metric: 'prior-mean baseline', reason: (e as Error).message });
    }
  }
  const report = { ...base, checkpoint: o.checkpoint, latent: o.perScale ? o.perScale.join(',') : 'sample', time: new Date().toISOString() };
  const path = dir ? join(dir, 'eval.json') : runPath(o.runDir, 'eval');
  writeJsonAtomic(path, jsonSafe(report));
  const table = `${formatEvalTable(base)}\n(checkpoint: ${o.checkpoint.which}, step ${o.checkpoint.step}${o.perScale ? `; latent: ${report.latent}` : ''})`;
  return { report, table, path };
}

/** NaN is not JSON: written as null. */
export function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}
