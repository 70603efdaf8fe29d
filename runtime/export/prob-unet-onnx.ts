/**
 * The sampling path of a flat Probabilistic U-Net (built-in blocks unet, conv-encoder, gaussian,
 * fcomb) as an ONNX graph, from a compiled model's weights and validated block options:
 *
 *   inputs   image [batch, H, W, C] (values in [0, 1], as punet feeds them), z [batch, n, M]
 *   outputs  logits [batch, n, H, W, K], prior_mu [batch, M], prior_sigma [batch, M]
 *
 * A runtime draws z = prior_mu + prior_sigma * N(0, 1) (or takes z = prior_mu for the mean
 * prediction) and feeds it back; one call can then decode n samples. Layout is punet's (NHWC)
 * at the boundary, NCHW inside (ONNX's Conv). The ops mirror compiler/unet-parts.ts, nn.ts and
 * plugins/builtin/prob-unet.ts one for one.
 */
import type { CompiledModel } from '../../compiler/compile.js';
import type { Activation, DownSampling } from '../../plugins/toolkit/nn.js';
import type { FcombOptions, GaussianOptions, StackOptions, UNetOptions } from '../../plugins/builtin/prob-unet.js';
import { levelSizes } from '../../plugins/toolkit/unet-parts.js';
import { OnnxGraph } from './onnx-proto.js';

/** The kinds the exporter knows, by role. */
const SUPPORTED = { unet: 'unet', prior: 'conv-encoder', latent: 'gaussian', combiner: 'fcomb' } as const;
export const ONNX_OPSET = 13;

export class ExportUnsupportedError extends Error {}


export function probUNetToOnnx(compiled: CompiledModel, meta: { punetVersion: string; step: number; runDir: string }): Uint8Array {
  const { spec } = compiled;
  if (spec.architecture.kind !== 'prob-unet') {
    throw new ExportUnsupportedError(
      `ONNX export supports the flat 'prob-unet' architecture; this run uses '${spec.architecture.kind}', whose per-scale latents are not exported yet: sample it with punet sample or loadRun() (docs/api.md)`,
    );
  }
  // The graph takes images as punet feeds an un-normalised model; a normalised run would be fed
  // different values by every consumer without a word.
  const normalize = spec.input.normalize ?? 'none';
  if (normalize !== 'none') {
    throw new ExportUnsupportedError(
      `ONNX export does not include input.normalize ('${normalize}') yet: sample this run with punet sample or loadRun() (docs/api.md), or train with normalize: none`,
    );
  }
  const options = {} as Record<keyof typeof SUPPORTED, Record<string, unknown>>;
  for (const [role, kind] of Object.entries(SUPPORTED) as Array<[keyof typeof SUPPORTED, string]>) {
    const block = compiled.summary.find((b) => b.role === role);
    if (!block || block.kind !== kind || block.plugin !== 'punet-prob-unet') {
      throw new ExportUnsupportedError(`ONNX export knows the built-in '${kind}' ${role}; this run's ${role} is '${block?.plugin}/${block?.kind}'`);
    }
    options[role] = block.options;
  }
  const [H, W] = spec.input.size;
  const C = spec.input.channels;
  const K = spec.input.classes;
  const latent = options.latent as unknown as GaussianOptions;
  const M = latent.size;
  const g = new OnnxGraph();
  const weight = (name: string): { data: Float32Array; shape: number[] } => {
    const v = compiled.variable(name);
    if (!v) throw new Error(`variable ${name} missing from the compiled model`);
    return { data: v.dataSync() as Float32Array, shape: v.shape };
  };

  /** Conv + bias (+ activation), stride 1, TF SAME padding; the kernel goes HWIO -> OIHW. */
  const conv = (x: string, scope: string, activation: Activation): string => {
    const k = weight(`${scope}/kernel`);
    const [kh, kw, ci, co] = k.shape as [number, number, number, number];
    const oihw = new Float32Array(k.data.length);
    for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
      oihw[((o * ci + i) * kh + h) * kw + w] = k.data[((h * kw + w) * ci + i) * co + o]!;
    }
    const pads = [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2), Math.ceil((kh - 1) / 2), Math.ceil((kw - 1) / 2)];
    const y = g.op('Conv', [x, g.floats(`${scope}/kernel`, [co, ci, kh, kw], oihw), g.floats(`${scope}/bias`, [co], weight(`${scope}/bias`).data)], {
      kernel_shape: { ints: [kh, kw] },
      pads: { ints: pads },
    }, scope);
    return activate(y, activation);
  };
  const activate = (x: string, a: Activation): string => (a === 'relu' ? g.op('Relu', [x]) : a === 'elu' ? g.op('Elu', [x], { alpha: { f: 1 } }) : x);

  /** 2x2 stride-2 SAME pooling; padded cells are left out of averages (TF semantics, as nn.ts). */
  const pool = (x: string, [h, w]: [number, number], down: DownSampling): string => {
    const pads = { ints: [0, 0, h % 2, w % 2] };
    return down === 'maxpool'
      ? g.op('MaxPool', [x], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, pads })
      : g.op('AveragePool', [x], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, pads, count_include_pad: { i: 0 } });
  };

  /** unet-parts.ts buildEncoder: the output of every level, finest first. */
  const encoder = (x: string, scope: string, o: StackOptions): string[] => {
    const sizes = levelSizes([H, W], o.widths.length);
    const outputs: string[] = [];
    o.widths.forEach((_, i) => {
      if (i > 0) x = pool(x, sizes[i - 1]!, o.down);
      for (let j = 1; j <= o.convs_per_block; j++) x = conv(x, `${scope}/encoder/level${i}/conv${j}`, o.activation);
      outputs.push(x);
    });
    return outputs;
  };

  const image = g.input('image', ['batch', H, W, C]);
  const z = g.input('z', ['batch', 'n', M]);
  const nchw = g.op('Transpose', [image], { perm: { ints: [0, 3, 1, 2] } });

  // U-Net features (unet-parts.ts buildDecoder): resize to the skip's size (align corners), concat(up, skip), convs.
  const unet = options.unet as unknown as UNetOptions;
  const encoded = encoder(nchw, 'unet', unet);
  const sizes = levelSizes([H, W], unet.widths.length);
  let features = encoded.at(-1)!;
  for (let i = unet.widths.length - 2; i >= 0; i--) {
    const [h, w] = sizes[i]!;
    // Resize takes the full output shape: [batch, channels] of the input, then the skip's H x W.
    const batchAndChannels = g.op('Slice', [g.op('Shape', [features]), g.ints([0], 'start'), g.ints([2], 'end'), g.ints([0], 'axis')]);
    const size = g.op('Concat', [batchAndChannels, g.ints([h, w], 'size')], { axis: { i: 0 } });
    const up = g.op('Resize', [features, '', '', size], {
      mode: { s: unet.up === 'bilinear' ? 'linear' : 'nearest' },
      coordinate_transformation_mode: { s: 'align_corners' },
      // tfjs rounds align-corners nearest-neighbour source positions half up.
      nearest_mode: { s: 'round_prefer_ceil' },
    });
    features = g.op('Concat', [up, encoded[i]!], { axis: { i: 1 } });
    for (let j = 1; j <= unet.convs_per_block; j++) features = conv(features, `unet/decoder/up${i}/conv${j}`, unet.activation);
  }

  // Prior (prob-unet.ts buildLatentEncoder + gaussian): encoder, mean over H and W, 1x1 head, mu | bounded log sigma.
  const prior = options.prior as unknown as StackOptions;
  const pooled = g.op('ReduceMean', [encoder(nchw, 'prior', prior).at(-1)!], { axes: { ints: [2, 3] }, keepdims: { i: 1 } });
  const head = g.op('Reshape', [conv(pooled, 'prior/head', 'linear'), g.ints([0, 2 * M], 'shape')]);
  const mu = g.op('Slice', [head, g.ints([0], 'start'), g.ints([M], 'end'), g.ints([1], 'axis')]);
  const raw = g.op('Slice', [head, g.ints([M], 'start'), g.ints([2 * M], 'end'), g.ints([1], 'axis')]);
  const bound = g.floats('latent/log_sigma_bound', [], Float32Array.of(latent.log_sigma_bound));
  const logSigma = g.op('Mul', [g.op('Tanh', [g.op('Div', [raw, bound])]), bound]);
  const sigma = g.op('Exp', [logSigma]);

  // fcomb (prob-unet.ts buildFcomb): the first 1x1 conv over concat(features, tile(z)) is split into
  // W_f * features + b (once per image) and z W_z (per sample), broadcast-added over H x W.
  const fcomb = options.combiner as unknown as FcombOptions;
  const first = weight('combiner/conv1/kernel');
  const F = first.shape[2]! - M;
  const width = fcomb.width;
  const wf = new Float32Array(width * F);
  const wz = new Float32Array(M * width);
  for (let i = 0; i < F + M; i++) for (let o = 0; o < width; o++) {
    const value = first.data[i * width + o]!;
    if (i < F) wf[o * F + i] = value;
    else wz[(i - F) * width + o] = value;
  }
  const perImage = g.op('Conv', [features, g.floats('combiner/conv1/kernel_features', [width, F, 1, 1], wf), g.floats('combiner/conv1/bias', [width], weight('combiner/conv1/bias').data)], {
    kernel_shape: { ints: [1, 1] },
  });
  const perSample = g.op('Reshape', [g.op('MatMul', [z, g.floats('combiner/conv1/kernel_z', [M, width], wz)]), g.ints([0, 0, width, 1, 1], 'shape')]);
  const summed = g.op('Add', [g.op('Reshape', [perImage, g.ints([0, 1, width, H, W], 'shape')]), perSample]); // [B, n, width, H, W]
  let x = activate(g.op('Reshape', [summed, g.ints([-1, width, H, W], 'shape')]), fcomb.activation);
  for (let i = 2; i <= fcomb.layers; i++) x = conv(x, `combiner/conv${i}`, fcomb.activation);
  x = conv(x, 'combiner/logits', 'linear'); // [B * n, K, H, W]
  const batchAndN = g.op('Slice', [g.op('Shape', [z]), g.ints([0], 'start'), g.ints([2], 'end'), g.ints([0], 'axis')]);
  const logits = g.op('Transpose', [g.op('Reshape', [x, g.op('Concat', [batchAndN, g.ints([K, H, W], 'shape')], { axis: { i: 0 } })])], {
    perm: { ints: [0, 1, 3, 4, 2] },
  });

  g.output('logits', logits, ['batch', 'n', H, W, K]);
  g.output('prior_mu', mu, ['batch', M]);
  g.output('prior_sigma', sigma, ['batch', M]);
  return g.encode({
    opset: ONNX_OPSET,
    producerVersion: meta.punetVersion,
    graphName: spec.model,
    doc: `punet ${spec.model}, step ${meta.step}: image [batch, ${H}, ${W}, ${C}] in [0, 1] and z [batch, n, ${M}] -> logits [batch, n, ${H}, ${W}, ${K}]; draw z = prior_mu + prior_sigma * N(0, 1)`,
    properties: { 'punet.model': spec.model, 'punet.step': String(meta.step), 'punet.classes': String(K), 'punet.latent_size': String(M), 'punet.run': meta.runDir },
  });
}
