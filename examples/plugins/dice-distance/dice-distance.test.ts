/**
 * The dice-distance example plugin: hand-worked Dice distances, the Dice/IoU identity, and its
 * use in GED after loading it the way a spec's `use` line does.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import plugin, { diceDistance } from './index.js';
import { loadPlugins } from '../../../compiler/plugin-loader.js';
import { createRegistry } from '../../../plugins/index.js';

const m = (...v: number[]) => Uint8Array.from(v);
const here = dirname(fileURLToPath(import.meta.url));

/** IoU of the non-zero pixels, in plain JS (the LIDC convention for empty masks). */
function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += Number(a[i]! > 0 && b[i]! > 0);
    union += Number(a[i]! > 0 || b[i]! > 0);
  }
  return union === 0 ? 1 : inter / union;
}

describe('dice-distance plugin', () => {
  it('hand-worked cases and the empty-mask convention', () => {
    // |A n B| = 1, |A| + |B| = 4 -> Dice 0.5.
    expect(diceDistance(m(1, 1, 0, 0), m(1, 0, 1, 0), 'any')).toBeCloseTo(0.5, 12);
    // |A n B| = 2, |A| + |B| = 5 -> Dice 0.8.
    expect(diceDistance(m(1, 1, 1, 0), m(0, 1, 1, 0), 'any')).toBeCloseTo(0.2, 12);
    expect(diceDistance(m(0, 0, 0), m(0, 0, 0), 'any')).toBe(0);
    expect(diceDistance(m(0, 1, 0), m(0, 0, 0), 'any')).toBe(1);
    expect(diceDistance(m(2, 2, 0), m(2, 2, 0), 'any')).toBe(0);
    // foreground: 2 ignores class 1.
    expect(diceDistance(m(1, 2, 2, 0), m(2, 2, 1, 1), 2)).toBeCloseTo(1 - (2 * 1) / 4, 12); // A = {1, 2}, B = {0, 1}
    expect(() => diceDistance(m(1), m(1, 0), 'any')).toThrow(/differ in size/);
  });

  it('is symmetric and equals 1 - 2 IoU / (1 + IoU) on random masks', () => {
    let s = 7;
    const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let t = 0; t < 50; t++) {
      const a = Uint8Array.from({ length: 64 }, () => Number(rand() < 0.3));
      const b = Uint8Array.from({ length: 64 }, () => Number(rand() < 0.3));
      const j = iou(a, b);
      expect(diceDistance(a, b, 'any')).toBeCloseTo(diceDistance(b, a, 'any'), 12);
      expect(diceDistance(a, b, 'any')).toBeCloseTo(1 - (2 * j) / (1 + j), 10);
    }
  });

  it('loads through `use` resolution, registers as dice-distance/dice, and drives GED', async () => {
    const registry = createRegistry();
    const [loaded] = await loadPlugins(['./index.js'], registry, { fromDir: here });
    expect(loaded!.name).toBe(plugin.name);
    const dice = registry.get('distances', 'dice-distance/dice')!;
    expect(dice.plugin.name).toBe('dice-distance');
    const d = (a: Uint8Array, b: Uint8Array) => dice.contribution.distance(a, b, { options: { foreground: 'any' }, classes: 2, height: a.length, width: 1 });
    const samples = [m(1, 1, 0, 0), m(0, 0, 0, 0)];
    const annotations = [m(1, 0, 0, 0), m(1, 1, 0, 0), m(0, 0, 0, 0)];
    // GED^2 V-statistic by hand: 2 E d(S,Y) - E d(S,S') - E d(Y,Y').
    const mean = (xs: Uint8Array[], ys: Uint8Array[]) => xs.reduce((t, x) => t + ys.reduce((u, y) => u + d(x, y), 0), 0) / (xs.length * ys.length);
    const byHand = 2 * mean(samples, annotations) - mean(samples, samples) - mean(annotations, annotations);
    const ged = registry.get('metrics', 'ged')!.contribution;
    const value = ged.compute({ options: {}, samples, annotations, classes: 2, distance: d });
    expect(value).toBeCloseTo(byHand, 10);
    // d(S,Y): s0 vs [1/3, 0, 1], s1 vs [1, 1, 0]; d(S,S'): 2 off-diagonal 1s; d(Y,Y'): 1/3 twice, 1 four times.
    expect(byHand).toBeCloseTo((2 * (4 / 3 + 2)) / 6 - 2 / 4 - (2 / 3 + 4) / 9, 10);
  });
});
