import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { createRegistry } from '../../plugins/index.js';
import { lidcSpec, tinySpec } from './helpers.js';

/** Parameters of a stride-1 conv with bias, by hand. */
const conv = (k: number, cin: number, cout: number) => k * k * cin * cout + cout;

/** Independent count of a reference U-Net encoder: 3 convs per level. */
function encoderParams(inChannels: number, widths: number[]): number {
  let total = 0;
  widths.forEach((w, i) => {
    total += conv(3, i === 0 ? inChannels : widths[i - 1]!, w) + 2 * conv(3, w, w);
  });
  return total;
}

function decoderParams(widths: number[]): number {
  let total = 0;
  for (let i = widths.length - 2; i >= 0; i--) total += conv(3, widths[i + 1]! + widths[i]!, widths[i]!) + 2 * conv(3, widths[i]!, widths[i]!);
  return total;
}

describe('parameter counts of the LIDC contract spec', () => {
  let model: CompiledModel;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = compileModel(lidcSpec(), createRegistry(), { seed: 1 });
  });
  afterAll(() => model.dispose());

  const count = (role: string) => model.summary.find((b) => b.role === role)!.parameters;

  it('matches the reference architecture exactly', () => {
    expect(count('unet')).toBe(2_260_128);
    expect(count('prior')).toBe(1_367_820);
    expect(count('posterior')).toBe(1_368_396);
    expect(count('combiner')).toBe(3_426);
    expect(count('latent')).toBe(0);
    expect(model.parameterCount).toBe(4_999_770);
  });

  it('agrees with an independent count from the structure', () => {
    const widths = [32, 64, 128, 192];
    expect(count('unet')).toBe(encoderParams(1, widths) + decoderParams(widths));
    expect(count('prior')).toBe(encoderParams(1, widths) + conv(1, 192, 12));
    expect(count('posterior')).toBe(encoderParams(3, widths) + conv(1, 192, 12));
    expect(count('combiner')).toBe(conv(1, 32 + 6, 32) + 2 * conv(1, 32, 32) + conv(1, 32, 2));
  });

  it('reports per-image output shapes of every block', () => {
    const shapes = Object.fromEntries(model.summary.map((b) => [b.role, b.outputShapes]));
    expect(shapes.unet).toEqual({
      'encoder.level0': [128, 128, 32],
      'encoder.level1': [64, 64, 64],
      'encoder.level2': [32, 32, 128],
      'encoder.level3': [16, 16, 192],
      'decoder.up2': [32, 32, 128],
      'decoder.up1': [64, 64, 64],
      'decoder.up0': [128, 128, 32],
      features: [128, 128, 32],
    });
    for (const role of ['prior', 'posterior']) {
      expect(shapes[role]).toMatchObject({ 'encoder.level3': [16, 16, 192], pooled: [192], head: [12] });
    }
    expect(shapes.latent).toEqual({ mu: [6], log_sigma: [6] });
    expect(shapes.combiner).toEqual({ logits: [128, 128, 2] });
  });

  it('marks exactly the conv kernels for weight decay', () => {
    for (const { name, variable: v, regularize } of model.variables) {
      expect(regularize).toBe(name.endsWith('/kernel'));
      if (name.endsWith('/bias')) expect(v.shape.length).toBe(1);
    }
    const decayed = model.variables.filter((v) => v.regularize).reduce((n, v) => n + v.variable.size, 0);
    // Biases: every conv's output channels.
    const biases = model.variables.filter((v) => v.name.endsWith('/bias')).reduce((n, v) => n + v.variable.size, 0);
    expect(decayed + biases).toBe(4_999_770);
  });
});

describe('tiny config', () => {
  it('counts and shapes follow the widths', async () => {
    await tf.setBackend('cpu');
    const model = compileModel(tinySpec({ size: [17, 15], widths: [4, 8, 8] }), createRegistry(), { seed: 1 });
    try {
      const unet = model.summary.find((b) => b.role === 'unet')!;
      expect(unet.parameters).toBe(encoderParams(1, [4, 8, 8]) + decoderParams([4, 8, 8]));
      // SAME pooling rounds odd sizes up: 17x15 -> 9x8 -> 5x4.
      expect(unet.outputShapes['encoder.level1']).toEqual([9, 8, 8]);
      expect(unet.outputShapes['encoder.level2']).toEqual([5, 4, 8]);
      expect(unet.outputShapes.features).toEqual([17, 15, 4]);
      expect(model.summary.find((b) => b.role === 'combiner')!.outputShapes.logits).toEqual([17, 15, 2]);
    } finally {
      model.dispose();
    }
  });
});
