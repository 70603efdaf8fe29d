/**
 * Built-in data sources: `synthetic` (the known-distribution generator, the default),
 * `png-folder` (a folder of PNGs read as is) and `dataset` (a folder written by `punet import`).
 * Readers are imported lazily so `punet check` does not load them. Each option schema is written
 * once (TypeBox): the JSON Schema the spec is validated against and the static type of `ctx.options`.
 */
import { isAbsolute, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { defineContribution, definePlugin } from '../../compiler/api.js';
import type { DataSourceContribution, InputSpec, OptionProblem } from '../../compiler/api.js';
import type { Dataset } from '../../runtime/data/types.js';
import type { SplitFractions } from '../../runtime/data/splits.js';

const Splits = Type.Array(Type.Number({ minimum: 0, maximum: 1 }), {
  minItems: 3,
  maxItems: 3,
  default: [0.7, 0.15, 0.15],
  description: 'Fractions [train, val, test] (by group: groups never straddle splits).',
});

function checkSplits(splits: number[] | undefined, option = 'splits'): OptionProblem[] {
  if (!splits) return [];
  const total = splits.reduce((a, b) => a + b, 0);
  return Math.abs(total - 1) > 1e-6 ? [{ option, message: `must sum to 1, got ${splits.join(' + ')} = ${total}` }] : [];
}

function fractions(splits: number[] | undefined): SplitFractions | undefined {
  return splits ? { train: splits[0]!, val: splits[1]!, test: splits[2]! } : undefined;
}

function dataPath(specDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(specDir, path);
}

// ---------------------------------------------------------------------------------------------

const SyntheticSchema = Type.Object(
  {
    count: Type.Integer({ minimum: 1, default: 240, description: 'Number of images.' }),
    annotators: Type.Integer({ minimum: 1, default: 4, description: 'Annotations per image.' }),
    seed: Type.Optional(Type.Integer({ minimum: 0, description: 'Fixed data seed; when absent: train.seed + seed_offset.' })),
    seed_offset: Type.Integer({ minimum: 0, default: 0, description: 'Added to train.seed when `seed` is absent.' }),
    noise: Type.Number({ minimum: 0, default: 0.06, description: 'Std of the Gaussian pixel noise.' }),
    jitter: Type.Number({ minimum: 0, maximum: 2, default: 0.5, description: "Annotators' boundary jitter, pixels." }),
    min_shapes: Type.Integer({ minimum: 1, maximum: 6, default: 1 }),
    max_shapes: Type.Integer({ minimum: 1, maximum: 6, default: 3 }),
    min_mode_probability: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.01,
      description: 'Modes less likely than this are dropped and the rest renormalised.',
    }),
    group_size: Type.Integer({ minimum: 1, default: 1, description: 'Consecutive images per group (a "patient").' }),
    splits: Splits,
  },
  { additionalProperties: false },
);

const synthetic = defineContribution<DataSourceContribution<Static<typeof SyntheticSchema>>>()({
  description: 'Built-in ambiguous shapes with a known distribution over segmentations (image size from input.size).',
  options: SyntheticSchema,
  check: (o, ctx) => {
    const problems = checkSplits(o.splits);
    if (o.min_shapes > o.max_shapes) problems.push({ option: 'min_shapes', message: `must be <= max_shapes (${o.max_shapes}), got ${o.min_shapes}` });
    const mode = ctx.input.normalize;
    if (mode && mode !== 'none') {
      // The synthetic images are already in [0, 1] with fixed contrast: normalising them changes
      // what the published reference numbers were measured on.
      const message = `'input.normalize: ${mode}' changes the built-in synthetic images, so results are not comparable to the reference numbers (docs/language.md); use it for imported data, or 'none' here`;
      problems.push({ option: '', at: 'input.normalize', severity: 'warning', code: 'W403', message });
    }
    return problems;
  },
  load: async ({ options: o, input, seed }) => {
    const { syntheticDataset } = await import('../../runtime/data/synthetic.js');
    return syntheticDataset({
      height: input.size[0],
      width: input.size[1],
      channels: input.channels,
      classes: input.classes,
      count: o.count,
      annotators: o.annotators,
      seed: o.seed ?? seed + o.seed_offset,
      noise: o.noise,
      jitter: o.jitter,
      minShapes: o.min_shapes,
      maxShapes: o.max_shapes,
      minModeProbability: o.min_mode_probability,
      groupSize: o.group_size,
      ...(o.splits ? { fractions: fractions(o.splits)! } : {}),
    });
  },
});

// ---------------------------------------------------------------------------------------------

const FolderSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'The folder, relative to the spec file.' }),
    split_seed: Type.Integer({ minimum: 0, default: 0, description: 'Seed of the group split when the data has none.' }),
    splits: Splits,
  },
  { additionalProperties: false },
);
type FolderOptions = Static<typeof FolderSchema>;

const pngFolder = defineContribution<DataSourceContribution<FolderOptions>>()({
  description: 'PNG folder: DIR/<id>/image.png + DIR/<id>/annotation-*.png, optional DIR/splits.json.',
  options: FolderSchema,
  check: (o) => checkSplits(o.splits),
  load: async ({ options: o, input, specDir }) => {
    const { readPngFolder } = await import('../../runtime/data/png-folder.js');
    return readPngFolder(dataPath(specDir, o.path), {
      height: input.size[0],
      width: input.size[1],
      channels: input.channels,
      classes: input.classes,
      seed: o.split_seed,
      ...(o.splits ? { fractions: fractions(o.splits)! } : {}),
    });
  },
});

// ---------------------------------------------------------------------------------------------

const dataset = defineContribution<DataSourceContribution<FolderOptions>>()({
  description: "A dataset folder written by 'punet import' (dataset.json + images.bin + masks.bin).",
  options: FolderSchema,
  check: (o) => checkSplits(o.splits),
  load: async ({ options: o, input, specDir }) => {
    const dir = dataPath(specDir, o.path);
    const [{ readDataset }, { DataError }, { splitByGroup }] = await Promise.all([
      import('../../runtime/data/store.js'),
      import('../../runtime/data/errors.js'),
      import('../../runtime/data/splits.js'),
    ]);
    const data = readDataset(dir);
    const mismatch = describeMismatch(data, input);
    if (mismatch) {
      throw new DataError(`dataset ${dir}: ${mismatch}; re-import it with the spec's input settings or change input in the spec`, dir);
    }
    const assigned = data.splits.train.length + data.splits.val.length + data.splits.test.length;
    if (assigned === 0) {
      // An import without split assignments: split by group here.
      data.splits = splitByGroup(
        data.items.map((it) => it.group),
        { seed: o.split_seed, ...(o.splits ? { fractions: fractions(o.splits)! } : {}) },
      );
      data.provenance = { ...data.provenance, splits: `seeded by group (seed ${o.split_seed})` };
    }
    return data;
  },
});

function describeMismatch(data: Dataset, input: InputSpec): string | undefined {
  const [height, width] = input.size;
  if (data.height !== height || data.width !== width) {
    return `images are ${data.height}x${data.width} (height x width) but input.size is [${height}, ${width}]`;
  }
  if (data.channels !== input.channels) return `images have ${data.channels} channels but input.channels is ${input.channels}`;
  if (data.classes !== input.classes) return `masks have ${data.classes} classes but input.classes is ${input.classes}`;
  return undefined;
}

export default definePlugin({
  name: 'punet-data',
  version: '0.1.0',
  punetApi: '^2.0.0',
  dataSources: { synthetic, 'png-folder': pngFolder, dataset },
});
