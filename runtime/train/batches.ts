/**
 * Training batches: a seeded shuffle of the train split per epoch and one annotation drawn per
 * image per step, all pure functions of (seed, step) so resuming needs no saved stream state.
 */
import type { Dataset } from '../data/types.js';
import { STREAM, permutation, randomInt } from './rng.js';

export interface HostBatch {
  /** Dataset item indices, in batch order. */
  items: number[];
  /** The annotation index drawn for each item. */
  annotations: number[];
  /** [B, H, W, C] values. */
  images: Float32Array;
  /** [B, H, W] class ids. */
  masks: Int32Array;
  shape: { batch: number; height: number; width: number; channels: number };
}

export class BatchSampler {
  private cachedEpoch = -1;
  private cachedOrder: number[] = [];

  constructor(
    private readonly dataset: Dataset,
    private readonly split: number[],
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    if (split.length === 0) throw new Error('the train split is empty: the data source produced no training items');
    for (const index of split) {
      if (dataset.items[index]!.annotations.length === 0) {
        throw new Error(`training item '${dataset.items[index]!.id}' has no annotations`);
      }
    }
  }

  /** Item indices of step `step` (0-based): position k = step*B + i walks epoch after epoch. */
  itemsAt(step: number): number[] {
    const n = this.split.length;
    const out: number[] = [];
    for (let i = 0; i < this.batchSize; i++) {
      const k = step * this.batchSize + i;
      const epoch = Math.floor(k / n);
      out.push(this.split[this.epochOrder(epoch)[k % n]!]!);
    }
    return out;
  }

  batchAt(step: number): HostBatch {
    const items = this.itemsAt(step);
    const annotations = items.map((item, i) => randomInt(this.dataset.items[item]!.annotations.length, this.seed, STREAM.annotation, step, i));
    return assembleBatch(this.dataset, items, annotations);
  }

  private epochOrder(epoch: number): number[] {
    if (epoch !== this.cachedEpoch) {
      this.cachedOrder = permutation(this.split.length, this.seed, STREAM.shuffle, epoch);
      this.cachedEpoch = epoch;
    }
    return this.cachedOrder;
  }
}

/** Copies items (and one annotation each, when given) into contiguous host arrays. */
export function assembleBatch(dataset: Dataset, items: number[], annotations?: number[]): HostBatch {
  const { height, width, channels } = dataset;
  const pixels = height * width;
  const images = new Float32Array(items.length * pixels * channels);
  const masks = new Int32Array(items.length * pixels);
  items.forEach((index, b) => {
    const item = dataset.items[index]!;
    images.set(item.image, b * pixels * channels);
    if (annotations) masks.set(item.annotations[annotations[b]!]!, b * pixels);
  });
  return { items, annotations: annotations ?? [], images, masks, shape: { batch: items.length, height, width, channels } };
}
