/**
 * End to end through the language: a spec in a temp folder says `use "./p.js"`, the front end
 * loads the plugin before schema validation, good options resolve with defaults, a bad option is
 * reported at its spec line naming the plugin, and the model trains a step with the plugin's loss.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec, formatDiagnostics } from '../../spec/index.js';
import { loadUsePlugins } from '../../spec/frontend-cli.js';
import { createRegistry } from '../../plugins/index.js';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import { squareBatch } from './helpers.js';

let dir: string;

const PLUGIN = `export default {
  name: 'my-losses',
  version: '0.3.0',
  punetApi: '^2.0.0',
  losses: {
    'scaled-ce': {
      description: 'cross-entropy summed per image, times a constant',
      options: { type: 'object', additionalProperties: false, properties: { scale: { type: 'number', exclusiveMinimum: 0, default: 1 } } },
      compute: ({ tf, options, logits, labels }) => tf.tidy(() => {
        const k = logits.shape[logits.shape.length - 1];
        const perPixel = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.cast(labels, 'int32'), k)), -1));
        return tf.mul(tf.mean(tf.sum(tf.reshape(perPixel, [perPixel.shape[0], -1]), 1)), options.scale);
      }),
    },
  },
};
`;

/** A tiny flat model whose reconstruction loss is `reconstruction` (a line of .punet). */
const specText = (reconstruction: string) => `use "./p.js"

model "tiny-with-plugin" {
  input { size: 16x16 px  channels: 1  classes: 2 }
  architecture prob-unet
  unet unet { widths: [4, 8]  convs_per_block: 1 }
  prior conv-encoder { widths: [4, 8]  convs_per_block: 1  sees: image }
  posterior conv-encoder { widths: [4, 8]  convs_per_block: 1  sees: image+mask }
  latent gaussian { size: 2 }
  combiner fcomb { layers: 1  width: 4 }
  loss {
    ${reconstruction}
    kl analytic
    objective weighted { beta: 1 }
    regularization none
  }
  eval { distance iou  samples: [1]  metrics: [ged] }
  train {
    optimizer adam { lr: 1e-3 }
    schedule constant
    data synthetic
    batch_size: 2
    steps: 2 steps
    seed: 3
    backend: cpu
  }
}
`;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'punet-spec-use-'));
  writeFileSync(join(dir, 'p.js'), PLUGIN);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a spec that uses a third-party plugin', () => {
  it('resolves, applies the plugin option defaults, compiles and trains a step', async () => {
    const file = join(dir, 'good.punet');
    writeFileSync(file, specText('reconstruction my-losses/scaled-ce'));
    const registry = createRegistry();
    const result = await loadSpec(file, { registry, loadPlugins: loadUsePlugins });
    expect(formatDiagnostics(result.diagnostics.filter((d) => d.severity === 'error'), { sources: result.sources })).toBe('');
    const spec = result.spec!;
    expect(spec.use).toEqual([join(dir, 'p.js')]);
    expect(spec.loss.reconstruction).toEqual({ kind: 'my-losses/scaled-ce', scale: 1 });
    const model = compileModel(spec, registry);
    const training = compileTraining(spec, registry);
    const handle = training.createOptimizer();
    const { images, masks } = squareBatch(tf, 2, 16);
    const step = await trainStep(model, training, handle, { images, masks, seed: 1, step: 0, state: training.initialObjectiveState() });
    expect(step.reconstruction).toBeGreaterThan(0);
    expect(Number.isFinite(step.loss)).toBe(true);
    handle.optimizer.dispose();
    model.dispose();
    tf.dispose([images, masks]);
  });

  it("reports a bad plugin option at its spec line, naming the option", async () => {
    const file = join(dir, 'bad.punet');
    writeFileSync(file, specText('reconstruction my-losses/scaled-ce { scal: 2 }'));
    const result = await loadSpec(file, { registry: createRegistry(), loadPlugins: loadUsePlugins });
    expect(result.spec).toBeUndefined();
    const text = formatDiagnostics(result.diagnostics, { sources: result.sources });
    expect(text).toMatch(/bad\.punet:12:\d+/);
    expect(text).toMatch(/scal/);
    expect(text).toMatch(/scale/); // the known option, as a suggestion or list
  });

  it('reports a plugin that cannot be loaded at its use line', async () => {
    const file = join(dir, 'missing.punet');
    writeFileSync(file, specText('reconstruction cross-entropy').replace('./p.js', './nope.js'));
    const result = await loadSpec(file, { registry: createRegistry(), loadPlugins: loadUsePlugins });
    const text = formatDiagnostics(result.diagnostics, { sources: result.sources });
    expect(text).toMatch(/missing\.punet:1:\d+/);
    expect(text).toContain(`cannot find plugin`);
    expect(text).toContain(join(dir, 'nope.js'));
  });
});
