/**
 * `punet sample RUN`: prior samples of a trained run, as PNGs (image, annotations, samples,
 * foreground frequency, and an overview figure).
 */
import { existsSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { intFlag, parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { checkImageFlag, prepareImageFlag } from '../image-flag.js';
import type { SplitName } from '../../data/types.js';
import { runPath, writeJsonAtomic } from '../../run/folder.js';
import { checkResultName, replaceFolder, resultName } from '../../sample/output-folder.js';
import { loadData, openRun, readRunSpec, useBackend } from '../../run/session.js';
import { sampleSplitToFolder } from '../../sample/report.js';

export const summary = 'Draw prior samples from a trained run and write them as PNGs';

const HELP = `usage: punet sample RUN [--image PNG | --split SPLIT] [options]

Samples segmentations from the model's PRIOR: the U-Net and the prior run once per image, all
samples come from one batched combiner pass.

Writes RUN/samples/NAME/ (replacing only an earlier result of the same NAME; the training-time
figures in RUN/samples are never touched): per image its input, annotations, samples and
frequency map, the sample grid, and samples.json saying what was sampled.

options:
  --image PNG          sample this image, prepared like the run's data: the import's crop rule,
                       resize and intensity window, then input.normalize (each step is printed)
  --split SPLIT        sample images of the run's data split: train, val or test (default: test)
  --limit K            at most K images of the split (default: 8)
  -n, --samples N      samples per image (default: 16)
  --name NAME          results folder RUN/samples/NAME (default: from the options, e.g. test-best-n16-limit8)
  --out DIR            write to DIR instead (an empty folder or an earlier punet sample result)
  --checkpoint WHICH   best (lowest validation GED, the default) or last
  --seed N             sampling seed (default: the run's seed)
  --backend B          auto, tensorflow, webgpu, wasm or cpu (default: the run's)
  --trust-plugins      load the run's plugins even if their files changed since training
${pluginHelp(23)}
  -h, --help           this help
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('sample', argv, {
    image: { type: 'string' },
    split: { type: 'string' },
    limit: { type: 'string' },
    samples: { type: 'string', short: 'n' },
    out: { type: 'string' },
    name: { type: 'string' },
    checkpoint: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    'trust-plugins': { type: 'boolean' },
    ...PLUGIN_FLAG,
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
  checkImageFlag('sample', values.image);
  if (values.name !== undefined) checkResultName('sample: --name', values.name);
  if (values.name !== undefined && values.out !== undefined) throw new UserError('sample: give either --name or --out, not both', EXIT.usage);

  const out = (s: string) => process.stdout.write(s);
  const warn = (s: string) => process.stderr.write(`warning: ${s}\n`);
  const runDir = positionals[0]!;
  // Validate the run folder before paying for backend start-up.
  if (!existsSync(runDir)) throw new UserError(`run folder not found: ${runDir}`);
  if (!existsSync(runPath(runDir, 'spec'))) throw new UserError(`${runDir} is not a punet run folder (no spec.json); give the folder compile-and-train printed`);
  const runSpec = readRunSpec(runPath(runDir, 'spec'));
  await useBackend(values.backend ?? runSpec.train.backend, values.backend ? '--backend' : 'train.backend in the run', out);

  const opened = await openRun(runDir, which, warn, { trustPlugins: values['trust-plugins'] as boolean | undefined, cliPlugins: pluginFlags(values) });
  const { spec } = opened;
  const name =
    values.name ??
    resultName(values.image ? ['image', basename(values.image, extname(values.image))] : [split, opened.which, `n${n}`, `limit${limit}`, seed !== undefined && `seed${seed}`]);
  const outDir = resolve(values.out ?? join(runPath(opened.runDir, 'samples'), name));
  try {
    const dataset = values.image
      ? await prepareImageFlag(values.image, opened, out, warn)
      : await loadData(spec, opened.registry, opened.info.specDir || opened.runDir);
    const chosenSplit: SplitName = values.image ? 'test' : split;
    if (!dataset.splits[chosenSplit].length) throw new UserError(`the run's data has no ${chosenSplit} images`);
    const t0 = performance.now();
    let written: Awaited<ReturnType<typeof sampleSplitToFolder>> | undefined;
    await replaceFolder(outDir, async (tmp) => {
      written = await sampleSplitToFolder(opened.compiled.segmenter, dataset, spec, { split: chosenSplit, n, limit, outDir: tmp, seed });
      writeJsonAtomic(join(tmp, 'samples.json'), {
        run: opened.runDir,
        checkpoint: { which: opened.which, step: opened.checkpoint.checkpoint.meta.step },
        source: values.image ? { image: resolve(values.image), preparation: dataset.provenance.preparation } : { split: chosenSplit, limit },
        samples: n,
        seed: seed ?? spec.train.seed,
        imageIds: dataset.splits[chosenSplit].slice(0, limit).map((i) => dataset.items[i]!.id),
        time: new Date().toISOString(),
      });
    }, 'samples.json');
    const seconds = (performance.now() - t0) / 1000;
    out(`${opened.which} checkpoint (step ${opened.checkpoint.checkpoint.meta.step}): ${written!.images} image(s) x ${n} samples in ${seconds.toFixed(2)}s\n`);
    out(`samples: ${outDir}\noverview: ${join(outDir, 'sample-grid.png')}\n`);
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

