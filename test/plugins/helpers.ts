/** Shared fixtures for the plugin tests: a registry with the hierarchical plugin, tiny specs. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResolvedSpec } from '../../compiler/api.js';
import { createRegistry } from '../../plugins/index.js';
import hierarchical from '../../plugins/hierarchical/index.js';
import type { Registry } from '../../compiler/registry.js';

/** The built-ins plus punet-hierarchical (until plugins/index.ts lists it, register it here). */
export function registryWithHierarchical(): Registry {
  const registry = createRegistry();
  if (!registry.pluginNames().includes(hierarchical.name)) registry.register(hierarchical, { builtin: true });
  return registry;
}

/** The LIDC contract spec shrunk to 16x16, 2 levels, 1 conv per level: a fast flat model. */
export function tinyFlatSpec(): ResolvedSpec {
  const path = fileURLToPath(new URL('../../docs/contract/prob-unet-lidc.resolved.json', import.meta.url));
  const spec = JSON.parse(readFileSync(path, 'utf8')) as ResolvedSpec;
  const widths = [4, 8];
  spec.model = 'tiny-flat';
  spec.input = { size: [16, 16], channels: 1, classes: 2 };
  spec.unet = { ...spec.unet!, widths, convs_per_block: 1 };
  spec.prior = { ...spec.prior!, widths, convs_per_block: 1 };
  spec.posterior = { ...spec.posterior!, widths, convs_per_block: 1 };
  spec.latent = { ...spec.latent!, size: 2 };
  spec.combiner = { ...spec.combiner!, width: 4, layers: 1 };
  spec.loss.regularization = { kind: 'none' };
  spec.train = { ...spec.train, optimizer: { kind: 'adam', lr: 1e-3 }, schedule: { kind: 'constant' }, batch_size: 2, steps: 5, seed: 1, backend: 'cpu' };
  return spec;
}

/** A tiny hierarchical spec: 32x32, 4 levels (32, 16, 8, 4), 3 latent scales at 4x4, 8x8, 16x16. */
export function tinyHierarchicalSpec(): ResolvedSpec {
  const flat = tinyFlatSpec();
  return {
    ...flat,
    loss: { ...flat.loss, regularization: { kind: 'none' } },
    model: 'tiny-hierarchical',
    input: { size: [32, 32], channels: 1, classes: 2 },
    architecture: { kind: 'hierarchical' },
    unet: { kind: 'resnet-unet', widths: [4, 8, 8, 8], blocks_per_level: 1, convs_per_block: 2 },
    prior: { kind: 'hierarchical-prior' },
    posterior: { kind: 'hierarchical-posterior' },
    latent: { kind: 'hierarchical-gaussian', scales: 3, channels: 1 },
    combiner: { kind: 'logits-head' },
  };
}

/** A fixed batch: images with a bright square, masks = that square (class 1). */
export function squareBatch(tf: typeof import('@tensorflow/tfjs'), batch: number, size: number) {
  const images = new Float32Array(batch * size * size);
  const masks = new Int32Array(batch * size * size);
  for (let b = 0; b < batch; b++) {
    const lo = Math.floor(size / 8) + b;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = y >= lo && y < lo + size / 2 && x >= lo && x < lo + size / 2;
        const i = (b * size + y) * size + x;
        images[i] = inside ? 0.9 : 0.1;
        masks[i] = inside ? 1 : 0;
      }
    }
  }
  return { images: tf.tensor4d(images, [batch, size, size, 1]), masks: tf.tensor3d(masks, [batch, size, size], 'int32') };
}
