/**
 * Fixtures for the training-runtime tests: a tiny resolved spec (16x16, 2 levels), the real
 * compiled Probabilistic U-Net, a small hand-made dataset whose annotations disagree, and a
 * registry with the built-ins (plus stand-in eval contributions while the metrics plugin is
 * still a placeholder: they compute GED / 1-IoU the LIDC way, independently of runtime/eval).
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { Mask, PunetPlugin } from '../../compiler/api.js';
import { compileModel } from '../../compiler/compile.js';
import type { Registry } from '../../compiler/registry.js';
import { createRegistry } from '../../plugins/index.js';
import type { Dataset, DataItem } from '../../runtime/data/types.js';
import { trainableModel, type TrainableModel } from '../../runtime/train/model.js';
import type { ResolvedSpec } from '../../spec/types.js';

export function tinySpec(train: Partial<ResolvedSpec['train']> = {}): ResolvedSpec {
  const path = fileURLToPath(new URL('../../docs/contract/prob-unet-lidc.resolved.json', import.meta.url));
  const spec = JSON.parse(readFileSync(path, 'utf8')) as ResolvedSpec;
  const widths = [4, 8];
  spec.model = 'tiny-test';
  spec.input = { size: [16, 16], channels: 1, classes: 2 };
  spec.unet = { ...spec.unet!, widths, convs_per_block: 1 };
  spec.prior = { ...spec.prior!, widths, convs_per_block: 1 };
  spec.posterior = { ...spec.posterior!, widths, convs_per_block: 1 };
  spec.latent = { ...spec.latent!, size: 2 };
  spec.combiner = { ...spec.combiner!, width: 4, layers: 2 };
  spec.eval = { ...spec.eval, samples: [1, 4], metrics: ['ged'] };
  spec.train = {
    ...spec.train,
    optimizer: { kind: 'adam', lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    schedule: { kind: 'constant' },
    batch_size: 3,
    steps: 6,
    seed: 7,
    validate_every: 0,
    validate_samples: 2,
    checkpoint_every: 2,
    backend: 'cpu',
    ...train,
  };
  return spec;
}

/** Foreground IoU distance, LIDC convention (both empty: 0). */
export function iouDistance(a: Mask, b: Mask): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 0 : 1 - inter / union;
}

/** GED^2 V-statistic (diagonal pairs included), written out from the definition. */
export function referenceGed(samples: Mask[], annotations: Mask[], d = iouDistance): number {
  const mean = (xs: Mask[], ys: Mask[]) => {
    let s = 0;
    for (const x of xs) for (const y of ys) s += d(x, y);
    return s / (xs.length * ys.length);
  };
  return 2 * mean(samples, annotations) - mean(samples, samples) - mean(annotations, annotations);
}

const standInEval: PunetPlugin = {
  name: 'test-stand-in-eval',
  version: '0.0.0',
  punetApi: '^2.0.0',
  distances: { iou: { description: 'test stand-in', options: { type: 'object' }, distance: (a, b) => iouDistance(a, b) } },
  metrics: {
    ged: { description: 'test stand-in', options: { type: 'object' }, compute: (c) => referenceGed(c.samples, c.annotations, c.distance) },
  },
};

export function testRegistry(extra: PunetPlugin[] = []): Registry {
  const registry = createRegistry();
  if (!registry.get('metrics', 'ged')) registry.register(standInEval, { builtin: true });
  for (const p of extra) registry.register(p);
  return registry;
}

export function compileTiny(spec: ResolvedSpec, registry: Registry): { model: TrainableModel; dispose(): void; compiled: ReturnType<typeof compileModel> } {
  const compiled = compileModel(spec, registry, { seed: spec.train.seed });
  return {
    compiled,
    model: trainableModel(compiled.segmenter, compiled.variables, (n) => compiled.regularized.has(n)),
    dispose: () => compiled.dispose(),
  };
}

/**
 * 16x16 images with a bright square at a per-item place; annotator 0 draws the square, annotator
 * 1 draws nothing (an ambiguous, LIDC-like pair). 8 train, 2 val, 2 test items.
 */
export function tinyDataset(): Dataset {
  const H = 16;
  const W = 16;
  const items: DataItem[] = [];
  for (let k = 0; k < 12; k++) {
    const image = new Float32Array(H * W).fill(0.1);
    const square = new Uint8Array(H * W);
    const top = 2 + (k % 5) * 2;
    const left = 2 + ((k * 3) % 6);
    for (let y = top; y < top + 4; y++) {
      for (let x = left; x < left + 4; x++) {
        image[y * W + x] = 0.9;
        square[y * W + x] = 1;
      }
    }
    const empty = new Uint8Array(H * W);
    items.push({
      id: `item${k}`,
      group: `g${k}`,
      image,
      annotations: [square, empty],
      modes: [
        { mask: square, probability: 0.5, label: 'square' },
        { mask: empty, probability: 0.5, label: 'empty' },
      ],
    });
  }
  return {
    name: 'tiny',
    height: H,
    width: W,
    channels: 1,
    classes: 2,
    items,
    splits: { train: [0, 1, 2, 3, 4, 5, 6, 7], val: [8, 9], test: [10, 11] },
    provenance: { generator: 'test/train/helpers.ts' },
  };
}

export function tempDir(prefix = 'punet-train-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Discards progress output. */
export const quiet = { write: () => true, isTTY: false };

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}
