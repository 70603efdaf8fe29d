/** `punet latent-grid` on a tiny trained run (16x16 synthetic data, 2-D latent). */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePng, readPng } from '../../runtime/data/png.js';
import { latentGridLayout } from '../../runtime/figures/latent-grid.js';
import { STACK_LINE } from '../cli/helpers.js';
import { runInProcess, tempDir, trainTinyRun } from './helpers.js';

const command = () => import('../../runtime/cli/commands/latent-grid.js');
let runDir: string;

beforeAll(async () => {
  runDir = await trainTinyRun();
}, 180_000);

describe('punet latent-grid', () => {
  it('draws the grid for a test item into RUN/samples, sized as the layout says', async () => {
    const r = await runInProcess(command, [runDir, '--index', '1', '--grid', '5', '--range', '2', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/latent of 2 dimensions/);
    expect(r.stdout).toMatch(/x: z\[0\].*\n\s+y: z\[1\]/);
    const file = /latent grid: (.+\.png)/.exec(r.stdout)![1]!;
    expect(file.startsWith(join(runDir, 'samples'))).toBe(true);
    const png = readPng(file);
    // 16x16 panels at the default scale round(96 / 16) = 6.
    const L = latentGridLayout({ height: 16, width: 16, channels: 1, classes: 2, offsets: [-2, -1, 0, 1, 2], dims: [0, 1] });
    expect([png.width, png.height, png.channels]).toEqual([L.width, L.height, 3]);
  });

  it('takes a PNG of another size (cropped to the model aspect ratio, resized) and writes --out', async () => {
    const dir = tempDir();
    const input = join(dir, 'in.png');
    writeFileSync(input, encodePng({ width: 20, height: 24, channels: 1, data: Uint8Array.from({ length: 480 }, (_, i) => (i * 7) % 256) }));
    const out = join(dir, 'grid.png');
    const r = await runInProcess(command, [runDir, '--image', input, '--out', out, '--grid', '3', '--dims', '1,0', '--scale', '2', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/image: crop: 20x20 at \(0, 2\): centred, to the model's aspect ratio.*\nimage: resize: 20x20 -> 16x16/);
    expect(r.stdout).toMatch(/x: z\[1\].*\n\s+y: z\[0\]/);
    expect(readPng(out).width).toBe(
      latentGridLayout({ height: 16, width: 16, channels: 1, classes: 2, offsets: [-3, 0, 3], dims: [1, 0], scale: 2 }).width,
    );
  });

  it('--image is prepared by the same code as punet sample --image: the same printed steps', async () => {
    const dir = tempDir();
    const input = join(dir, 'wide.png');
    writeFileSync(input, encodePng({ width: 30, height: 18, channels: 1, data: Uint8Array.from({ length: 540 }, (_, i) => (i * 11) % 256) }));
    const grid = await runInProcess(command, [runDir, '--image', input, '--out', join(dir, 'grid.png'), '--grid', '2', '--backend', 'cpu']);
    const sampled = await runInProcess(() => import('../../runtime/cli/commands/sample.js'), [runDir, '--image', input, '-n', '1', '--out', join(dir, 'samples'), '--backend', 'cpu']);
    expect([grid.code, sampled.code], grid.stderr + sampled.stderr).toEqual([0, 0]);
    const steps = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('image: '));
    expect(steps(grid.stdout)).toEqual([
      'image: read wide.png: 30x18, 1 channel(s), 8-bit',
      "image: crop: 18x18 at (6, 0): centred, to the model's aspect ratio (the run's data was not imported)",
      'image: resize: 18x18 -> 16x16 (bilinear, antialiased, as import)',
      'image: intensities: full scale 0..255 -> 0..1',
    ]);
    expect(steps(sampled.stdout)).toEqual(steps(grid.stdout));
  });

  it('user mistakes: clear messages, no stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[runDir, '--dims', '0,5', '--backend', 'cpu'], /dimension 5 does not exist: the latent has 2 dimensions/],
      [[runDir, '--dims', '1,1'], /--dims must be two different/],
      [[runDir, '--index', '999', '--backend', 'cpu'], /--index 999 is past the end of the test split/],
      [[runDir, '--grid', '1'], /--grid must be between 2 and 41/],
      [[runDir, '--range=-1'], /--range must be a positive number/],
      [[runDir, '--range', 'wide'], /--range must be a positive number/],
      [[runDir, '--image', 'nope.png'], /image not found: nope.png/],
      [[runDir, '--image', 'x.png', '--index', '2'], /either --image or --index/],
      [[join(runDir, 'nope')], /run folder not found/],
      [[runDir, '--out', 'grid.jpg'], /--out must name a .png file/],
    ];
    for (const [argv, message] of cases) {
      const r = await runInProcess(command, argv);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    expect(existsSync(join(runDir, 'samples'))).toBe(true);
  });
});
