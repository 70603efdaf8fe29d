/**
 * Analytical FLOP counts from the layers the blocks report. Convention: a multiply-add is 2
 * FLOPs; bias adds, activations and pooling reads count 1 per element (see compiler/nn.ts).
 * A training step is counted as 3x the training forward pass (the backward pass computes the
 * input gradient and the weight gradient of every conv, each costing about one forward).
 */
import type { CompiledBlock } from './compile.js';

export interface FlopReport {
  /** Forward FLOPs per image, by role (undefined when a block reports no layers). */
  perBlock: Partial<Record<string, number>>;
  /** One image through every block (U-Net, prior, posterior, combiner with one z). */
  trainForward: number;
  /** Forward + backward, per image. */
  trainStep: number;
  /** Per image: the once-per-image part of sampling (everything but the posterior and combiner). */
  prepare: number;
  /** Per image and extra sample: one combiner pass. */
  perSample: number;
  /** True when every block reported its layers (otherwise the totals are lower bounds). */
  complete: boolean;
}

export function blockFlops(block: Pick<CompiledBlock, 'layers'>): number | undefined {
  return block.layers?.reduce((sum, l) => sum + l.flops, 0);
}

export function countFlops(summary: CompiledBlock[]): FlopReport {
  const perBlock: Partial<Record<string, number>> = {};
  let complete = true;
  for (const b of summary) {
    const f = blockFlops(b);
    if (f === undefined) complete = false;
    else perBlock[b.role] = f;
  }
  const total = Object.values(perBlock).reduce((a, b) => a! + b!, 0)!;
  const perSample = perBlock.combiner ?? 0;
  return {
    perBlock,
    trainForward: total,
    trainStep: 3 * total,
    prepare: total - (perBlock.posterior ?? 0) - perSample,
    perSample,
    complete,
  };
}

/** 12_345_678_901 -> "12.35 G". */
export function formatFlops(n: number): string {
  const units: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, unit] of units) if (n >= scale) return `${(n / scale).toFixed(2)} ${unit}`;
  return String(n);
}
