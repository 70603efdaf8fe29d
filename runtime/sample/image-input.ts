/**
 * `punet sample --image FILE`: one PNG prepared exactly as the run's data was. For imported data
 * the import's crop rule (union/center/none; union without annotations falls back to the centred
 * square, as import does), its resize and its intensity window; then the spec's input.normalize
 * with the statistics the run's data was normalised with. Says what it did, step by step.
 */
import { basename, extname, resolve } from 'node:path';
import type { Dataset } from '../data/types.js';
import type { InputSpec } from '../../spec/types.js';
import { readPng } from '../data/png.js';
import { crop, resizeBilinear, toChannels } from '../data/image-ops.js';
import { normalizeImage, windowLikeImport, type ChannelStats } from '../data/normalize.js';
import { UserError } from '../cli/errors.js';
import type { ImportOptions } from '../data/import/options.js';

export interface PreparedImage {
  dataset: Dataset;
  /** One line per step, e.g. "crop: centred 811x811 square at (106, 0) (import's union crop without annotations)". */
  steps: string[];
}

type Box = { x: number; y: number; w: number; h: number };

/**
 * `data` is the run's data as loaded for training (after normalisation), or undefined when it
 * cannot be loaded: then the image is centre-cropped to the model's aspect ratio and scaled by
 * its file's full scale.
 */
export function prepareImage(file: string, input: InputSpec, data: Dataset | undefined): PreparedImage {
  const [h, w] = input.size;
  const c = input.channels;
  if (c !== 1 && c !== 3) throw new UserError(`--image: the model takes ${c}-channel images; only 1 or 3 channels can come from a PNG`);
  const raw = readPng(file, { highDepth: true });
  const steps = [`read ${basename(file)}: ${raw.width}x${raw.height}, ${raw.channels} channel(s), ${raw.bitDepth}-bit`];
  let image = raw.channels === c ? raw : toChannels(raw, c);
  if (raw.channels !== c) steps.push(`channels: ${raw.channels} -> ${c}`);

  const imported = data?.provenance.createdBy === 'punet import' ? (data.provenance.options as Partial<ImportOptions> | undefined) : undefined;
  const { box, why } = chooseBox(image.width, image.height, w / h, imported);
  if (box) {
    image = crop(image, box.x, box.y, box.w, box.h);
    steps.push(`crop: ${box.w}x${box.h} at (${box.x}, ${box.y}): ${why}`);
  } else steps.push(`crop: none (${why})`);
  if (image.width !== w || image.height !== h) {
    image = resizeBilinear(image, w, h);
    steps.push(`resize: ${box ? `${box.w}x${box.h}` : `${raw.width}x${raw.height}`} -> ${w}x${h} (bilinear, antialiased, as import)`);
  }

  const windowed = windowLikeImport(image, data?.intensity);
  steps.push(`intensities: ${windowed.how} -> 0..1`);
  const mode = input.normalize ?? 'none';
  const stats = (data?.provenance.normalize as { stats?: ChannelStats } | undefined)?.stats;
  if (mode === 'dataset' && !stats) throw new UserError(`--image: input.normalize is 'dataset' but the run's data (and so its training statistics) could not be loaded`);
  const values = normalizeImage(windowed.values, c, mode, stats);
  if (mode !== 'none') steps.push(`normalize: ${mode}${stats ? ` (training split mean ${stats.mean.map((m) => m.toFixed(4)).join(',')}, std ${stats.std.map((s) => s.toFixed(4)).join(',')})` : ''}`);

  return {
    dataset: {
      name: basename(file),
      height: h,
      width: w,
      channels: c,
      classes: input.classes,
      items: [{ id: basename(file, extname(file)), group: 'image', image: values, annotations: [] }],
      splits: { train: [], val: [], test: [0] },
      ...(data?.annotators ? { annotators: data.annotators } : {}),
      provenance: { image: resolve(file), preparation: steps },
    },
    steps,
  };
}

function chooseBox(width: number, height: number, aspect: number, imported: Partial<ImportOptions> | undefined): { box: Box | null; why: string } {
  const shorter = Math.min(width, height);
  const centred = (bw: number, bh: number): Box => ({ x: Math.floor((width - bw) / 2), y: Math.floor((height - bh) / 2), w: bw, h: bh });
  if (imported) {
    if (imported.crop === 'none') return { box: null, why: "the import's crop none" };
    if (imported.crop === 'center') {
      const side = Math.min(shorter, imported.cropSize ?? shorter);
      return { box: centred(side, side), why: `the import's centre crop${imported.cropSize ? ` of ${imported.cropSize}` : ''}` };
    }
    return { box: centred(shorter, shorter), why: "the import's union crop: without annotations it is the centred square, as import does" };
  }
  // Not imported data: keep the model's aspect ratio rather than squash the image.
  const bw = Math.min(width, Math.round(height * aspect));
  const bh = Math.min(height, Math.round(bw / aspect));
  if (bw === width && bh === height) return { box: null, why: 'the image already has the model aspect ratio' };
  return { box: centred(bw, bh), why: "centred, to the model's aspect ratio (the run's data was not imported)" };
}
