/**
 * From a loaded source item to a model-ready one: validate masks against their image, binarise
 * them, crop (union of annotations / centre / none), resize to size x size (bilinear image,
 * nearest masks).
 */
import type { DeepRasterImage, RasterImage } from '../png.js';
import { crop, cropPlane, resizeBilinear, resizeNearest, toChannels } from '../image-ops.js';
import type { ImportOptions } from './options.js';
import { ImportIssue } from './issues.js';
import { binarizeMask, type BinaryMask } from './mask.js';

export interface PreparedItem {
  /** size x size raw samples (8- or 16-bit), 1 or 3 channels (alpha dropped; gray unless the source is colour and --grayscale is off). */
  image: DeepRasterImage;
  /** Bit depth of the source file. */
  bitDepth: number;
  /** size x size, 0/1 per annotator. */
  annotations: Uint8Array[];
  /** How each mask's polarity was decided, e.g. "black (border)". */
  polarities: string[];
  sourceSize: string;
  /** 'union' | 'center' | 'none' | 'center (no annotation)'. */
  cropUsed: string;
}

export interface CropBox {
  x: number;
  y: number;
  side: number;
}

export function prepareItem(
  itemId: string,
  imageFile: string,
  loaded: { image: RasterImage | DeepRasterImage; bitDepth?: number; masks: { file: string; raster: RasterImage }[] },
  options: ImportOptions,
): PreparedItem {
  const image: DeepRasterImage = 'maxValue' in loaded.image ? loaded.image : { ...loaded.image, maxValue: 255 };
  const masks: BinaryMask[] = loaded.masks.map(({ file, raster }) => {
    if (raster.width !== image.width || raster.height !== image.height) {
      throw new ImportIssue(
        'mask size differs from image',
        itemId,
        `${file} is ${raster.width}x${raster.height} but its image ${imageFile} is ${image.width}x${image.height}; masks must match their image pixel for pixel`,
        file,
      );
    }
    return binarizeMask(raster, file, itemId, options);
  });

  const { box, cropUsed } = chooseCrop(image.width, image.height, masks, options);
  const size = options.size;
  let out = image;
  let planes = masks.map((m) => ({ width: m.width, height: m.height, data: m.data }));
  if (box) {
    out = crop(image, box.x, box.y, box.side, box.side);
    planes = planes.map((p) => cropPlane(p, box.x, box.y, box.side, box.side));
  }
  out = resizeBilinear(toChannels(out, options.grayscale || image.channels <= 2 ? 1 : 3), size, size);
  const annotations = planes.map((p) => resizeNearest(p, size, size).data);
  return {
    image: out,
    bitDepth: loaded.bitDepth ?? 8,
    annotations,
    polarities: masks.map((m) => (m.foregroundValue === null ? 'empty' : `${m.rule === 'single value' ? 'all foreground' : m.foregroundValue < 128 ? 'black' : 'white'} (${m.rule})`)),
    sourceSize: `${image.width}x${image.height}`,
    cropUsed,
  };
}

export function chooseCrop(width: number, height: number, masks: BinaryMask[], options: Pick<ImportOptions, 'crop' | 'cropSize' | 'margin'>): { box: CropBox | null; cropUsed: string } {
  const shorter = Math.min(width, height);
  const centred = (side: number): CropBox => ({ x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), side });
  if (options.crop === 'none') return { box: null, cropUsed: 'none' };
  if (options.crop === 'center') return { box: centred(Math.min(shorter, options.cropSize ?? shorter)), cropUsed: 'center' };
  const bounds = unionBounds(width, height, masks);
  if (!bounds) return { box: centred(shorter), cropUsed: 'center (no annotation)' };
  const side = Math.min(shorter, Math.max(bounds.x1 - bounds.x0, bounds.y1 - bounds.y0) + 2 * options.margin);
  const cx = (bounds.x0 + bounds.x1) / 2;
  const cy = (bounds.y0 + bounds.y1) / 2;
  const clamp = (v: number, max: number) => Math.min(Math.max(0, v), max);
  return { box: { x: clamp(Math.round(cx - side / 2), width - side), y: clamp(Math.round(cy - side / 2), height - side), side }, cropUsed: 'union' };
}

/** Bounding box [x0, x1) x [y0, y1) of every annotator's foreground, or null if all are empty. */
export function unionBounds(width: number, height: number, masks: BinaryMask[]): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (const m of masks) {
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        if (m.data[row + x]) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}
