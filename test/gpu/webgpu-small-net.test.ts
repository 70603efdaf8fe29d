// The GPU path against the cpu reference on a small net with the Prob U-Net's op kinds: forward
// loss, every gradient, 20 Adam steps, and no tensor/GPU-buffer leaks. All ops in shaders
// (WEBGPU_CPU_FORWARD off). Runs on software Vulkan (lavapipe) in CI.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { acquireWebGPU, gpuRequired, onBackend, relativeMaxDiff } from './support/webgpu-env.js';
import {
  disposeVariables,
  initParams,
  makeBatch,
  makeVariables,
  smallUNetLoss,
  type SmallUNetConfig,
} from './support/small-unet.js';

const gpu = await acquireWebGPU();

const cfg: SmallUNetConfig = { levels: 3, baseChannels: 4, inChannels: 1, classes: 2, latent: 3 };
const init = initParams(cfg, 7);
const batch = makeBatch(cfg, 2, 16, 11);

interface LossAndGrads {
  loss: number;
  grads: Record<string, Float32Array>;
}

async function lossAndGrads(backend: 'cpu' | 'webgpu'): Promise<LossAndGrads> {
  return onBackend(backend, async () => {
    const vars = makeVariables(init);
    const { value, grads } = tf.variableGrads(() => smallUNetLoss(cfg, vars, batch), Object.values(vars));
    const out: LossAndGrads = { loss: (await value.data())[0]!, grads: {} };
    for (const [name, v] of Object.entries(vars)) out.grads[name] = (await grads[v.name]!.data()) as Float32Array;
    tf.dispose([value, ...Object.values(grads)]);
    disposeVariables(vars);
    return out;
  });
}

/** Losses of `steps` Adam steps; the optimizer and variables are freed afterwards. */
async function adamLosses(backend: 'cpu' | 'webgpu', steps: number, onStep?: (step: number) => void): Promise<number[]> {
  return onBackend(backend, async () => {
    const vars = makeVariables(init);
    const optimizer = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      const loss = optimizer.minimize(() => smallUNetLoss(cfg, vars, batch), true, Object.values(vars))!;
      losses.push((await loss.data())[0]!);
      loss.dispose();
      onStep?.(step);
    }
    optimizer.dispose();
    disposeVariables(vars);
    return losses;
  });
}

describe('WebGPU adapter', () => {
  it.runIf(gpuRequired)('is available (PUNET_REQUIRE_GPU=1)', () => {
    if (!gpu.available) throw new Error(gpu.reason);
    expect(gpu.adapter.description.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!gpu.available)('small Prob-U-Net-like net, webgpu vs cpu', () => {
  it('forward loss and all gradients equal the cpu backend', async () => {
    const cpu = await lossAndGrads('cpu');
    const gpuRun = await lossAndGrads('webgpu');
    expect(Number.isFinite(cpu.loss)).toBe(true);
    expect(Math.abs(gpuRun.loss - cpu.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(cpu.loss)));
    for (const name of Object.keys(cpu.grads)) {
      const g = cpu.grads[name]!;
      // A gradient that is all zeros would make the comparison vacuous.
      expect(g.some((v) => v !== 0), `${name} has a non-zero gradient`).toBe(true);
      expect(relativeMaxDiff(gpuRun.grads[name]!, g), name).toBeLessThan(1e-4);
    }
  });

  it('20 Adam steps give the cpu losses', async () => {
    const cpu = await adamLosses('cpu', 20);
    const gpuLosses = await adamLosses('webgpu', 20);
    expect(cpu[19]!).toBeLessThan(cpu[0]!); // it trains
    for (let i = 0; i < 20; i++) {
      expect(Math.abs(gpuLosses[i]! - cpu[i]!), `step ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu[i]!)));
    }
  });

  it('leaks no tensors or GPU buffers over 30 training steps', async () => {
    await onBackend('webgpu', async () => {
      const tensorsBefore = tf.memory().numTensors;
      const counts: number[] = [];
      const gpuBytes: number[] = [];
      await adamLosses('webgpu', 30, () => {
        counts.push(tf.memory().numTensors);
        gpuBytes.push((tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? 0);
      });
      // Adam's slots are created on step 0; from then on every step must free what it makes.
      expect(new Set(counts.slice(1)).size).toBe(1);
      expect(gpuBytes[29]).toBe(gpuBytes[1]);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    });
  });
});
