/**
 * `punet sample RUN`: prior samples of a trained run, as PNGs (image, annotations, samples,
 * foreground frequency, and an overview figure).
 */
import { existsSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { intFlag, parseCommandArgs } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { readPng } from '../../data/png.js';
import { resizeBilinear, toChannels } from '../../data/image-ops.js';
import type { Dataset, SplitName } from '../../data/types.js';
import { readJson, runPath } from '../../run/folder.js';
import { loadData, openRun, readRunSpec, useBackend } from '../../run/session.js';
import { sampleSplitToFolder } from '../../sample/report.js';

export const summary = 'Draw prior samples from a trained run and write them as PNGs';

const HELP = `usage: punet sample RUN [--image PNG | --split SPLIT] [options]

Samples segmentations from the model's PRIOR: the U-Net and the prior run once per image, all
samples come from one batched combiner pass.

options:
  --image PNG          sample this image (resized to the model's input size if needed)
  --split SPLIT        sample images of the run's data split: train, val or test (default: test)
  --limit K            at most K images of the split (default: 8)
  -n, --samples N      samples per image (default: 16)
  --out DIR            output folder (default: RUN/samples)
  --checkpoint WHICH   best (lowest validation GED, the default) or last
  --seed N             sampling seed (default: the run's seed)
  --backend B          auto, tensorflow, webgpu, wasm or cpu (default: the run's)
  --trust-plugins      load the run's plugins even if their files changed since training
  -h, --help           this help
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('sample', argv, {
    image: { type: 'string' },
    split: { type: 'string' },
    limit: { type: 'string' },
    samples: { type: 'string', short: 'n' },
    out: { type: 'string' },
    checkpoint: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    'trust-plugins': { type: 'boolean' },
  }, HELP);
  if (!args) return EXIT.ok;
  const { values, positionals } = args;
  if (positionals.length !== 1) throw new UserError(`sample: expected one RUN folder, got ${positionals.length ? positionals.join(' ') : 'none'}\n\n${HELP.trimEnd()}`, EXIT.usage);
  if (values.image && values.split) throw new UserError('sample: give either --image or --split, not both', EXIT.usage);
  const split = parseSplit('sample', values.split ?? 'test');
  const which = parseCheckpoint('sample', values.checkpoint);
  const n = intFlag('sample', 'samples', values.samples) ?? 16;
  const limit = intFlag('sample', 'limit', values.limit) ?? 8;
  const seed = intFlag('sample', 'seed', values.seed, true);
  if (values.image && !existsSync(values.image)) throw new UserError(`sample: image not found: ${values.image}`);

  const out = (s: string) => process.stdout.write(s);
  const warn = (s: string) => process.stderr.write(`warning: ${s}\n`);
  const runDir = positionals[0]!;
  // Validate the run folder before paying for backend start-up.
  if (!existsSync(runDir)) throw new UserError(`run folder not found: ${runDir}`);
  if (!existsSync(runPath(runDir, 'spec'))) throw new UserError(`${runDir} is not a punet run folder (no spec.json); give the folder compile-and-train printed`);
  const runSpec = readRunSpec(runPath(runDir, 'spec'));
  await useBackend(values.backend ?? runSpec.train.backend, values.backend ? '--backend' : 'train.backend in the run', out);

  const opened = await openRun(runDir, which, warn, { trustPlugins: values['trust-plugins'] as boolean | undefined });
  const { spec } = opened;
  const outDir = resolve(values.out ?? runPath(opened.runDir, 'samples'));
  try {
    const dataset = values.image ? imageDataset(values.image, spec.input) : await loadData(spec, opened.registry, opened.info.specDir || opened.runDir);
    const chosenSplit: SplitName = values.image ? 'test' : split;
    if (!dataset.splits[chosenSplit].length) throw new UserError(`the run's data has no ${chosenSplit} images`);
    const t0 = performance.now();
    const written = await sampleSplitToFolder(opened.model.segmenter, dataset, spec, { split: chosenSplit, n, limit, outDir, seed });
    const seconds = (performance.now() - t0) / 1000;
    out(`${opened.which} checkpoint (step ${opened.checkpoint.checkpoint.meta.step}): ${written.images} image(s) x ${n} samples in ${seconds.toFixed(2)}s\n`);
    out(`samples: ${outDir}\noverview: ${written.overview}\n`);
  } finally {
    opened.compiled.dispose();
  }
  return EXIT.ok;
}

export function parseSplit(command: string, value: string): SplitName {
  if (value === 'train' || value === 'val' || value === 'test') return value;
  throw new UserError(`${command}: --split must be train, val or test, got '${value}'`, EXIT.usage);
}

export function parseCheckpoint(command: string, value: string | undefined): 'best' | 'last' {
  if (value === undefined || value === 'best' || value === 'last') return value ?? 'best';
  throw new UserError(`${command}: --checkpoint must be best or last, got '${value}'`, EXIT.usage);
}

/** One PNG as a one-item dataset (test split), converted to the model's channels and size. */
function imageDataset(file: string, input: { size: [number, number]; channels: number; classes: number }): Dataset {
  const raster = readPng(file);
  const [h, w] = input.size;
  const c = input.channels;
  if (c !== 1 && c !== 3) throw new UserError(`--image: the model takes ${c}-channel images; only 1 or 3 channels can come from a PNG`);
  let image = raster.channels === c ? raster : toChannels(raster, c);
  if (image.width !== w || image.height !== h) image = resizeBilinear(image, w, h);
  const data = Float32Array.from(image.data, (v) => v / 255);
  return {
    name: basename(file),
    height: h,
    width: w,
    channels: c,
    classes: input.classes,
    items: [{ id: basename(file, extname(file)), group: 'image', image: data, annotations: [] }],
    splits: { train: [], val: [], test: [0] },
    provenance: { image: resolve(file) },
  };
}
