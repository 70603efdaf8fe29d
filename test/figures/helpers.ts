/** Shared by the figure and report tests: a tiny trained run folder, and figure previews. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writePng } from '../../runtime/data/png.js';
import type { RgbImage } from '../../runtime/figures/canvas.js';
import { runInProcess, tempDir, TINY_SPEC } from '../cli/helpers.js';

export { runInProcess, tempDir };

/** Trains test/cli/fixtures/tiny.punet (16x16 synthetic, M = 2) for a few steps in-process; returns the run folder. */
export async function trainTinyRun(steps = 6): Promise<string> {
  const dir = join(tempDir('punet-fig-'), 'run');
  const r = await runInProcess(() => import('../../runtime/cli/commands/compile-and-train.js'), [TINY_SPEC, '--steps', String(steps), '--out', dir, '--backend', 'cpu']);
  if (r.code !== 0) throw new Error(`training the tiny run failed (exit ${r.code}):\n${r.stderr}\n${r.stdout}`);
  return dir;
}

/** Set PUNET_FIGURE_PREVIEW=DIR to keep figures the tests draw, for a look by eye. */
export function preview(name: string, image: RgbImage): void {
  const dir = process.env.PUNET_FIGURE_PREVIEW;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writePng(join(dir, name), image);
}
