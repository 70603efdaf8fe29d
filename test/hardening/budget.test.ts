/**
 * Issue 14, cases 6 and 7: sizes are bounded before anything is allocated (`check` and
 * `compile-and-train` refuse with the estimate), and data without a test split is refused
 * before training, not after it.
 */
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateResources, memoryLimit, overBudget } from '../../spec/budget.js';
import { loadSpec } from '../../spec/index.js';
import { createRegistry } from '../../plugins/index.js';
import { expectRefusal, punet, tempDir, tinySpec, TINY_SPEC } from './helpers.js';

const dir = tempDir('punet-harden-budget-');
const HUGE: Record<string, (t: string) => string> = {
  'input-100000': (t) => t.replace('size: 16x16 px', 'size: 100000x100000 px'),
  'batch-1e9': (t) => t.replace('batch_size: 4', 'batch_size: 1000000000'),
  'input-16384-batch-100000': (t) => t.replace('size: 16x16 px', 'size: 16384x16384 px').replace('batch_size: 4', 'batch_size: 100000'),
  'widths-12000': (t) => t.replaceAll('widths: [4, 8]', 'widths: [12000, 12000]'),
};

describe('case 7: a resource budget checked before allocation', () => {
  it('check refuses each oversized spec with its estimate; the tiny spec passes', () => {
    const files = Object.entries(HUGE).map(([name, edit]) => tinySpec(dir, edit, `${name}.punet`));
    const r = punet(['check', '--memory-limit', '8G', TINY_SPEC, ...files]);
    expectRefusal(r, 1, /error E413: the spec needs about/);
    expect(r.stdout).toContain('tiny.punet: ok');
    for (const file of files) expect(r.stderr).toContain(file);
    expect(r.stderr.match(/E413/g)).toHaveLength(files.length);
    expect(r.stderr).toMatch(/more than the limit of 8\.0 GiB \(--memory-limit\); reduce input\.size, train\.batch_size or the block widths/);
  });

  it('an imported dataset counts by its files: a 3 GiB images.bin is over a 4 GiB limit once widened to float32', () => {
    const data = join(dir, 'big-data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'images.bin'), '');
    truncateSync(join(data, 'images.bin'), 3 * 2 ** 30); // sparse: no disk used
    const spec = tinySpec(dir, (t) => t.replace('data synthetic { count: 24 }', 'data dataset { path: "big-data" }'), 'imported.punet');
    const r = punet(['check', '--memory-limit', '4G', spec]);
    expectRefusal(r, 1, /error E413: the spec needs about 6\.\d GiB .*dataset: 6\.0 GiB.*use fewer or smaller images \(train\.data\)/);
    expect(punet(['check', '--memory-limit', '8G', spec]).code).toBe(0);
  });

  it('compile-and-train refuses before allocating: a 12000-wide U-Net ends in seconds', () => {
    const spec = tinySpec(dir, HUGE['widths-12000']!, 'train-wide.punet');
    const r = punet(['compile-and-train', spec, '--out', join(dir, 'wide-run')], { env: { PUNET_MEMORY_LIMIT: '4G' }, timeoutMs: 20_000 });
    expectRefusal(r, 1, /the spec needs about [\d.]+ GiB \([\d.]+e\+\d+ parameters: .*more than the limit of 4\.0 GiB \(PUNET_MEMORY_LIMIT\)/);
    expect(r.stdout).not.toContain('parameters\n'); // refused before compiling the model
    expectRefusal(punet(['inspect', spec], { env: { PUNET_MEMORY_LIMIT: '4G' }, timeoutMs: 20_000 }), 1, /the spec needs about [\d.]+ GiB/);
  });

  it('the estimate of the tiny spec is close to the compiled parameter count', async () => {
    const result = await loadSpec(TINY_SPEC, { registry: createRegistry() });
    const estimate = estimateResources(result.spec!);
    // `inspect` compiles the model and lists each block's real parameter count.
    const inspected = punet(['inspect', TINY_SPEC]);
    const counted = [...inspected.stdout.matchAll(/^\w+\s+\S+\s+([\d,]+)\s/gm)].map((m) => Number(m[1]!.replace(/,/g, '')));
    const total = counted.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    expect(estimate.parameters / total).toBeGreaterThan(0.5);
    expect(estimate.parameters / total).toBeLessThan(2);
    expect(overBudget(estimate, memoryLimit())).toBeUndefined();
  });

  it('a malformed limit is a usage error', () => {
    expectRefusal(punet(['check', '--memory-limit', 'lots', TINY_SPEC]), 2, /--memory-limit must be a size such as 8G/);
  });
});

describe('case 6: no test split', () => {
  it('synthetic { count: 1 } is refused before training, with the fix', () => {
    const spec = tinySpec(dir, (t) => t.replace('synthetic { count: 24 }', 'synthetic { count: 1 }'), 'one.punet');
    const r = punet(['compile-and-train', spec, '--out', join(dir, 'one-run')]);
    expectRefusal(r, 1, /has no (test images|training items)/);
    expect(r.stdout).not.toMatch(/step 1\//);
  });

  it('a dataset imported with --split 1,0,0 is refused before training', () => {
    const spec = tinySpec(dir, (t) => t.replace('synthetic { count: 24 }', 'synthetic { count: 24  splits: [1, 0, 0] }'), 'nosplit.punet');
    const r = punet(['compile-and-train', spec, '--out', join(dir, 'nosplit-run')]);
    expectRefusal(r, 1, /has no test images, so the trained model could not be evaluated; give it a test share/);
  });
});
