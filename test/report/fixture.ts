/** A hand-made run folder (no training): spec, run info, metrics log, evaluation, a figure. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePng } from '../../runtime/data/png.js';
import { sampleGridFigure } from '../../runtime/figures/sample-grid.js';
import { tempDir } from '../cli/helpers.js';

/** Text that must come out escaped wherever it lands on the page. */
export const NASTY = `<script>alert("x")</script> & 'quotes' <img src=//evil.example/x.png>`;

export function fakeRunDir(opts: { steps?: number; withFigure?: boolean; withEval?: boolean } = {}): string {
  const dir = join(tempDir('punet-report-'), 'run');
  mkdirSync(join(dir, 'samples'), { recursive: true });
  const steps = opts.steps ?? 50;
  writeFileSync(
    join(dir, 'spec.json'),
    JSON.stringify({ model: 'demo <b>model</b>', input: { size: [4, 4], channels: 1, classes: 2 }, train: { steps, seed: 1, note: NASTY } }, null, 2),
  );
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ specFile: '/specs/demo & co.punet', specDir: '/specs', punetVersion: '0.1.0', started: '2025-01-01T00:00:00Z', command: ['compile-and-train', 'demo.punet'] }));
  const lines: string[] = [];
  for (let s = 1; s <= steps; s++) {
    // Known curves: loss = 100/s + 10, reconstruction = loss - KL, KL = 1 + s/100.
    const KL = 1 + s / 100;
    const loss = 100 / s + 10;
    lines.push(JSON.stringify({ step: s, lr: 1e-3, reconstruction: loss - KL, KL, regularization: 0.001, loss }));
    if (s % 10 === 0) {
      lines.push(JSON.stringify({ event: 'validation', step: s, split: 'val', samples: 4, ged: 1 / s + 0.2 }));
      lines.push(JSON.stringify({ event: 'checkpoint', step: s, dir: `checkpoints/step-${s}` }));
    }
  }
  lines.push('{"step": 3, "loss": 1'); // a line cut short by a kill: skipped
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  if (opts.withEval !== false) {
    writeFileSync(
      join(dir, 'eval.json'),
      JSON.stringify({
        split: 'test',
        images: 7,
        sampleCounts: [1, 4],
        results: {
          '1': { ged: { mean: 0.51234, images: 7, nan: 0 }, 'hungarian-iou': { mean: 0.25, images: 7, nan: 0 }, ncc: { mean: null, images: 0, nan: 7 } },
          '4': { ged: { mean: 0.3125, images: 7, nan: 0 }, 'hungarian-iou': { mean: 0.5, images: 7, nan: 0 }, ncc: { mean: 0.75, images: 5, nan: 2 } },
        },
        skipped: [{ metric: 'mode-tv', reason: 'the data has no known mode distribution' }],
        checkpoint: { which: 'best', step: 40 },
        latent: 'sample',
        time: '2025-01-01T01:00:00Z',
      }),
    );
  }
  if (opts.withFigure !== false) {
    const mask = Uint8Array.from({ length: 16 }, (_, p) => (p % 5 === 0 ? 1 : 0));
    writePng(
      join(dir, 'samples', 'sample-grid.png'),
      sampleGridFigure([{ image: new Float32Array(16).fill(0.4), annotations: [mask], samples: [mask, new Uint8Array(16)] }], { height: 4, width: 4, channels: 1, classes: 2, scale: 8 }),
    );
    // A per-panel PNG as `punet sample` writes them: not a figure, must not be embedded.
    writePng(join(dir, 'samples', 'item-0-sample-00.png'), { width: 4, height: 4, channels: 1, data: new Uint8Array(16) });
  }
  return dir;
}
