/**
 * The built-in ambiguous dataset: images whose true distribution over segmentations is known
 * exactly, so evaluation can compare a model's mode frequencies with the truth.
 *
 * Generative process, per image (each image has its own PRNG stream derived from (seed, index),
 * so image i is the same whatever `count` is):
 * 1. Shapes. k ~ Uniform{minShapes..maxShapes} non-overlapping shapes (disc, rotated ellipse or
 *    axis-aligned rectangle), radii 10-18% of the image side, at least `2 + 2 * jitter` pixels
 *    apart so jittered outlines never touch. (A shape that finds no free place after 200 tries is
 *    dropped, so crowded small images may hold fewer than k.)
 * 2. Ambiguity. Each shape gets an inclusion probability p from PROBABILITY_TIERS (1, 0.9, 0.5,
 *    0.3, 0.15) and is drawn with contrast 0.08 + 0.5 p above a background of 0.2: clear shapes
 *    are (almost) always segmented, faint ones rarely. The image is informative (contrast tells
 *    p) but ambiguous (it cannot tell what a given annotator did).
 * 3. Image = background + contrast inside each canonical shape + N(0, noise^2) per pixel,
 *    clipped to [0, 1], repeated over the channels.
 * 4. Modes. Every subset S of the shapes is a mode with probability
 *    prod_{i in S} p_i * prod_{i not in S} (1 - p_i) and mask = the union of the canonical shapes
 *    in S (empty set -> the empty mask: when all shapes are uncertain, "nothing" is a mode, as
 *    with LIDC graders who draw nothing). Truncation rule: modes below `minModeProbability` are
 *    dropped (always keeping the most probable) and the rest renormalised to sum to 1; this
 *    renormalised list IS the true distribution, because annotations are drawn from it.
 *    Modes are sorted by probability (descending, ties by label).
 * 5. Annotations. Each of the `annotators` draws a mode from that list, then outlines each of
 *    its shapes with jitter: centre shifted and size changed by up to `jitter` pixels
 *    (uniform). A jittered mask must still be nearest (by 1 - IoU, within the mode-TV
 *    threshold) to the mode it was drawn from; otherwise the jitter is redrawn (up to 4 times),
 *    then the canonical mask is used. So boundary noise never changes which mode an annotation
 *    belongs to.
 * Classes: with 2 classes every shape is class 1; with K > 2 a shape's class is
 * 1 + (kind index mod (K - 1)), kinds in the order disc, ellipse, rectangle.
 */
import type { DataItem, Dataset, Mode } from './types.js';
import { splitByGroup, DEFAULT_SPLIT_FRACTIONS, type SplitFractions } from './splits.js';
import { foregroundBits, iouOfBits } from '../eval/masks.js';
import { DEFAULT_MODE_THRESHOLD } from '../eval/metrics.js';

export const PROBABILITY_TIERS = [1, 0.9, 0.5, 0.3, 0.15] as const;
export const BACKGROUND = 0.2;
/** Contrast of a shape above the background as a function of its inclusion probability. */
export function contrastFor(probability: number): number {
  return 0.08 + 0.5 * probability;
}

export interface SyntheticOptions {
  height: number;
  width: number;
  channels: number;
  classes: number;
  count: number;
  annotators: number;
  seed: number;
  minShapes: number;
  maxShapes: number;
  /** Std of the Gaussian pixel noise. */
  noise: number;
  /** Maximum boundary displacement of an annotator's outline, pixels. */
  jitter: number;
  minModeProbability: number;
  /** Consecutive images sharing a group (a "patient"); groups never straddle splits. */
  groupSize: number;
  fractions: SplitFractions;
}

export const SYNTHETIC_DEFAULTS: SyntheticOptions = {
  height: 32,
  width: 32,
  channels: 1,
  classes: 2,
  count: 240,
  annotators: 4,
  seed: 0,
  minShapes: 1,
  maxShapes: 3,
  noise: 0.06,
  jitter: 0.5,
  minModeProbability: 0.01,
  groupSize: 1,
  fractions: DEFAULT_SPLIT_FRACTIONS,
};

export type ShapeKind = 'disc' | 'ellipse' | 'rectangle';
const SHAPE_KINDS: readonly ShapeKind[] = ['disc', 'ellipse', 'rectangle'];

export interface Shape {
  kind: ShapeKind;
  /** Centre, in pixel coordinates (pixel (x, y) has its centre at x + 0.5, y + 0.5). */
  cx: number;
  cy: number;
  /** Disc: radius in both; ellipse: semi-axes; rectangle: half-widths. */
  rx: number;
  ry: number;
  /** Ellipse rotation, radians. */
  angle: number;
  probability: number;
  contrast: number;
  classId: number;
}

/** A generated item with the generator's ground truth alongside the `DataItem` fields. */
export interface SyntheticItem extends DataItem {
  modes: Mode[];
  shapes: Shape[];
  /** Per annotation, the index (into `modes`) of the mode it was drawn from. */
  annotationModes: number[];
}

// ---------------------------------------------------------------------------------------------
// Randomness: a small seeded PRNG (mulberry32), never Math.random.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(lo: number, hi: number): number;
  int(lo: number, hiInclusive: number): number;
  normal(): number;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    normal: () => {
      // Box-Muller; 1 - u keeps the logarithm finite.
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
  };
}

/** A per-item seed from (seed, index): items do not depend on each other's draws. */
function itemSeed(seed: number, index: number): number {
  let h = Math.imul((seed | 0) ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Geometry

interface Jitter {
  dx: number;
  dy: number;
  /** Added to both radii / half-widths. */
  ds: number;
}

const NO_JITTER: Jitter = { dx: 0, dy: 0, ds: 0 };

function contains(shape: Shape, px: number, py: number, j: Jitter): boolean {
  const x = px - (shape.cx + j.dx);
  const y = py - (shape.cy + j.dy);
  const rx = shape.rx + j.ds;
  const ry = shape.ry + j.ds;
  switch (shape.kind) {
    case 'disc':
      return x * x + y * y <= rx * rx;
    case 'ellipse': {
      const c = Math.cos(shape.angle);
      const s = Math.sin(shape.angle);
      const u = (x * c + y * s) / rx;
      const v = (-x * s + y * c) / ry;
      return u * u + v * v <= 1;
    }
    case 'rectangle':
      return Math.abs(x) <= rx && Math.abs(y) <= ry;
  }
}

/** Radius of a circle around the centre holding the whole shape. */
function boundingRadius(shape: Pick<Shape, 'kind' | 'rx' | 'ry'>): number {
  return shape.kind === 'rectangle' ? Math.hypot(shape.rx, shape.ry) : Math.max(shape.rx, shape.ry);
}

function paint(mask: Uint8Array, width: number, height: number, shape: Shape, j: Jitter): void {
  const reach = boundingRadius(shape) + Math.abs(j.ds) + 1;
  const x0 = Math.max(0, Math.floor(shape.cx + j.dx - reach));
  const x1 = Math.min(width - 1, Math.ceil(shape.cx + j.dx + reach));
  const y0 = Math.max(0, Math.floor(shape.cy + j.dy - reach));
  const y1 = Math.min(height - 1, Math.ceil(shape.cy + j.dy + reach));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (contains(shape, x + 0.5, y + 0.5, j)) mask[y * width + x] = shape.classId;
    }
  }
}

function placeShapes(rng: Random, opts: SyntheticOptions): Shape[] {
  const side = Math.min(opts.height, opts.width);
  const wanted = rng.int(opts.minShapes, opts.maxShapes);
  const gap = 2 + 2 * opts.jitter;
  const shapes: Shape[] = [];
  for (let s = 0; s < wanted; s++) {
    const kindIndex = rng.int(0, SHAPE_KINDS.length - 1);
    const kind = SHAPE_KINDS[kindIndex]!;
    const r = rng.uniform(0.1, 0.18) * side;
    const rx = kind === 'disc' ? r : r * rng.uniform(0.75, 1);
    const ry = kind === 'disc' ? r : r * rng.uniform(0.55, 0.85);
    const angle = kind === 'ellipse' ? rng.uniform(0, Math.PI) : 0;
    const probability = PROBABILITY_TIERS[rng.int(0, PROBABILITY_TIERS.length - 1)]!;
    const bound = boundingRadius({ kind, rx, ry });
    const margin = bound + opts.jitter + 1;
    for (let attempt = 0; attempt < 200; attempt++) {
      const cx = rng.uniform(margin, opts.width - margin);
      const cy = rng.uniform(margin, opts.height - margin);
      const clear = shapes.every((o) => Math.hypot(o.cx - cx, o.cy - cy) >= bound + boundingRadius(o) + gap);
      if (clear && margin * 2 < Math.min(opts.width, opts.height)) {
        const classId = opts.classes <= 2 ? 1 : 1 + (kindIndex % (opts.classes - 1));
        shapes.push({ kind, cx, cy, rx, ry, angle, probability, contrast: contrastFor(probability), classId });
        break;
      }
    }
  }
  return shapes;
}

function renderImage(rng: Random, shapes: Shape[], opts: SyntheticOptions): Float32Array {
  const { width, height, channels } = opts;
  const level = new Float32Array(width * height).fill(BACKGROUND);
  for (const shape of shapes) {
    const inside = new Uint8Array(width * height);
    paint(inside, width, height, { ...shape, classId: 1 }, NO_JITTER);
    for (let p = 0; p < inside.length; p++) if (inside[p]) level[p]! += shape.contrast;
  }
  const image = new Float32Array(width * height * channels);
  for (let p = 0; p < level.length; p++) {
    const v = Math.min(1, Math.max(0, level[p]! + opts.noise * rng.normal()));
    for (let c = 0; c < channels; c++) image[p * channels + c] = v;
  }
  return image;
}

// ---------------------------------------------------------------------------------------------
// Modes and annotations

interface ModeDraft {
  members: number[];
  probability: number;
  label: string;
}

function enumerateModes(shapes: Shape[], minProbability: number): ModeDraft[] {
  const drafts: ModeDraft[] = [];
  for (let subset = 0; subset < 1 << shapes.length; subset++) {
    const members: number[] = [];
    let probability = 1;
    shapes.forEach((shape, i) => {
      const included = (subset >> i) & 1;
      if (included) members.push(i);
      probability *= included ? shape.probability : 1 - shape.probability;
    });
    if (probability > 0) drafts.push({ members, probability, label: members.length ? `shapes {${members.join(',')}}` : 'empty' });
  }
  drafts.sort((a, b) => b.probability - a.probability || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  const kept = drafts.filter((d, i) => i === 0 || d.probability >= minProbability);
  const total = kept.reduce((s, d) => s + d.probability, 0);
  return kept.map((d) => ({ ...d, probability: d.probability / total }));
}

function drawIndex(rng: Random, probabilities: number[]): number {
  const u = rng.next();
  let cumulative = 0;
  for (let i = 0; i < probabilities.length; i++) {
    cumulative += probabilities[i]!;
    if (u < cumulative) return i;
  }
  return probabilities.length - 1; // rounding: u just below 1
}

/** Index of the nearest mode by 1 - IoU, or -1 when none is within the mode-TV threshold. */
function nearestMode(mask: Uint8Array, modeBits: ReturnType<typeof foregroundBits>[]): number {
  const bits = foregroundBits(mask);
  let best = -1;
  let bestDistance = Infinity;
  modeBits.forEach((m, i) => {
    const d = 1 - iouOfBits(bits, m);
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  });
  return bestDistance <= DEFAULT_MODE_THRESHOLD ? best : -1;
}

/** Generates image `index` (deterministic in (opts.seed, index)). */
export function generateSyntheticItem(index: number, opts: SyntheticOptions, stats = { jitterRedraws: 0, canonicalFallbacks: 0 }): SyntheticItem {
  const rng = createRandom(itemSeed(opts.seed, index));
  const { width, height } = opts;
  const shapes = placeShapes(rng, opts);
  const image = renderImage(rng, shapes, opts);
  const drafts = enumerateModes(shapes, opts.minModeProbability);
  const modes: Mode[] = drafts.map((d) => {
    const mask = new Uint8Array(width * height);
    for (const i of d.members) paint(mask, width, height, shapes[i]!, NO_JITTER);
    return { mask, probability: d.probability, label: d.label };
  });
  const modeBits = modes.map((m) => foregroundBits(m.mask));
  const probabilities = modes.map((m) => m.probability);

  const annotations: Uint8Array[] = [];
  const annotationModes: number[] = [];
  for (let a = 0; a < opts.annotators; a++) {
    const modeIndex = drawIndex(rng, probabilities);
    const members = drafts[modeIndex]!.members;
    let mask: Uint8Array | undefined;
    for (let attempt = 0; attempt < 5 && !mask; attempt++) {
      const candidate = new Uint8Array(width * height);
      for (const i of members) {
        const j = opts.jitter;
        paint(candidate, width, height, shapes[i]!, { dx: rng.uniform(-j, j), dy: rng.uniform(-j, j), ds: rng.uniform(-j, j) });
      }
      if (nearestMode(candidate, modeBits) === modeIndex) mask = candidate;
      else stats.jitterRedraws++;
    }
    if (!mask) {
      stats.canonicalFallbacks++;
      mask = Uint8Array.from(modes[modeIndex]!.mask);
    }
    annotations.push(mask);
    annotationModes.push(modeIndex);
  }
  const group = `g${Math.floor(index / opts.groupSize)}`;
  return { id: `synthetic-${index}`, group, image, annotations, modes, shapes, annotationModes };
}

function checkOptions(o: SyntheticOptions): void {
  const positiveInt = (name: keyof SyntheticOptions) => {
    const v = o[name];
    if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`synthetic data: '${name}' must be a positive integer, got ${String(v)}`);
  };
  (['height', 'width', 'channels', 'count', 'annotators', 'minShapes', 'maxShapes', 'groupSize'] as const).forEach(positiveInt);
  if (!Number.isInteger(o.classes) || o.classes < 2) throw new Error(`synthetic data: 'classes' must be an integer >= 2, got ${o.classes}`);
  if (o.minShapes > o.maxShapes) throw new Error(`synthetic data: minShapes (${o.minShapes}) > maxShapes (${o.maxShapes})`);
  if (o.maxShapes > 6) throw new Error(`synthetic data: maxShapes must be <= 6 (2^maxShapes modes per image), got ${o.maxShapes}`);
  if (Math.min(o.height, o.width) < 16) throw new Error(`synthetic data: images must be at least 16x16, got ${o.height}x${o.width}`);
  if (!(o.noise >= 0)) throw new Error(`synthetic data: 'noise' must be >= 0, got ${o.noise}`);
  if (!(o.jitter >= 0 && o.jitter <= 2)) throw new Error(`synthetic data: 'jitter' must be in [0, 2] pixels, got ${o.jitter}`);
  if (!(o.minModeProbability >= 0 && o.minModeProbability < 1)) {
    throw new Error(`synthetic data: 'minModeProbability' must be in [0, 1), got ${o.minModeProbability}`);
  }
}

/** The whole dataset, with seeded group splits. */
export function syntheticDataset(options: Partial<SyntheticOptions> = {}): Dataset & { items: SyntheticItem[] } {
  const opts: SyntheticOptions = { ...SYNTHETIC_DEFAULTS, ...options };
  checkOptions(opts);
  const stats = { jitterRedraws: 0, canonicalFallbacks: 0 };
  const items = Array.from({ length: opts.count }, (_, i) => generateSyntheticItem(i, opts, stats));
  const splits = splitByGroup(
    items.map((it) => it.group),
    { seed: opts.seed, fractions: opts.fractions },
  );
  return {
    name: 'synthetic',
    height: opts.height,
    width: opts.width,
    channels: opts.channels,
    classes: opts.classes,
    items,
    splits,
    provenance: {
      source: 'synthetic',
      generator: 'punet synthetic v1',
      options: { ...opts },
      annotations: { ...stats, total: opts.count * opts.annotators },
    },
  };
}
