/** Reading one PNG as model input: converted to the model's channels and size, values in [0, 1]. */
import { basename, extname } from 'node:path';
import { UserError } from '../cli/errors.js';
import { resizeBilinear, toChannels } from '../data/image-ops.js';
import { readPng } from '../data/png.js';

export interface ModelInputImage {
  id: string;
  image: Float32Array;
  /** True when the file had another size and was resized (bilinear) to the model's. */
  resized: boolean;
}

export function readImageForModel(file: string, input: { size: [number, number]; channels: number }): ModelInputImage {
  const [h, w] = input.size;
  const c = input.channels;
  if (c !== 1 && c !== 3) throw new UserError(`--image: the model takes ${c}-channel images; only 1 or 3 channels can come from a PNG`);
  const raster = readPng(file);
  let image = raster.channels === c ? raster : toChannels(raster, c);
  const resized = image.width !== w || image.height !== h;
  if (resized) image = resizeBilinear(image, w, h);
  return { id: basename(file, extname(file)), image: Float32Array.from(image.data, (v) => v / 255), resized };
}

/** A file-name-safe form of an item id. */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_') || 'image';
}
