/**
 * `punet import SRC --out DIR`: turn multi-annotator data (BU-BIL-style folders, LIDC PNG crops,
 * the LIDC pickle) into a punet dataset folder usable as `--data DIR`. See docs/data.md.
 */
import { parseCommandArgs, intFlag } from '../args.js';
import { UserError, EXIT } from '../errors.js';
import { DEFAULT_PERCENTILES, INTENSITY_WINDOW_MODES, type IntensityWindowMode } from '../../data/normalize.js';
import { LAYOUTS, layoutDefaults, type CropMode, type ImportOptions, type Layout, type Polarity } from '../../data/import/options.js';
import { importDataset, formatReport } from '../../data/import/run.js';

export const summary = 'import multi-annotator images + masks (folders, LIDC PNG crops, LIDC pickle) as a punet dataset';

const HELP = `usage: punet import SRC --out DIR [options]

  --layout folders|lidc-png|lidc-pickle   source layout (default folders)
      folders      SRC/<images>/<id>.png and SRC/<annotations>/<annotator>/[seg_]<id>.png (BU-BIL)
      lidc-png     SRC/[train|val|test/]images/<patient>/<name>.png + gt/<patient>/<name>_l<k>.png
      lidc-pickle  SRC is the PyTorch port's pickle: {name: {image, masks, series_uid}}
  --size N                  output side length, the model input size (default 128)
  --polarity auto|white|black   which mask value is foreground (default: auto for folders, white for LIDC)
                            auto: per mask, the value covering most of the image border is background
  --threshold N             binarise grey masks at N (default: masks must have exactly two values)
  --crop union|center|none  union: square around all annotations + margin (default for folders);
                            center: centred square of --crop-size (default for LIDC: 128, like the paper)
  --margin N                margin in source pixels for --crop union (default 16)
  --crop-size N             side of the centred square for --crop center (default: shorter image side)
  --grayscale               convert colour images to one channel
  --intensity dataset|image|none   raw values to [0, 1]: a percentile window over the whole dataset
                            (default for folders), per image, or the file's full scale (default for LIDC);
                            16-bit files keep their precision (12-bit data is not crushed to 0..16)
  --percentiles LO,HI       percentiles of the window (default 0.5,99.5)
  --strict                  fail on the first bad item instead of skipping it
  --seed N                  seed of the group split (default 0)
  --split a,b,c             train,val,test fractions (default 0.7,0.15,0.15; LIDC split folders are kept unless given)
  --images NAME, --annotations NAME   folders layout: folder names inside SRC (auto-detected)
  --name NAME               dataset name (default: the --out folder name)
  --force                   replace an existing dataset at --out
  --json                    print the report as JSON`;

const OPTIONS = {
  out: { type: 'string' },
  layout: { type: 'string' },
  size: { type: 'string' },
  polarity: { type: 'string' },
  threshold: { type: 'string' },
  crop: { type: 'string' },
  margin: { type: 'string' },
  'crop-size': { type: 'string' },
  grayscale: { type: 'boolean' },
  intensity: { type: 'string' },
  percentiles: { type: 'string' },
  strict: { type: 'boolean' },
  seed: { type: 'string' },
  split: { type: 'string' },
  images: { type: 'string' },
  annotations: { type: 'string' },
  name: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UserError(`import: --${flag} must be one of ${allowed.join(', ')}, got '${value}'`, EXIT.usage);
  return value as T;
}

function parseSplit(value: string | undefined): ImportOptions['split'] {
  if (value === undefined) return undefined;
  const parts = value.split(',').map(Number);
  const sum = parts.reduce((a, b) => a + b, 0);
  if (parts.length !== 3 || parts.some((p) => !(p >= 0)) || Math.abs(sum - 1) > 1e-6) {
    throw new UserError(`import: --split must be three fractions train,val,test summing to 1 (e.g. 0.7,0.15,0.15), got '${value}'`, EXIT.usage);
  }
  return { train: parts[0], val: parts[1], test: parts[2] };
}

function parsePercentiles(value: string | undefined): [number, number] {
  if (value === undefined) return [...DEFAULT_PERCENTILES];
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 2 || !parts.every((p) => Number.isFinite(p) && p >= 0 && p <= 100) || !(parts[0]! < parts[1]!)) {
    throw new UserError(`import: --percentiles must be two percentiles LO,HI with 0 <= LO < HI <= 100 (e.g. 0.5,99.5), got '${value}'`, EXIT.usage);
  }
  return [parts[0]!, parts[1]!];
}

export function parseImportArgs(argv: string[]): { src: string; out: string; options: ImportOptions; json: boolean } | undefined {
  const parsed = parseCommandArgs('import', argv, OPTIONS, HELP);
  if (!parsed) return undefined;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UserError(`import: expected exactly one SRC, got ${positionals.length}\n\n${HELP}`, EXIT.usage);
  if (!values.out) throw new UserError(`import: --out DIR is required (the dataset folder to create)\n\n${HELP}`, EXIT.usage);
  const layout = oneOf<Layout>('layout', values.layout, LAYOUTS) ?? 'folders';
  const defaults = layoutDefaults(layout);
  const threshold = intFlag('import', 'threshold', values.threshold);
  if (threshold !== undefined && threshold > 255) throw new UserError(`import: --threshold must be 1..255, got ${threshold}`, EXIT.usage);
  const options: ImportOptions = {
    layout,
    size: intFlag('import', 'size', values.size) ?? 128,
    polarity: oneOf<Polarity>('polarity', values.polarity, ['auto', 'white', 'black']) ?? defaults.polarity,
    crop: oneOf<CropMode>('crop', values.crop, ['union', 'center', 'none']) ?? defaults.crop,
    margin: intFlag('import', 'margin', values.margin, true) ?? 16,
    cropSize: intFlag('import', 'crop-size', values['crop-size']) ?? defaults.cropSize,
    grayscale: values.grayscale ?? false,
    intensity: oneOf<IntensityWindowMode>('intensity', values.intensity, INTENSITY_WINDOW_MODES) ?? defaults.intensity,
    percentiles: parsePercentiles(values.percentiles),
    strict: values.strict ?? false,
    seed: intFlag('import', 'seed', values.seed, true) ?? 0,
    split: parseSplit(values.split),
    threshold,
    imagesDir: values.images,
    annotationsDir: values.annotations,
    name: values.name,
    force: values.force ?? false,
  };
  return { src: positionals[0], out: values.out, options, json: values.json ?? false };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseImportArgs(argv);
  if (!args) return EXIT.ok;
  const { report } = importDataset(args.src, args.out, args.options);
  process.stdout.write((args.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
  return EXIT.ok;
}
