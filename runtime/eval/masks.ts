/**
 * Mask input handling shared by the metrics: accepts the forms users naturally have (a flat
 * `Uint8Array`/number array of class ids, or nested `number[][]` rows), validates them, and
 * turns them into foreground bitsets so pairwise IoU over many masks stays cheap.
 *
 * Foreground convention: by default every non-zero class id is foreground ("not background"),
 * so multi-class masks reduce to lesion-vs-background as in LIDC. `foreground: k` selects a
 * single class id instead.
 */

/** A mask as a caller may hand it in: flat class ids (row-major) or nested rows. */
export type MaskInput = Uint8Array | ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/** Which pixels count as foreground: any non-zero class (default) or one class id. */
export type Foreground = 'any' | number;

export interface NormalizedMask {
  /** Class ids, row-major. */
  data: Uint8Array;
  /** Rows x columns when the caller gave nested rows; undefined for flat input. */
  shape?: [number, number];
}

/** Flattens and validates one mask. `what` names it in errors ("ged: sample 3"). */
export function normalizeMask(mask: MaskInput, what: string): NormalizedMask {
  if (mask instanceof Uint8Array) return { data: mask };
  if (mask == null || typeof (mask as ArrayLike<unknown>).length !== 'number') {
    throw new Error(`${what} is not a mask: expected a Uint8Array or an array (of rows) of class ids`);
  }
  const rows = mask as ArrayLike<unknown>;
  if (rows.length > 0 && typeof rows[0] === 'object' && rows[0] !== null) {
    return normalizeNested(rows as ArrayLike<ArrayLike<number>>, what);
  }
  const data = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) data[i] = checkedClassId(rows[i], what, `pixel ${i}`);
  return { data };
}

function normalizeNested(rows: ArrayLike<ArrayLike<number>>, what: string): NormalizedMask {
  const height = rows.length;
  const width = rows[0]!.length;
  const data = new Uint8Array(height * width);
  for (let r = 0; r < height; r++) {
    const row = rows[r];
    if (row == null || row.length !== width) {
      throw new Error(`${what}: row ${r} has ${row?.length ?? 'no'} values but row 0 has ${width} (rows must be equally long)`);
    }
    for (let c = 0; c < width; c++) data[r * width + c] = checkedClassId(row[c], what, `pixel [${r}][${c}]`);
  }
  return { data, shape: [height, width] };
}

function checkedClassId(value: unknown, what: string, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 255) {
    throw new Error(`${what}: ${where} is ${String(value)}; masks hold integer class ids 0..255 (0 = background)`);
  }
  return value;
}

function describeSize(m: NormalizedMask): string {
  return m.shape ? `${m.data.length} pixels (${m.shape[0]}x${m.shape[1]})` : `${m.data.length} pixels`;
}

/**
 * Normalises every mask of every named group and checks they all have the same size (and the
 * same rows x columns where both are known). Throws an Error naming the first mismatch.
 */
export function normalizeMaskSets(
  metric: string,
  groups: Array<{ name: string; masks: readonly MaskInput[]; minCount?: number }>,
): Uint8Array[][] {
  let reference: { mask: NormalizedMask; label: string } | undefined;
  return groups.map(({ name, masks, minCount = 1 }) => {
    if (!Array.isArray(masks) && !(masks && typeof masks.length === 'number')) {
      throw new Error(`${metric}: ${name}s must be an array of masks`);
    }
    if (masks.length < minCount) {
      throw new Error(`${metric}: needs at least ${minCount} ${name}${minCount === 1 ? '' : 's'}, got ${masks.length}`);
    }
    return Array.from(masks, (raw, i) => {
      const label = `${name} ${i}`;
      const mask = normalizeMask(raw, `${metric}: ${label}`);
      if (!reference) reference = { mask, label };
      else checkSameSize(metric, reference, { mask, label });
      return mask.data;
    });
  });
}

function checkSameSize(
  metric: string,
  a: { mask: NormalizedMask; label: string },
  b: { mask: NormalizedMask; label: string },
): void {
  const lengthDiffers = a.mask.data.length !== b.mask.data.length;
  const shapeDiffers =
    a.mask.shape !== undefined &&
    b.mask.shape !== undefined &&
    (a.mask.shape[0] !== b.mask.shape[0] || a.mask.shape[1] !== b.mask.shape[1]);
  if (lengthDiffers || shapeDiffers) {
    throw new Error(
      `${metric}: masks must all have the same size, but ${a.label} has ${describeSize(a.mask)} ` +
        `and ${b.label} has ${describeSize(b.mask)}`,
    );
  }
}

/** Foreground pixels packed 32 per word, with their count. */
export interface ForegroundBits {
  words: Uint32Array;
  count: number;
}

export function isForeground(classId: number, foreground: Foreground): boolean {
  return foreground === 'any' ? classId !== 0 : classId === foreground;
}

export function foregroundBits(mask: Uint8Array, foreground: Foreground = 'any'): ForegroundBits {
  const words = new Uint32Array(Math.ceil(mask.length / 32));
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    if (isForeground(mask[i]!, foreground)) {
      words[i >>> 5]! |= 1 << (i & 31);
      count++;
    }
  }
  return { words, count };
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Foreground IoU with the LIDC convention: both empty -> 1 (identical empty segmentations). */
export function iouOfBits(a: ForegroundBits, b: ForegroundBits): number {
  if (a.count === 0 && b.count === 0) return 1;
  if (a.count === 0 || b.count === 0) return 0;
  let intersection = 0;
  for (let w = 0; w < a.words.length; w++) intersection += popcount32(a.words[w]! & b.words[w]!);
  return intersection / (a.count + b.count - intersection);
}

/** Foreground IoU of two flat masks (LIDC convention for empty masks). */
export function iou(a: Uint8Array, b: Uint8Array, foreground: Foreground = 'any'): number {
  if (a.length !== b.length) {
    throw new Error(`iou: masks must have the same size, got ${a.length} and ${b.length} pixels`);
  }
  let inA = 0;
  let inB = 0;
  let both = 0;
  for (let i = 0; i < a.length; i++) {
    const fa = isForeground(a[i]!, foreground);
    const fb = isForeground(b[i]!, foreground);
    if (fa) inA++;
    if (fb) inB++;
    if (fa && fb) both++;
  }
  if (inA === 0 && inB === 0) return 1;
  return both / (inA + inB - both);
}

/** d = 1 - IoU on the foreground: both empty -> 0, exactly one empty -> 1. */
export function iouDistance(a: Uint8Array, b: Uint8Array, foreground: Foreground = 'any'): number {
  return 1 - iou(a, b, foreground);
}
