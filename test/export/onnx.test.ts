/**
 * ONNX export round trip: the exported graph, run by onnxruntime-node, gives punet's logits and
 * prior for the same images and z (to 1e-4), for the tiny test model (through `punet export` on
 * a trained run, read back with loadRun) and for a variant that exercises the other options
 * (non-square input, 4 levels, max pooling, nearest upsampling, elu, 5x5 kernels, RGB, 3 classes).
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModel, createRegistry, loadRun, loadSpec, type CompiledModel } from '../../index.js';
import { probUNetToOnnx } from '../../runtime/export/prob-unet-onnx.js';
import { ROOT, runInProcess, tempDir, TINY_SPEC } from '../cli/helpers.js';

const exportCommand = () => import('../../runtime/cli/commands/export.js');

/** Deterministic inputs: images in [0, 1], z spread over a few prior standard deviations. */
function inputs(b: number, n: number, [h, w, c]: number[], m: number) {
  return {
    images: Float32Array.from({ length: b * h * w * c }, (_, i) => (Math.sin(i * 0.37) + 1) / 2),
    z: Float32Array.from({ length: b * n * m }, (_, i) => 1.5 * Math.cos(i * 1.3)),
  };
}

async function runOnnx(file: string | Uint8Array, images: Float32Array, z: Float32Array, shape: { b: number; n: number; h: number; w: number; c: number; m: number }) {
  const session = await ort.InferenceSession.create(file as never);
  const out = await session.run({
    image: new ort.Tensor('float32', images, [shape.b, shape.h, shape.w, shape.c]),
    z: new ort.Tensor('float32', z, [shape.b, shape.n, shape.m]),
  });
  return { logits: out.logits!, mu: out.prior_mu!.data as Float32Array, sigma: out.prior_sigma!.data as Float32Array };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** punet's own logits and prior parameters for the images and z. */
async function reference(segmenter: CompiledModel['segmenter'], images: Float32Array, z: Float32Array, s: { b: number; n: number; h: number; w: number; c: number; m: number }) {
  const input = tf.tensor4d(images, [s.b, s.h, s.w, s.c]);
  const prepared = segmenter.prepare(input);
  const logits = tf.tidy(() => segmenter.decode(prepared, tf.tensor3d(z, [s.b, s.n, s.m])));
  const result = {
    logits: (await logits.data()) as Float32Array,
    mu: (await prepared.prior.params.mu!.data()) as Float32Array,
    sigma: (await tf.tidy(() => tf.exp(prepared.prior.params.log_sigma!)).data()) as Float32Array,
  };
  tf.dispose([input, logits]);
  prepared.dispose();
  return result;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('punet export --format onnx', () => {
  let runDir: string;
  beforeAll(async () => {
    runDir = join(tempDir(), 'run');
    const trained = await runInProcess(() => import('../../runtime/cli/commands/compile-and-train.js'), [TINY_SPEC, '--steps', '2', '--out', runDir]);
    expect(trained.code, trained.stderr).toBe(0);
  }, 120_000);

  it("onnxruntime gives the trained run's logits and prior for the same images and z (1e-4)", async () => {
    const file = join(tempDir(), 'model.onnx');
    const r = await runInProcess(exportCommand, [runDir, '--out', file, '--checkpoint', 'last']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/last checkpoint \(step 2\) -> .*model\.onnx/);
    const model = await loadRun(runDir, { checkpoint: 'last', backend: 'cpu' });
    const s = { b: 2, n: 3, h: 16, w: 16, c: 1, m: model.latentShape![0]! };
    const { images, z } = inputs(s.b, s.n, [s.h, s.w, s.c], s.m);
    const ours = await runOnnx(file, images, z, s);
    const prepared = model.prepare(images);
    const expected = tf.tidy(() => model.decode(prepared, tf.tensor3d(z, [s.b, s.n, s.m])));
    const mu = await prepared.prior.params.mu!.data();
    prepared.dispose();
    expect(ours.logits.dims).toEqual([2, 3, 16, 16, 2]);
    expect(maxAbsDiff(ours.logits.data as Float32Array, await expected.data())).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.mu, mu)).toBeLessThan(1e-4);
    expected.dispose();
    model.dispose();
  });

  it('refuses other formats and a missing --out as usage errors', async () => {
    const tfjs = await runInProcess(exportCommand, [runDir, '--format', 'tfjs', '--out', 'x.onnx']);
    expect(tfjs.code).toBe(2);
    expect(tfjs.stderr).toMatch(/--format tfjs is not supported/);
    expect((await runInProcess(exportCommand, [runDir])).code).toBe(2);
    expect((await runInProcess(exportCommand, [runDir, '--out', 'model.pb'])).stderr).toMatch(/--out must name an \.onnx file/);
  });
});

describe('the exported graph covers every option of the flat model', () => {
  async function compiled(source: string): Promise<CompiledModel> {
    const file = join(tempDir(), 'variant.punet');
    writeFileSync(file, source);
    const registry = createRegistry();
    const result = await loadSpec(file, { registry });
    expect(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
    return compileModel(result.spec!, registry, { seed: 11 });
  }

  it('non-square input, 4 levels, max pooling, nearest upsampling, elu, 5x5 kernels, RGB, 3 classes: logits to 1e-4', async () => {
    const variant = readFileSync(TINY_SPEC, 'utf8')
      .replace('size: 16x16 px  channels: 1  classes: 2', 'size: 24x16 px  channels: 3  classes: 3')
      .replace('unet unet { widths: [4, 8]  convs_per_block: 1 }', 'unet unet { widths: [4, 6, 6, 5]  convs_per_block: 2  kernel_size: 5  down: maxpool  up: nearest  activation: elu }')
      .replace('prior conv-encoder { widths: [4, 8]  convs_per_block: 1  sees: image }', 'prior conv-encoder { widths: [3, 5, 4]  convs_per_block: 1  sees: image  activation: elu }')
      .replace('latent gaussian { size: 2 }', 'latent gaussian { size: 3  log_sigma_bound: 2 }')
      .replace('combiner fcomb { layers: 2  width: 4 }', 'combiner fcomb { layers: 3  width: 5  activation: elu }');
    const model = await compiled(variant);
    const s = { b: 2, n: 4, h: 24, w: 16, c: 3, m: 3 };
    const { images, z } = inputs(s.b, s.n, [s.h, s.w, s.c], s.m);
    const ours = await runOnnx(probUNetToOnnx(model, { punetVersion: 'test', step: 0, runDir: '' }), images, z, s);
    const expected = await reference(model.segmenter, images, z, s);
    model.dispose();
    expect(ours.logits.dims).toEqual([2, 4, 24, 16, 3]);
    // The comparison means something only if the logits vary.
    expect(Math.max(...expected.logits) - Math.min(...expected.logits)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(ours.logits.data as Float32Array, expected.logits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.mu, expected.mu)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours.sigma, expected.sigma)).toBeLessThan(1e-4);
  });

  it('the hierarchical architecture is refused with a message that says so', async () => {
    const model = await compiled(readFileSync(join(ROOT, 'examples/hierarchical-tiny.punet'), 'utf8').replace(/extends "\.\//g, `extends "${ROOT}examples/`));
    try {
      expect(() => probUNetToOnnx(model, { punetVersion: 'test', step: 0, runDir: '' })).toThrow(/supports the flat 'prob-unet' architecture; this run uses 'hierarchical/);
    } finally {
      model.dispose();
    }
  });
});
