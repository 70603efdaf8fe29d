/**
 * `punet eval` and `punet sample` through the binary, on a tiny trained run: results go to their
 * own folders (RUN/eval/<name>, RUN/samples/<name>), never over the training-time files, and a
 * re-run replaces its own folder without stale files. GED at 4 samples is the same whichever
 * sample counts are asked for (prefixes of one set of samples), and eval.json's statistics agree
 * with its own per-image values.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, runInProcess, spawnPunet, tempDir, TINY_SPEC } from '../cli/helpers.js';
import { gray16Png } from '../data/import-helpers.js';

let root: string;
let run: string;
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  root = tempDir('punet-eval-cli-');
  run = join(root, 'run');
  const trained = await runInProcess(() => import('../../runtime/cli/commands/compile-and-train.js'), [TINY_SPEC, '--steps', '2', '--out', run]);
  expect(trained.code, trained.stderr).toBe(0);
}, 120_000);

async function punet(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnPunet(args);
  const { code } = await exited(child);
  return { ...child.output(), code };
}

interface Stat {
  mean: number | null;
  images: number;
  nan: number;
  std: number | null;
  ci95: [number | null, number | null];
  perImage: Array<number | null>;
}
interface EvalJson {
  imageIds: string[];
  sampleCounts: number[];
  results: Record<string, Record<string, Stat>>;
  baseline: { 'prior-mean': { results: Record<string, Record<string, Stat>> } };
}
const readEval = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as EvalJson;

describe('punet eval and punet sample results folders', () => {
  it('GED@4 is identical for --samples 4, the default list and 4,32; training-time eval.json untouched', async () => {
    const trainingEval = readFileSync(join(run, 'eval.json'), 'utf8');
    const trainingGrid = statSync(join(run, 'samples', 'eval-grid.png')).mtimeMs;
    for (const args of [['--samples', '4'], [], ['--samples', '4,32']]) {
      const r = await punet(['eval', run, ...args, '--backend', 'cpu']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/mean \[95% bootstrap CI over images\]/);
      expect(r.stdout).toMatch(/prior-mean \(1\) +\d\.\d{4} \[/);
    }
    const only4 = readEval(join(run, 'eval/test-last-n4/eval.json'));
    const defaults = readEval(join(run, 'eval/test-last-n1_4/eval.json')); // the tiny spec's eval.samples
    const wide = readEval(join(run, 'eval/test-last-n4_32/eval.json'));
    expect(only4.results['4']!.ged!.perImage).toEqual(defaults.results['4']!.ged!.perImage);
    expect(wide.results['4']!.ged!.perImage).toEqual(defaults.results['4']!.ged!.perImage);
    expect(only4.imageIds).toEqual(defaults.imageIds);
    expect(readFileSync(join(run, 'eval.json'), 'utf8')).toBe(trainingEval);
    expect(statSync(join(run, 'samples', 'eval-grid.png')).mtimeMs).toBe(trainingGrid);
    expect(readdirSync(join(run, 'eval/test-last-n4')).sort()).toEqual(['eval-grid.png', 'eval-grid.svg', 'eval.json']);

    // Every statistic agrees with the per-image values it was computed from.
    for (const [n, row] of Object.entries(defaults.results)) {
      for (const [id, s] of Object.entries(row)) {
        expect(s.perImage, `${n}/${id}`).toHaveLength(defaults.imageIds.length);
        const finite = s.perImage.filter((v): v is number => v !== null);
        expect(s.images + s.nan).toBe(defaults.imageIds.length);
        expect(s.images).toBe(finite.length);
        if (!finite.length) continue;
        const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
        expect(s.mean).toBeCloseTo(mean, 10);
        if (finite.length > 1) expect(s.std).toBeCloseTo(Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (finite.length - 1)), 10);
        expect(s.ci95[0]!).toBeGreaterThanOrEqual(Math.min(...finite) - 1e-12);
        expect(s.ci95[1]!).toBeLessThanOrEqual(Math.max(...finite) + 1e-12);
      }
    }
    // The prior-mean baseline: one deterministic prediction per image, on the same images.
    const base = defaults.baseline['prior-mean'].results['1']!.ged!;
    expect(base.perImage).toHaveLength(defaults.imageIds.length);
  }, 180_000);

  it('sample writes RUN/samples/<name> with samples.json; a re-run leaves no stale files', async () => {
    const trainingGrid = readFileSync(join(run, 'samples', 'sample-grid.png'));
    const first = await punet(['sample', run, '-n', '3', '--limit', '1', '--name', 'look', '--backend', 'cpu']);
    expect(first.code, first.stderr).toBe(0);
    const dir = join(run, 'samples', 'look');
    expect(readdirSync(dir).filter((f) => /-sample-\d+\.png$/.test(f))).toHaveLength(3);
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['sample-grid.png', 'sample-grid.svg', 'samples.json']));
    const again = await punet(['sample', run, '-n', '1', '--limit', '1', '--name', 'look', '--backend', 'cpu']);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => /-sample-\d+\.png$/.test(f))).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, 'samples.json'), 'utf8'))).toMatchObject({ samples: 1, source: { split: 'test', limit: 1 } });
    expect(readFileSync(join(run, 'samples', 'sample-grid.png')).equals(trainingGrid)).toBe(true);
    expect(readdirSync(join(run, 'samples')).filter((f) => f.startsWith('.'))).toEqual([]); // no temp folder left

    // --out onto a folder that is not a punet result is refused, and nothing in it is lost.
    const foreign = await punet(['sample', run, '--out', join(run, 'checkpoints'), '--backend', 'cpu']);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/checkpoints exists and is not a punet samples folder; choose another --out or --name/);
    expect(existsSync(join(run, 'checkpoints'))).toBe(true);
  }, 120_000);

  it('sample --image crops a wide 16-bit image to the model aspect ratio and says what it did', async () => {
    const file = join(root, 'wide.png');
    gray16Png(file, 48, 24, (x, y) => 200 + 40 * x + y);
    const r = await punet(['sample', run, '--image', file, '-n', '2', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('image: read wide.png: 48x24, 1 channel(s), 16-bit');
    expect(r.stdout).toContain("image: crop: 24x24 at (12, 0): centred, to the model's aspect ratio (the run's data was not imported)");
    expect(r.stdout).toContain('image: resize: 24x24 -> 16x16');
    expect(r.stdout).toMatch(/image: intensities: full scale 0\.\.65535 -> 0\.\.1/);
    expect(existsSync(join(run, 'samples', 'image-wide', 'sample-grid.svg'))).toBe(true);
  }, 120_000);
});
