// A small network with every op kind the Prob U-Net uses (3x3 and 1x1 convs, 2x2 average pool,
// bilinear resize with aligned corners, concat, tiling a latent over the image, exp of a
// clipped log-sigma, analytic Gaussian KL, softmax cross-entropy), parameterised by size so the
// same code serves the cpu-vs-webgpu equality tests and the train-step measurement.
import * as tf from '@tensorflow/tfjs';

export interface SmallUNetConfig {
  levels: number;
  baseChannels: number;
  inChannels: number;
  classes: number;
  latent: number;
}

export interface ParamInit {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** mulberry32: a tiny seeded PRNG, so both backends start from identical numbers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normalArray(n: number, std: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rand(), 1e-12);
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  }
  return out;
}

function channels(cfg: SmallUNetConfig, level: number): number {
  return cfg.baseChannels * 2 ** level;
}

/** He-normal conv weights, small biases (non-zero, so bias gradients are exercised too). */
export function initParams(cfg: SmallUNetConfig, seed: number): ParamInit[] {
  const rand = seededRandom(seed);
  const params: ParamInit[] = [];
  const conv = (name: string, k: number, cin: number, cout: number) => {
    params.push({ name: `${name}.w`, shape: [k, k, cin, cout], values: normalArray(k * k * cin * cout, Math.sqrt(2 / (k * k * cin)), rand) });
    params.push({ name: `${name}.b`, shape: [cout], values: normalArray(cout, 0.01, rand) });
  };
  let cin = cfg.inChannels;
  for (let i = 0; i < cfg.levels; i++) {
    conv(`enc${i}a`, 3, cin, channels(cfg, i));
    conv(`enc${i}b`, 3, channels(cfg, i), channels(cfg, i));
    cin = channels(cfg, i);
  }
  for (let i = cfg.levels - 2; i >= 0; i--) {
    conv(`dec${i}a`, 3, channels(cfg, i + 1) + channels(cfg, i), channels(cfg, i));
    conv(`dec${i}b`, 3, channels(cfg, i), channels(cfg, i));
  }
  const top = channels(cfg, cfg.levels - 1);
  params.push({ name: 'latent.w', shape: [top, 2 * cfg.latent], values: normalArray(top * 2 * cfg.latent, Math.sqrt(1 / top), rand) });
  params.push({ name: 'latent.b', shape: [2 * cfg.latent], values: normalArray(2 * cfg.latent, 0.01, rand) });
  conv('fcomb0', 1, channels(cfg, 0) + cfg.latent, channels(cfg, 0));
  conv('fcomb1', 1, channels(cfg, 0), cfg.classes);
  return params;
}

export interface Batch {
  image: Float32Array; // [n, h, w, inChannels]
  labels: Int32Array; // [n, h, w] class ids
  eps: Float32Array; // [n, latent] reparameterisation noise
  n: number;
  size: number;
}

export function makeBatch(cfg: SmallUNetConfig, n: number, size: number, seed: number): Batch {
  const rand = seededRandom(seed);
  const image = normalArray(n * size * size * cfg.inChannels, 1, rand);
  const labels = new Int32Array(n * size * size);
  // Labels that depend on the image, so the loss can actually go down.
  for (let p = 0; p < labels.length; p++) labels[p] = image[p * cfg.inChannels]! > 0 ? 1 % cfg.classes : 0;
  return { image, labels, eps: normalArray(n * cfg.latent, 1, rand), n, size };
}

type Params = Record<string, tf.Tensor>;

function conv(p: Params, name: string, x: tf.Tensor4D, relu: boolean): tf.Tensor4D {
  const y = tf.add(tf.conv2d(x, p[`${name}.w`] as tf.Tensor4D, 1, 'same'), p[`${name}.b`]!) as tf.Tensor4D;
  return relu ? tf.relu(y) : y;
}

/** Loss = mean softmax cross-entropy + mean KL(N(mu, sigma) || N(0, 1)). Call inside tf.tidy
 *  or a gradient function. */
export function smallUNetLoss(cfg: SmallUNetConfig, p: Params, batch: Batch): tf.Scalar {
  const { n, size } = batch;
  const x = tf.tensor4d(batch.image, [n, size, size, cfg.inChannels]);
  const skips: tf.Tensor4D[] = [];
  let h = x;
  for (let i = 0; i < cfg.levels; i++) {
    if (i > 0) h = tf.avgPool(h, 2, 2, 'valid');
    h = conv(p, `enc${i}b`, conv(p, `enc${i}a`, h, true), true);
    skips.push(h);
  }
  const bottleneck = h;
  for (let i = cfg.levels - 2; i >= 0; i--) {
    const skip = skips[i]!;
    const up = tf.image.resizeBilinear(h, [skip.shape[1], skip.shape[2]], true);
    h = conv(p, `dec${i}b`, conv(p, `dec${i}a`, tf.concat([up, skip], 3), true), true);
  }
  // Latent head on the globally averaged bottleneck, as the prior/posterior nets do.
  const pooled = tf.mean(bottleneck, [1, 2]) as tf.Tensor2D;
  const stats = tf.add(tf.matMul(pooled, p['latent.w'] as tf.Tensor2D), p['latent.b']!) as tf.Tensor2D;
  const [mu, rawLogSigma] = tf.split(stats, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  const logSigma = tf.clipByValue(rawLogSigma, -10, 10);
  const sigma = tf.exp(logSigma);
  const z = tf.add(mu, tf.mul(sigma, tf.tensor2d(batch.eps, [n, cfg.latent])));
  const kl = tf.mean(tf.sum(tf.mul(0.5, tf.sub(tf.add(tf.square(sigma), tf.square(mu)), tf.add(1, tf.mul(2, logSigma)))), 1));
  // fcomb: tile z over the image, concat with the features, 1x1 convs.
  const tiled = tf.tile(tf.reshape(z, [n, 1, 1, cfg.latent]), [1, size, size, 1]);
  const logits = conv(p, 'fcomb1', conv(p, 'fcomb0', tf.concat([h, tiled], 3) as tf.Tensor4D, true), false);
  const onehot = tf.oneHot(tf.tensor3d(batch.labels, [n, size, size], 'int32'), cfg.classes);
  const ce = tf.losses.softmaxCrossEntropy(onehot, logits);
  return tf.add(ce, tf.mul(0.1, kl)) as tf.Scalar;
}

let variableSet = 0;

/** Trainable variables from the initial values (names unique per call: tfjs's are global). */
export function makeVariables(init: ParamInit[]): Record<string, tf.Variable> {
  const set = variableSet++;
  const vars: Record<string, tf.Variable> = {};
  for (const { name, shape, values } of init) {
    vars[name] = tf.tidy(() => tf.variable(tf.tensor(values, shape), true, `smallunet${set}/${name}`));
  }
  return vars;
}

export function disposeVariables(vars: Record<string, tf.Variable>): void {
  for (const v of Object.values(vars)) v.dispose();
}
