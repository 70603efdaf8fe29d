import { describe, expect, it } from 'vitest';
import { classFrequencies, entropyMap, foregroundFrequency, meanMap, stdMap } from '../../runtime/figures/maps.js';
import { VIRIDIS, classColor, viridis } from '../../runtime/figures/colormap.js';

// Three samples of a 1x4 image; pixel-by-pixel foreground counts 0, 3, 2, 1 (of 3).
const SAMPLES = [Uint8Array.from([0, 1, 1, 0]), Uint8Array.from([0, 1, 0, 0]), Uint8Array.from([0, 1, 1, 1])];

describe('per-pixel maps of samples', () => {
  it('foreground frequency counts foreground samples per pixel', () => {
    const f = foregroundFrequency(SAMPLES);
    expect(Array.from(f)).toEqual([0, 1, 2 / 3, 1 / 3].map(Math.fround));
  });

  it('binary entropy in bits: 0 where the samples agree, H(1/3) = log2(3) - 2/3 elsewhere', () => {
    const h = entropyMap(SAMPLES, 2);
    // H(1/3) = -(1/3) log2(1/3) - (2/3) log2(2/3) = log2(3) - 2/3 = 0.918296 bits.
    const h13 = Math.log2(3) - 2 / 3;
    expect(h[0]).toBe(0);
    expect(h[1]).toBe(0);
    expect(h[2]).toBeCloseTo(h13, 6);
    expect(h[3]).toBeCloseTo(h13, 6);
    // An even split is exactly one bit.
    expect(entropyMap([Uint8Array.of(0), Uint8Array.of(1)], 2)[0]).toBeCloseTo(1, 7);
  });

  it('categorical entropy for 3 classes: uniform over 3 classes is log2(3) bits', () => {
    const masks = [Uint8Array.of(0, 2), Uint8Array.of(1, 2), Uint8Array.of(2, 1)];
    const h = entropyMap(masks, 3);
    expect(h[0]).toBeCloseTo(Math.log2(3), 6);
    // pixel 1: class 2 twice, class 1 once -> H(1/3, 2/3).
    expect(h[1]).toBeCloseTo(Math.log2(3) - 2 / 3, 6);
    const f = classFrequencies(masks, 3);
    expect(Array.from(f[2]!)).toEqual([1 / 3, 2 / 3].map(Math.fround));
  });

  it('class ids beyond the class count are an error, not a silent miscount', () => {
    expect(() => classFrequencies([Uint8Array.of(3)], 2)).toThrow(/class id 3/);
  });

  it('mean and population std of soft maps', () => {
    const maps = [Float32Array.of(0, 0.2), Float32Array.of(1, 0.2), Float32Array.of(0.5, 0.8)];
    expect(meanMap(maps)[0]).toBeCloseTo(0.5, 6);
    expect(meanMap(maps)[1]).toBeCloseTo(0.4, 6);
    // pixel 0: deviations -0.5, 0.5, 0 -> variance (0.25 + 0.25 + 0) / 3.
    expect(stdMap(maps)[0]).toBeCloseTo(Math.sqrt(0.5 / 3), 6);
    // pixel 1: deviations -0.2, -0.2, 0.4 -> variance (0.04 + 0.04 + 0.16) / 3.
    expect(stdMap(maps)[1]).toBeCloseTo(Math.sqrt(0.24 / 3), 6);
  });
});

describe('colour maps', () => {
  it('viridis runs from dark purple #440154 to yellow #fde725', () => {
    expect(VIRIDIS).toHaveLength(256);
    expect(viridis(0)).toEqual([0x44, 0x01, 0x54]);
    expect(viridis(1)).toEqual([0xfd, 0xe7, 0x25]);
    // Clamped outside the range; a custom range maps its ends to the same colours.
    expect(viridis(-5)).toEqual(viridis(0));
    expect(viridis(2, 0, 2)).toEqual(viridis(1));
    // The middle is viridis's teal #21908d (key colour at t = 1/2).
    const mid = viridis(0.5);
    for (const [c, v] of [0x21, 0x90, 0x8d].entries()) expect(Math.abs(mid[c]! - v)).toBeLessThanOrEqual(2);
  });

  it('viridis lightness increases monotonically (perceptual order)', () => {
    const luma = VIRIDIS.map(([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b);
    for (let i = 1; i < luma.length; i++) expect(luma[i]!).toBeGreaterThanOrEqual(luma[i - 1]! - 1e-9);
  });

  it('class colours: background black, foreground classes distinct', () => {
    expect(classColor(0)).toEqual([0, 0, 0]);
    const colors = [1, 2, 3, 4, 5].map((k) => classColor(k).join(','));
    expect(new Set(colors).size).toBe(5);
  });
});
