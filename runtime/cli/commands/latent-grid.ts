/**
 * `punet latent-grid RUN`: the paper's latent-space figure. The image is prepared once, the
 * prior's mu and sigma read, and the segmentation decoded (one decode call) at a G x G grid of
 * normalised positions t = (z - mu) / sigma along two latent dimensions, with the one-sigma
 * circle drawn over the grid.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { intFlag, parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { checkImageFlag, prepareImageFlag } from '../image-flag.js';
import { runPath } from '../../run/folder.js';
import { loadData, openRun, readRunSpec, useBackend } from '../../run/session.js';
import { LatentGridError } from '../../figures/latent-decode.js';
import { latentGridForImage, writeLatentGrid } from '../../figures/run-figures.js';
import { safeName } from '../../figures/input.js';
import { parseCheckpoint, parseSplit } from './sample.js';

export const summary = "Draw the latent-space figure: samples decoded on a grid of prior-normalised latent positions";

const HELP = `usage: punet latent-grid RUN [--image PNG | --index N] [options]

Decodes the model's segmentation of one image at a G x G grid of latent positions
t = (z - mu) / sigma of the image's PRIOR, from -range to +range along two latent dimensions,
all other dimensions held at the prior mean, and draws the t = 1 (one sigma) circle over the
grid: how the model organised its latent space. The image is prepared once and all grid points
are decoded in one pass.

For a latent with more than 2 dimensions, two are picked (default: the two with the largest
prior sigma for this image). Dimensions are 0-based indices of the latent vector. A latent that
is not flat works the same on its flattened vector: the hierarchical model's latent is all its
scales flattened coarse to fine (h*w*C values per scale), and its mu/sigma are those of the
prior's mean path (finer scales conditioned on the coarser scales' means).

options:
  --image PNG          this image, prepared like the run's data (as punet sample --image)
  --index N            item N (0-based) of the run's data split (default: item 0)
  --split SPLIT        the split --index counts in: train, val or test (default: test)
  --grid G             grid points per axis (default: 9; odd puts t = 0 in the middle)
  --range R            t runs from -R to +R (default: 3)
  --dims I,J           the two latent dimensions (default: the two with the largest sigma)
  --scale S            pixel upscaling of each panel (default: about 96 pixels per panel)
  --masks STYLE        overlay (masks over the image, the default) or binary
  --out FILE.png       output file (default: RUN/samples/latent-grid-<image id>.png)
  --checkpoint WHICH   best (lowest validation GED, the default) or last
  --backend B          auto, tensorflow, webgpu, wasm or cpu (default: the run's)
  --trust-plugins      load the run's plugins even if their files changed since training
${pluginHelp(23)}
  -h, --help           this help
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('latent-grid', argv, {
    image: { type: 'string' },
    index: { type: 'string' },
    split: { type: 'string' },
    grid: { type: 'string' },
    range: { type: 'string' },
    dims: { type: 'string' },
    scale: { type: 'string' },
    masks: { type: 'string' },
    out: { type: 'string' },
    checkpoint: { type: 'string' },
    backend: { type: 'string' },
    'trust-plugins': { type: 'boolean' },
    ...PLUGIN_FLAG,
  }, HELP);
  if (!args) return EXIT.ok;
  const { values, positionals } = args;
  if (positionals.length !== 1) throw new UserError(`latent-grid: expected one RUN folder, got ${positionals.length ? positionals.join(' ') : 'none'}\n\n${HELP.trimEnd()}`, EXIT.usage);
  if (values.image !== undefined && (values.index !== undefined || values.split !== undefined)) {
    throw new UserError('latent-grid: give either --image or --index/--split, not both', EXIT.usage);
  }
  const split = parseSplit('latent-grid', values.split ?? 'test');
  const which = parseCheckpoint('latent-grid', values.checkpoint);
  const index = intFlag('latent-grid', 'index', values.index, true) ?? 0;
  const grid = intFlag('latent-grid', 'grid', values.grid) ?? 9;
  if (grid < 2 || grid > 41) throw new UserError(`latent-grid: --grid must be between 2 and 41, got ${grid}`, EXIT.usage);
  const range = parseRange(values.range);
  const dims = values.dims === undefined ? undefined : parseDims(values.dims);
  const scale = intFlag('latent-grid', 'scale', values.scale);
  const masks = values.masks ?? 'overlay';
  if (masks !== 'overlay' && masks !== 'binary') throw new UserError(`latent-grid: --masks must be overlay or binary, got '${masks}'`, EXIT.usage);
  if (values.out !== undefined && !values.out.toLowerCase().endsWith('.png')) throw new UserError(`latent-grid: --out must name a .png file, got '${values.out}'`, EXIT.usage);
  checkImageFlag('latent-grid', values.image);

  const out = (s: string) => process.stdout.write(s);
  const warn = (s: string) => process.stderr.write(`warning: ${s}\n`);
  const runDir = positionals[0]!;
  if (!existsSync(runDir)) throw new UserError(`run folder not found: ${runDir}`);
  if (!existsSync(runPath(runDir, 'spec'))) throw new UserError(`${runDir} is not a punet run folder (no spec.json); give the folder compile-and-train printed`);
  const runSpec = readRunSpec(runPath(runDir, 'spec'));
  await useBackend(values.backend ?? runSpec.train.backend, values.backend ? '--backend' : 'train.backend in the run', out);

  const opened = await openRun(runDir, which, warn, { trustPlugins: values['trust-plugins'] as boolean | undefined, cliPlugins: pluginFlags(values) });
  try {
    const { spec } = opened;
    const [height, width] = spec.input.size;
    const channels = spec.input.channels;
    let id: string;
    let image: Float32Array;
    if (values.image !== undefined) {
      ({ id, image } = (await prepareImageFlag(values.image, opened, out, warn)).items[0]!);
    } else {
      const dataset = await loadData(spec, opened.registry, opened.info.specDir || opened.runDir);
      const items = dataset.splits[split];
      if (!items.length) throw new UserError(`the run's data has no ${split} images`);
      if (index >= items.length) throw new UserError(`latent-grid: --index ${index} is past the end of the ${split} split (${items.length} images: 0..${items.length - 1})`);
      const item = dataset.items[items[index]!]!;
      ({ id, image } = item);
    }

    let result;
    try {
      result = await latentGridForImage(opened.compiled.segmenter, image, { imageId: id, height, width, channels, classes: spec.input.classes, grid, range, dims, scale, masks });
    } catch (e) {
      if (e instanceof LatentGridError) throw new UserError(`latent-grid: ${e.message}`);
      throw e;
    }
    const { decoded } = result;
    const file = writeLatentGrid(resolve(values.out ?? join(runPath(opened.runDir, 'samples'), `latent-grid-${safeName(id)}.png`)), result);
    const [i, j] = decoded.dims;
    const f = (v: number) => v.toPrecision(3);
    out(`${opened.which} checkpoint (step ${opened.checkpoint.checkpoint.meta.step}), image ${id}: latent of ${decoded.mu.length} dimensions${dims ? '' : ' (dims with the largest sigma)'}\n`);
    out(`  x: z[${i}]  mu ${f(decoded.mu[i]!)}  sigma ${f(decoded.sigma[i]!)}\n  y: z[${j}]  mu ${f(decoded.mu[j]!)}  sigma ${f(decoded.sigma[j]!)}\n`);
    out(`  ${grid}x${grid} grid, t from ${-range} to ${range}; others at the prior mean\n`);
    out(`latent grid: ${file}\n`);
  } finally {
    opened.compiled.dispose();
  }
  return EXIT.ok;
}

function parseRange(value: string | undefined): number {
  if (value === undefined) return 3;
  const r = Number(value);
  if (!Number.isFinite(r) || r <= 0) throw new UserError(`latent-grid: --range must be a positive number, got '${value}'`, EXIT.usage);
  return r;
}

function parseDims(value: string): [number, number] {
  const parts = value.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.length !== 2 || nums.some((n, k) => !parts[k] || !Number.isInteger(n) || n < 0) || nums[0] === nums[1]) {
    throw new UserError(`latent-grid: --dims must be two different 0-based dimension indices like 0,1, got '${value}'`, EXIT.usage);
  }
  return [nums[0]!, nums[1]!];
}
