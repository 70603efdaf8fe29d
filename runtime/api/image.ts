/**
 * readImage: one PNG as model input, prepared with `punet import`'s rules (crop, channel
 * conversion, bilinear resize, values in [0, 1]), so an image a program feeds a model looks like
 * the images it was trained on.
 */
import { crop, resizeBilinear, toChannels } from '../data/image-ops.js';
import { chooseCrop } from '../data/import/prepare.js';
import type { CropMode } from '../data/import/options.js';
import { readPng } from '../data/png.js';

export interface ReadImageOptions {
  /** Output [height, width] (or one side of a square). Default: the image's own size after cropping. */
  size?: number | [number, number];
  /** 1 (gray) or 3 (RGB). Default: 1 for gray sources, 3 for colour (as import). */
  channels?: 1 | 3;
  /**
   * As `punet import --crop`: 'center' (the default; what import does for an image without
   * annotations) takes the centred square of side `cropSize` (default: the shorter side), 'none'
   * keeps the whole image. 'union' needs masks, so it means 'center' here.
   */
  crop?: CropMode;
  cropSize?: number;
}

export interface ModelImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** height * width * channels values in [0, 1], row-major, channels last: what the model takes. */
  data: Float32Array;
}

/** Reads a PNG; a missing or unreadable file throws a DataError naming it. */
export function readImage(path: string, options: ReadImageOptions = {}): ModelImage {
  const source = readPng(path);
  const { box } = chooseCrop(source.width, source.height, [], { crop: options.crop ?? 'center', cropSize: options.cropSize, margin: 0 });
  const cropped = box ? crop(source, box.x, box.y, box.side, box.side) : source;
  const channels = options.channels ?? (source.channels <= 2 ? 1 : 3);
  const [height, width] = options.size === undefined ? [cropped.height, cropped.width] : typeof options.size === 'number' ? [options.size, options.size] : options.size;
  const converted = toChannels(cropped, channels);
  const resized = converted.width === width && converted.height === height ? converted : resizeBilinear(converted, width, height);
  return { width, height, channels, data: Float32Array.from(resized.data, (v) => v / 255) };
}
