import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../../compiler/registry.js';
import { resolveEntry } from '../../compiler/options.js';
import metricsPlugin from '../../plugins/builtin/metrics.js';
import type { Mask, ResolvedSpec } from '../../compiler/api.js';

const registry = new Registry();
registry.register(metricsPlugin, { builtin: true });
const m = (...v: number[]) => Uint8Array.from(v);
/** What a metric's or distance's check sees of the spec. */
const spec = { input: { size: [2, 2], channels: 1, classes: 3 } } as unknown as ResolvedSpec;

function metric(id: string, options: Record<string, unknown> = {}) {
  const r = resolveEntry(registry, 'metrics', { kind: id, ...options }, `eval.metrics`, spec);
  return { contribution: r.contribution, options: r.options };
}

function iouDistance(options: Record<string, unknown> = {}) {
  const r = resolveEntry(registry, 'distances', { kind: 'iou', ...options }, 'eval.distance', spec);
  return (a: Mask, b: Mask) => r.contribution.distance(a, b, { options: r.options, classes: 3, height: a.length, width: 1 });
}

const s1 = m(1, 1, 0, 0);
const s2 = m(0, 1, 1, 0);
const y1 = m(1, 1, 0, 0);
const empty = m(0, 0, 0, 0);

describe('metrics plugin', () => {
  it('registers the distance and the five metrics with valid schemas and defaults', () => {
    expect(registry.ids('distances')).toEqual(['iou']);
    expect(registry.ids('metrics')).toEqual(['diversity', 'ged', 'hungarian-iou', 'mode-tv', 'ncc']);
    expect(resolveEntry(registry, 'distances', { kind: 'iou' }, 'eval.distance', spec).options).toEqual({ foreground: 'any' });
    expect(metric('hungarian-iou').options).toEqual({ foreground: 'any', max_tiled: 2048 });
    expect(metric('ncc').options).toEqual({ foreground: 'any', use_probabilities: true, eps: 1e-8 });
    expect(metric('mode-tv').options).toEqual({ threshold: 0.5 });
    expect(() => resolveEntry(registry, 'distances', { kind: 'iou', foreground: 0 }, 'eval.distance', spec)).toThrow(/foreground/);
    expect(() => metric('ged', { typo: 1 })).toThrow(/typo/);
  });

  it('the iou distance follows the LIDC conventions and the foreground option', () => {
    const d = iouDistance();
    expect(d(empty, empty)).toBe(0);
    expect(d(empty, y1)).toBe(1);
    expect(d(s1, s2)).toBeCloseTo(2 / 3, 12);
    expect(iouDistance({ foreground: 2 })(m(2, 1, 0, 0), m(2, 2, 0, 0))).toBeCloseTo(1 / 2, 12);
  });

  it('metrics compute the hand-worked values through the contribution API', () => {
    const ctx = { samples: [s1, s2], annotations: [y1, empty], classes: 2, distance: iouDistance() };
    const run = (id: string, extra: object = {}) => {
      const { contribution, options } = metric(id);
      return contribution.compute({ ...ctx, options, ...extra });
    };
    expect(run('ged')).toBeCloseTo(1 / 2, 12); // see metrics.test.ts for the working
    expect(run('hungarian-iou')).toBeCloseTo(1 / 2, 12);
    expect(run('diversity')).toBeCloseTo(2 / 3, 12);
    // ncc with soft probabilities differs from the hard-mask value, and is used when given.
    const hard = run('ncc', { samples: [m(1, 0, 0, 0), m(0, 0, 0, 0)], annotations: [m(1, 1, 0, 0)] });
    expect(hard).toBeCloseTo(1 / Math.sqrt(33), 9);
    const soft = run('ncc', {
      samples: [m(1, 0, 0, 0), m(0, 0, 0, 0)],
      annotations: [m(1, 1, 0, 0)],
      probabilities: [Float32Array.of(0.9, 0.2, 0.1, 0.1), Float32Array.of(0.4, 0.1, 0.1, 0.2)],
    });
    expect(Number.isFinite(soft)).toBe(true);
    expect(soft).not.toBeCloseTo(hard, 3);
    const tv = metric('mode-tv');
    expect(tv.contribution.needsModes).toBe(true);
    const modes = [
      { mask: y1, probability: 0.75 },
      { mask: empty, probability: 0.25 },
    ];
    // s1 -> mode 0 (d = 0); s2 -> mode 0 (d = 2/3 > 0.5 -> other). f = (1/2, 0), other 1/2:
    // TV = (|1/2 - 3/4| + |0 - 1/4| + 1/2) / 2 = 1/2.
    expect(tv.contribution.compute({ ...ctx, options: tv.options, modes })).toBeCloseTo(1 / 2, 12);
  });

  it('does not import TensorFlow.js (statically) from the built-in metrics and data plugins', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const seen = new Set<string>();
    const external: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      // Value imports only: `import type` and dynamic `import()` do not load at startup.
      for (const match of source.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms)) {
        const spec = match[1]!;
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else external.push(spec);
      }
    };
    visit(resolve(root, 'plugins/builtin/metrics.ts'));
    visit(resolve(root, 'plugins/builtin/data.ts'));
    expect(seen.size).toBeGreaterThan(3);
    expect(external.filter((s) => s.includes('tensorflow'))).toEqual([]);
  });
});
