/**
 * loadRun: a trained run folder as a model another program can call. It reopens the run exactly
 * as `punet sample` does (runtime/run/session.ts: spec, plugins, compiled model, checkpoint) and
 * samples through the same sampler, so a program gets the CLI's numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Prepared, Tensor } from '../../compiler/api.js';
import type { LatentBlock } from '../../plugins/builtin/contracts.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { selectBackend, type BackendRequest } from '../backends/select.js';
import { readJson, runPath } from '../run/folder.js';
import { openRun, type OpenedRun } from '../run/session.js';
import { samplePrior, type ImageSamples } from '../sample/sampler.js';
import { readImage, type ModelImage, type ReadImageOptions } from './image.js';

export interface LoadRunOptions {
  /** The checkpoint selected by validation ('best', the default; falls back to 'last'), or the last one. */
  checkpoint?: 'best' | 'last';
  /** TensorFlow.js backend: auto, tensorflow, webgpu, wasm or cpu. Default: the run's train.backend. */
  backend?: BackendRequest;
  /** Receives warnings (e.g. a damaged checkpoint skipped). Default: ignored. */
  onWarning?: (message: string) => void;
}

/** Images for a model call: one Float32Array per image (H*W*C, e.g. readImage's `data`), or all of them in one array. */
export type ImagesInput = Float32Array | Float32Array[] | ModelImage[];

export interface PunetModel {
  runDir: string;
  /** The resolved spec the run was trained with (spec.json). */
  spec: ResolvedSpec;
  /** Which checkpoint was loaded and its training step. */
  checkpoint: 'best' | 'last';
  step: number;
  /** Input [height, width], channels and classes (background included). */
  inputSize: [number, number];
  channels: number;
  classes: number;
  /** Shape of one latent sample z (the flat model: [M]); undefined when the latent block does not say. */
  latentShape?: number[];
  /** readImage with this model's input size and channels. */
  readImage(path: string, options?: Omit<ReadImageOptions, 'size' | 'channels'>): ModelImage;
  /** n prior samples per image: hard masks and foreground probabilities. The same seed gives the same samples. */
  sample(images: ImagesInput, n: number, options?: { seed?: number }): Promise<ImageSamples[]>;
  /** One prediction per image from the prior's mean latent (every scale's mean). */
  predictMean(images: ImagesInput): Promise<ImageSamples[]>;
  /** Low level: U-Net features and prior for a batch [B, H, W, C]. Dispose the result. */
  prepare(images: ImagesInput): Prepared;
  /** Low level: logits [B, n, H, W, K] for given latents z [B, n, ...latentShape]. Dispose the result. */
  decode(prepared: Prepared, z: Tensor): Tensor;
  /** Frees the weights. */
  dispose(): void;
}

export async function loadRun(runDir: string, options: LoadRunOptions = {}): Promise<PunetModel> {
  const warn = options.onWarning ?? (() => {});
  const specFile = runPath(resolve(runDir), 'spec');
  // The backend first: the weights are created on it. openRun reports a folder that is not a run.
  const backend = options.backend ?? (existsSync(specFile) ? readJson<ResolvedSpec>(specFile).train.backend : 'auto');
  await selectBackend(backend as BackendRequest, { source: options.backend ? 'loadRun({ backend })' : `train.backend in ${runDir}` });
  const opened = await openRun(runDir, options.checkpoint ?? 'best', warn);
  return punetModel(opened);
}

function punetModel(opened: OpenedRun): PunetModel {
  const { spec, compiled } = opened;
  const [height, width] = spec.input.size;
  const channels = spec.input.channels;
  const segmenter = compiled.segmenter;
  const latent = compiled.blocks.latent as Partial<LatentBlock> | undefined;

  const batch = (images: ImagesInput): { data: Float32Array; count: number } => {
    const per = height * width * channels;
    const parts = images instanceof Float32Array ? [images] : images.map((x) => (x instanceof Float32Array ? x : x.data));
    const data = parts.length === 1 ? parts[0]! : new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    if (parts.length > 1) parts.reduce((offset, p) => (data.set(p, offset), offset + p.length), 0);
    if (data.length === 0 || data.length % per !== 0) {
      throw new Error(`images must hold whole ${height}x${width}x${channels} images (${per} values each); got ${data.length} values`);
    }
    return { data, count: data.length / per };
  };
  const shape = (count: number) => ({ batch: count, height, width, channels });

  return {
    runDir: opened.runDir,
    spec,
    checkpoint: opened.which,
    step: opened.checkpoint.checkpoint.meta.step,
    inputSize: [height, width],
    channels,
    classes: spec.input.classes,
    latentShape: latent?.eventShape ? [...latent.eventShape] : undefined,
    readImage: (path, o = {}) => readImage(path, { ...o, size: [height, width], channels: channels as 1 | 3 }),
    async sample(images, n, o = {}) {
      const { data, count } = batch(images);
      return samplePrior(segmenter, data, shape(count), n, o.seed ?? 0);
    },
    async predictMean(images) {
      const { data, count } = batch(images);
      return samplePrior(segmenter, data, shape(count), 1, 0, ['mean']); // one entry: every scale's prior mean
    },
    prepare(images) {
      const { data, count } = batch(images);
      const input = tf.tensor4d(data, [count, height, width, channels]);
      try {
        return segmenter.prepare(input);
      } finally {
        input.dispose();
      }
    },
    decode: (prepared, z) => segmenter.decode(prepared, z),
    dispose: () => compiled.dispose(),
  };
}
