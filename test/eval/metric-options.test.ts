/**
 * Metric options from the spec: `eval { metrics: [ged, acme/count { k: 3 }] }` reaches the
 * metric's MetricContext.options (validated, defaults applied), and a plain id keeps working.
 */
import { describe, expect, it } from 'vitest';
import { definePlugin } from '../../compiler/api.js';
import { checkSource } from '../../spec/index.js';
import { createRegistry } from '../../plugins/index.js';
import { scoreImage, setupMetrics } from '../../runtime/sample/evaluate.js';

const seen: unknown[] = [];
const distanceCalls: unknown[] = [];
const acme = definePlugin({
  name: 'acme',
  version: '1.0.0',
  punetApi: '^2.0.0',
  distances: {
    // Counts differing pixels in the first row only: needs the width to know where the row ends.
    'first-row': {
      description: 'differing pixels in the first row',
      options: { type: 'object', additionalProperties: false, properties: {} },
      distance: (a, b, ctx) => {
        distanceCalls.push(ctx);
        const { width } = ctx as typeof ctx & { width: number };
        let n = 0;
        for (let x = 0; x < width; x++) n += a[x] === b[x] ? 0 : 1;
        return n;
      },
    },
  },
  metrics: {
    // The fraction of samples with at least k foreground pixels: a value the options decide.
    count: {
      description: 'share of samples with >= k foreground pixels',
      options: { type: 'object', additionalProperties: false, properties: { k: { type: 'integer', minimum: 1, default: 1 }, label: { type: 'string', default: 'x' } } },
      compute: ({ samples, options }) => {
        seen.push(options);
        const k = (options as { k: number }).k;
        return samples.filter((s) => s.reduce((a, v) => a + (v ? 1 : 0), 0) >= k).length / samples.length;
      },
    },
  },
});

const SPEC = (metrics: string, distance = 'iou') => `model "m" {
  input { size: 2x2  classes: 3 }
  architecture prob-unet
  unet unet { widths: [4] }
  prior conv-encoder { widths: [4] }
  posterior conv-encoder { widths: [4]  sees: image+mask }
  latent gaussian { size: 2 }
  combiner fcomb
  loss { reconstruction cross-entropy }
  eval { distance ${distance}  metrics: ${metrics} }
  train { optimizer adam  steps: 1 }
}
`;

function resolved(metrics: string, distance?: string) {
  const registry = createRegistry();
  registry.register(acme);
  const r = checkSource(SPEC(metrics, distance), '/tmp/metric-options.punet', registry);
  return { registry, r };
}

const m = (...v: number[]) => Uint8Array.from(v);
const samples = { masks: [m(1, 0, 0, 0), m(1, 1, 1, 0), m(0, 0, 0, 0)], foreground: [] };

describe('metric options from the spec', () => {
  it('reach MetricContext.options with defaults applied; plain ids keep their defaults', () => {
    const { registry, r } = resolved('[ged, acme/count { k: 3 }, mode-tv { threshold: 0.25 }]');
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(r.spec!.eval.metrics).toEqual(['ged', { kind: 'acme/count', k: 3, label: 'x' }, { kind: 'mode-tv', threshold: 0.25 }]);
    const setup = setupMetrics(r.spec!, registry);
    expect(setup.metrics.map((x) => [x.id, x.options])).toEqual([
      ['ged', {}],
      ['acme/count', { k: 3, label: 'x' }],
      ['mode-tv', { threshold: 0.25 }],
    ]);
    seen.length = 0;
    const scores = scoreImage(setup, samples, [m(1, 0, 0, 0)]);
    expect(seen).toEqual([{ k: 3, label: 'x' }]);
    expect(scores['acme/count']).toBeCloseTo(1 / 3, 12); // only the second sample has 3 foreground pixels
    // Asked for by id (as validation does), a metric still gets the options the spec gives it.
    expect(setupMetrics(r.spec!, registry, ['acme/count', 'diversity']).metrics.map((x) => [x.id, x.options])).toEqual([
      ['acme/count', { k: 3, label: 'x' }],
      ['diversity', {}],
    ]);
  });

  it("are validated against the metric's schema at their position", () => {
    const { r } = resolved('[ged, acme/count { k: 0  size: 2 }]');
    expect(r.spec).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, d.range?.start.line, d.range?.start.col])).toEqual([
      ['E306', 10, 55],
      ['E303', 10, 58],
    ]);
    expect(r.diagnostics[1]!.message).toBe("unknown option 'size' for metric kind 'acme/count'");
  });
});

describe('distances get the mask shape', () => {
  it('{ options, classes, height, width } from the spec reach distance()', () => {
    const { registry, r } = resolved('[diversity]', 'acme/first-row');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const setup = setupMetrics(r.spec!, registry);
    distanceCalls.length = 0;
    // Pairwise first-row differences of the three samples: (1,2) 1, (1,3) 1, (2,3) 2 -> mean 4/3.
    expect(scoreImage(setup, samples, [m(1, 0, 0, 0)]).diversity).toBeCloseTo(4 / 3, 12);
    expect(distanceCalls[0]).toEqual({ options: {}, classes: 3, height: 2, width: 2 });
  });
});
