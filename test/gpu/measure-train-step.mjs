#!/usr/bin/env node
// Measures one training step (forward + backward + Adam) of a small U-Net-like net (3 levels,
// 16/32/64 channels, the Prob U-Net's op kinds; test/gpu/support/small-unet.ts) at 64x64,
// batch 2, on one backend. Prints one JSON line: first step (includes shader compilation on
// webgpu) and the median of the later steps.
//
//   node test/gpu/measure-train-step.mjs cpu|webgpu [steps=5]
//
// Shader-cache experiments on Mesa lavapipe (the cache must be set before the driver loads):
//   MESA_SHADER_CACHE_DISABLE=true node test/gpu/measure-train-step.mjs webgpu   # no cache
//   MESA_SHADER_CACHE_DIR=$(mktemp -d) node test/gpu/measure-train-step.mjs webgpu  # cold cache
//   MESA_SHADER_CACHE_DIR=.cache/mesa node test/gpu/measure-train-step.mjs webgpu   # warm (2nd run)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { transpileGpuModules, repoRoot } from './support/transpile.mjs';

const backend = process.argv[2] ?? 'webgpu';
const steps = Number(process.argv[3] ?? 5);
const dir = transpileGpuModules(join(repoRoot, '.cache', 'gpu-build', `measure-${process.pid}`));
try {
  const tf = await import('@tensorflow/tfjs');
  const { tryWebGPU } = await import(`${dir}/runtime/backends/webgpu.js`);
  const net = await import(`${dir}/test/gpu/support/small-unet.js`);
  let adapter = null;
  if (backend === 'webgpu') {
    const r = await tryWebGPU({ allowSoftware: true, cpuForward: false });
    if (!r.ok) throw new Error(r.reason);
    adapter = r.adapter.description;
  } else if (!(await tf.setBackend(backend))) {
    throw new Error(`tf.setBackend('${backend}') returned false`);
  }
  const cfg = { levels: 3, baseChannels: 16, inChannels: 1, classes: 2, latent: 6 };
  const vars = net.makeVariables(net.initParams(cfg, 1));
  const batch = net.makeBatch(cfg, 2, 64, 2);
  const optimizer = tf.train.adam(1e-3);
  const times = [];
  for (let step = 0; step < steps; step++) {
    const t0 = performance.now();
    const loss = optimizer.minimize(() => net.smallUNetLoss(cfg, vars, batch), true, Object.values(vars));
    await loss.data();
    loss.dispose();
    times.push(performance.now() - t0);
  }
  const later = times.slice(1).sort((a, b) => a - b);
  console.log(JSON.stringify({
    backend: tf.getBackend(),
    adapter,
    shaderCache: process.env.MESA_SHADER_CACHE_DISABLE ? 'disabled' : (process.env.MESA_SHADER_CACHE_DIR ?? 'default'),
    firstStepMs: Math.round(times[0]),
    laterStepMedianMs: later.length ? Math.round(later[Math.floor(later.length / 2)]) : null,
    stepsMs: times.map(Math.round),
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
