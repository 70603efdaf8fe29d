import { describe, it, expect } from 'vitest';
import { crop, resizeBilinear, resizeNearest, toChannels, toGrayscale, triangleWeights } from '../../runtime/data/image-ops.js';

describe('image ops', () => {
  it('bilinear upscaling by 2 interpolates between pixel centres (align_corners=false)', () => {
    // 2 pixels [0, 100] -> 4: output centres at input x = 0.25, 0.75, 1.25, 1.75 (pixel centres 0.5, 1.5).
    const out = resizeBilinear({ width: 2, height: 1, channels: 1, data: Uint8Array.of(0, 100) }, 4, 1);
    expect(Array.from(out.data)).toEqual([0, 25, 75, 100]);
  });

  it('bilinear downscaling by 2 uses a triangle filter widened to 2 pixels (antialiasing)', () => {
    // Ramp 10*x over 16 pixels -> 8. Interior weights 1/8, 3/8, 3/8, 1/8 on x = 2o-1..2o+2 give 20o + 5;
    // the edges renormalise over 3 taps: (0*3 + 10*3 + 20*1)/7 = 7.14 and (130*1 + 140*3 + 150*3)/7 = 142.9.
    const ramp = Uint8Array.from({ length: 16 }, (_, x) => 10 * x);
    const out = resizeBilinear({ width: 16, height: 1, channels: 1, data: ramp }, 8, 1);
    expect(Array.from(out.data)).toEqual([7, 25, 45, 65, 85, 105, 125, 143]);
    const taps = triangleWeights(16, 8)[3];
    expect(taps.start).toBe(5);
    expect(Array.from(taps.weights)).toEqual([0.125, 0.375, 0.375, 0.125]);
  });

  it('bilinear keeps constants constant and channels separate', () => {
    const data = new Uint8Array(9 * 7 * 3);
    for (let i = 0; i < data.length; i += 3) data.set([10, 200, 77], i);
    const out = resizeBilinear({ width: 9, height: 7, channels: 3, data }, 4, 5);
    for (let i = 0; i < out.data.length; i += 3) expect(Array.from(out.data.subarray(i, i + 3))).toEqual([10, 200, 77]);
  });

  it('nearest resize picks source index floor((o + 0.5) * scale), so class ids stay exact', () => {
    const plane = { width: 6, height: 1, data: Uint8Array.of(0, 1, 2, 3, 4, 5) };
    expect(Array.from(resizeNearest(plane, 3, 1).data)).toEqual([1, 3, 5]);
    expect(Array.from(resizeNearest(plane, 4, 1).data)).toEqual([0, 2, 3, 5]); // 0.75, 2.25, 3.75, 5.25
  });

  it('crops a rectangle and refuses one outside the image', () => {
    const img = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => i) };
    expect(Array.from(crop(img, 1, 1, 2, 2).data)).toEqual([5, 6, 9, 10]);
    expect(() => crop(img, 3, 0, 2, 1)).toThrow(/outside the 4x3 image/);
  });

  it('grayscale uses BT.601 weights; gray+alpha keeps gray; toChannels(3) repeats gray', () => {
    const rgb = { width: 2, height: 1, channels: 3 as const, data: Uint8Array.of(255, 0, 0, 10, 20, 30) };
    // 0.299*255 = 76.2 -> 76; 0.299*10 + 0.587*20 + 0.114*30 = 18.15 -> 18
    expect(Array.from(toGrayscale(rgb).data)).toEqual([76, 18]);
    expect(Array.from(toGrayscale({ width: 1, height: 1, channels: 2, data: Uint8Array.of(9, 200) }).data)).toEqual([9]);
    expect(Array.from(toChannels({ width: 1, height: 1, channels: 2, data: Uint8Array.of(9, 200) }, 3).data)).toEqual([9, 9, 9]);
  });
});
