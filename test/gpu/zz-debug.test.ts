import { it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining } from '../../compiler/training.js';
import { createRegistry } from '../../plugins/index.js';
import { acquireWebGPU, onBackend } from './support/webgpu-env.js';
await acquireWebGPU();
it('debug', async () => {
  const registry = createRegistry();
  const res: Record<string, Record<string, number[]>> = {};
  let init: Map<string, Float32Array> | undefined;
  for (const backend of ['cpu', 'webgpu'] as const) {
    await onBackend(backend, async () => {
      const spec = JSON.parse(readFileSync('docs/contract/prob-unet-lidc.resolved.json', 'utf8'));
      spec.input.size = [16, 16];
      for (const r of ['unet', 'prior', 'posterior']) spec[r].widths = [4, 8, 8, 8];
      spec.combiner.width = 4;
      const model = compileModel(spec, registry, { seed: 5 }); const training = compileTraining(spec, registry);
      if (init) for (const [n, v] of model.variables) v.assign(tf.tensor(init.get(n)!, v.shape));
      else { init = new Map(); for (const [n, v] of model.variables) init.set(n, v.dataSync() as Float32Array); }
      const images = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 1); const masks = tf.cast(tf.greater(tf.squeeze(images, [3]), 0.5), 'int32');
      const out: Record<string, tf.Tensor> = tf.tidy(() => {
        const f = model.segmenter.trainForward(images, masks, 3);
        const t = training.lossTerms(model, images, masks, 3, training.initialObjectiveState());
        const unet = model.blocks.unet as unknown as { features(x: tf.Tensor): tf.Tensor };
        return { feats: unet.features(images), logits: f.logits, pmu: f.latents[0]!.posterior.params.mu!, pls: f.latents[0]!.posterior.params.log_sigma!, qmu: f.latents[0]!.prior.params.mu!, loss: t.loss, rec: t.reconstruction, kl: t.kl, reg: t.regularization };
      });
      res[backend] = {};
      for (const [k, t] of Object.entries(out)) res[backend]![k] = Array.from(await t.data());
      tf.dispose(Object.values(out)); model.dispose(); tf.dispose([images, masks]);
    });
  }
  for (const k of Object.keys(res.cpu!)) {
    const a = res.cpu![k]!, b = res.webgpu![k]!;
    let d = 0; for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    console.log(k, a.length, 'maxdiff', d, 'cpu', a.slice(0, 3), 'gpu', b.slice(0, 3));
  }
}, 600_000);
