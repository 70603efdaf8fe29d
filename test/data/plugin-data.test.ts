/**
 * A plugin's data source is held to the rules an imported dataset obeys (runtime/data/validate.ts):
 * buffer lengths, class ids, disjoint and non-empty splits, the spec's input; the error names the
 * plugin. One case goes through the installed `compile-and-train` bin.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { definePlugin } from '../../compiler/api.js';
import { createRegistry } from '../../plugins/index.js';
import { checkSource } from '../../spec/index.js';
import { loadData } from '../../runtime/run/session.js';
import type { Dataset } from '../../runtime/data/types.js';

const H = 16;
const W = 16;

/** A small sound dataset; `spoil` breaks one thing about it. */
function dataset(spoil: (d: Dataset) => void = () => {}): Dataset {
  const items = Array.from({ length: 6 }, (_, i) => ({
    id: `img${i}`,
    group: `img${i}`,
    image: new Float32Array(H * W).fill(0.5),
    annotations: [new Uint8Array(H * W).fill(i % 2)],
  }));
  const d: Dataset = { name: 'acme', height: H, width: W, channels: 1, classes: 2, items, splits: { train: [0, 1, 2, 3], val: [4], test: [5] }, provenance: {} };
  spoil(d);
  return d;
}

function registryWith(make: () => Dataset) {
  const registry = createRegistry();
  registry.register(
    definePlugin({
      name: 'acme',
      version: '2.1.0',
      punetApi: '^2.0.0',
      dataSources: { shapes: { description: 'test data', options: { type: 'object', properties: {} }, load: async () => make() } },
    }),
  );
  return registry;
}

const SPEC = `model "plugin-data" {
  input { size: ${H}x${W} }
  architecture prob-unet
  unet unet { widths: [4, 8] }
  prior conv-encoder { widths: [4, 8] }
  posterior conv-encoder { widths: [4, 8]  sees: image+mask }
  latent gaussian { size: 2 }
  combiner fcomb
  loss { reconstruction cross-entropy }
  train { optimizer adam  steps: 1  data acme/shapes }
}
`;

async function load(make: () => Dataset): Promise<Dataset> {
  const registry = registryWith(make);
  const { spec, diagnostics } = checkSource(SPEC, '/tmp/plugin-data.punet', registry);
  if (!spec) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  return loadData(spec, registry, '/tmp');
}

describe('plugin datasets are validated like imported ones', () => {
  it('a sound dataset loads', async () => {
    expect((await load(() => dataset())).items.length).toBe(6);
  });

  const cases: Array<[string, (d: Dataset) => void, RegExp]> = [
    ['200-byte masks', (d) => (d.items[2]!.annotations[0] = new Uint8Array(200)), /item 2 \("img2"\): annotation 0 has 200 pixels, expected 256 \(16x16\)/],
    ['a short image', (d) => (d.items[0]!.image = new Float32Array(10)), /item 0 \("img0"\): image has 10 values, expected 256 \(16x16x1\)/],
    ['a class id beyond classes', (d) => (d.items[3]!.annotations[0]![7] = 2), /item 3 \("img3"\): annotation 0 has class 2 at pixel 7, but there are 2 classes/],
    ['overlapping splits', (d) => (d.splits.test = [5, 1]), /item 1 is in both train and test: splits must be disjoint/],
    ['an empty test split', (d) => (d.splits.test = []), /has no test images, so the trained model could not be evaluated/],
    ['an item without annotations', (d) => (d.items[4]!.annotations = []), /item 4 \("img4"\): needs at least one annotation/],
    ['another image size', (d) => Object.assign(d, { height: 8 }), /images are 8x16, the spec's input.size is \[16, 16\]/],
  ];
  for (const [what, spoil, message] of cases) {
    it(`${what}: refused, naming the plugin`, async () => {
      const err = await load(() => dataset(spoil)).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.name).toBe('UserError');
      expect(err?.message).toMatch(/^data source 'acme\/shapes' \(plugin acme 2\.1\.0\) returned unusable data: /);
      expect(err?.message).toMatch(message);
    });
  }
});

describe('through the compile-and-train bin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'punet-plugin-data-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a plugin returning 200-byte masks stops with a one-line error naming it, exit 1, before training', async () => {
    writeFileSync(
      join(dir, 'acme.mjs'),
      `const masks = () => new Uint8Array(200);
export default {
  name: 'acme', version: '2.1.0', punetApi: '^2.0.0',
  dataSources: { shapes: { description: 'bad masks', options: { type: 'object', properties: {} }, load: async () => ({
    name: 'acme', height: ${H}, width: ${W}, channels: 1, classes: 2, provenance: {},
    items: [0, 1, 2].map((i) => ({ id: 'img' + i, group: 'g' + i, image: new Float32Array(${H * W}), annotations: [masks()] })),
    splits: { train: [0], val: [1], test: [2] },
  }) } },
};
`,
    );
    writeFileSync(join(dir, 'spec.punet'), `use "./acme.mjs"\n${SPEC}`);
    const bin = resolve('dist/runtime/cli/bin/compile-and-train.js');
    const result = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(process.execPath, [bin, join(dir, 'spec.punet'), '--out', join(dir, 'run'), '--backend', 'cpu'], { env: { ...process.env, PUNET_WASM_THREADS: '1' } }, (e, _out, stderr) =>
        done({ code: (e as { code?: number } | null)?.code ?? 0, stderr }),
      ),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/data source 'acme\/shapes' \(plugin acme 2\.1\.0\) returned unusable data: item 0 \("img0"\): annotation 0 has 200 pixels, expected 256/);
    expect(result.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  }, 60_000);
});
