import { it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import { createRegistry } from '../../plugins/index.js';
import { acquireWebGPU, onBackend } from './support/webgpu-env.js';
const gpu = await acquireWebGPU();
it('timing', async () => {
  const registry = createRegistry();
  const size = Number(process.env.SZ ?? 32), B = Number(process.env.BB ?? 1);
  for (const backend of (process.env.BK ?? 'webgpu,cpu').split(',') as ('cpu'|'webgpu')[]) {
    await onBackend(backend, async () => {
      const spec = JSON.parse(readFileSync('docs/contract/prob-unet-lidc.resolved.json', 'utf8'));
      spec.input.size = [size, size];
      let c = process.cpuUsage(); let t = performance.now();
      const lap = (what: string) => { const u = process.cpuUsage(c); console.log(backend, what, 'cpu', Math.round((u.user + u.system) / 1000), 'ms wall', Math.round(performance.now() - t)); c = process.cpuUsage(); t = performance.now(); };
      const model = compileModel(spec, registry, { seed: 5 }); const training = compileTraining(spec, registry);
      const images = tf.randomUniform([B, size, size, 1], 0, 1, 'float32', 1); const masks = tf.cast(tf.greater(tf.squeeze(images, [3]), 0.5), 'int32');
      await model.variables.values().next().value!.data();
      lap('compile');
      const state = training.initialObjectiveState();
      const l = tf.tidy(() => training.lossTerms(model, images, masks, 3, state).loss); await l.data(); l.dispose(); lap('forward');
      const handle = training.createOptimizer();
      for (let s = 0; s < 3; s++) { const { value, grads } = tf.variableGrads(() => training.lossTerms(model, images, masks, 4, state).loss, model.trainableVariables()); handle.optimizer.applyGradients(grads); console.log(await value.data()); tf.dispose([value, ...Object.values(grads)]); lap('step' + s); }
      try { trainStep(model, training, handle, { images, masks, seed: 4, step: 0, state }); } catch (e) { console.log('trainStep error:', (e as Error).message); }
      handle.optimizer.dispose(); model.dispose(); tf.dispose([images, masks]);
    });
  }
}, 900_000);
