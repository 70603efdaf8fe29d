/**
 * `punet compare` on run folders made here (eval.json with per-image values and image ids, as
 * training-time evaluation writes them): numbers checked against direct computations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAIRED_BOOTSTRAP_SEED } from '../../runtime/compare/analyze.js';
import { BOOTSTRAP_RESAMPLES } from '../../runtime/eval/uncertainty.js';
import { createRandom } from '../../runtime/data/synthetic.js';
import { randomInt } from '../../runtime/train/rng.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'dist/runtime/cli/bin/punet.js');

interface FakeRun {
  model: string;
  seed: number;
  ged: number[];
  ids?: string[];
  lr?: number;
  /** Folder name suffix (several variants of one model and seed). */
  tag?: string;
  /** Training command recorded in run.json. */
  command?: string[];
}

function writeRun(dir: string, r: FakeRun): string {
  const run = join(dir, `${r.model}-${r.seed}${r.tag ?? ''}`);
  mkdirSync(run, { recursive: true });
  const spec = { model: r.model, use: [], input: { size: [16, 16], channels: 1, classes: 2 }, train: { seed: r.seed, steps: 10, data: { kind: 'synthetic' }, optimizer: { kind: 'adam', lr: r.lr ?? 1e-3 } } };
  writeFileSync(join(run, 'spec.json'), JSON.stringify(spec));
  writeFileSync(join(run, 'run.json'), JSON.stringify({ command: r.command ?? ['compile-and-train', 'x.punet', '--set', `train.seed=${r.seed}`] }));
  const mean = r.ged.reduce((a, b) => a + b, 0) / r.ged.length;
  const ids = r.ids ?? r.ged.map((_, i) => `synthetic-${i}`);
  const evalJson = { split: 'test', images: r.ged.length, sampleCounts: [16], imageIds: ids, results: { '16': { ged: { mean, images: r.ged.length, nan: 0, perImage: r.ged } } }, checkpoint: { which: 'best', step: 10 } };
  writeFileSync(join(run, 'eval.json'), JSON.stringify(evalJson));
  writeFileSync(join(run, 'metrics.jsonl'), [1, 2, 3].map((s) => JSON.stringify({ step: s, loss: 10 / s })).join('\n') + '\n' + JSON.stringify({ event: 'validation', step: 3, ged: mean }) + '\n');
  return run;
}

const compare = (args: string[], cwd?: string) => spawnSync(process.execPath, [BIN, 'compare', ...args], { encoding: 'utf8', cwd });

describe('punet compare', () => {
  const dir = mkdtempSync(join(tmpdir(), 'punet-compare-'));
  const rng = createRandom(7);
  const images = 25;
  const seeds = [1, 2, 3];
  const base = seeds.map((seed) => ({ model: 'flat', seed, ged: Array.from({ length: images }, () => 0.5 + 0.2 * rng.next()) }));
  // The variant is better on most images by a varying amount.
  const better = base.map((b) => ({ model: 'hier', seed: b.seed, ged: b.ged.map((g, i) => g - (i % 5 === 0 ? -0.02 : 0.05 * rng.next())) }));
  const runs = [...base, ...better].map((r) => writeRun(dir, r));

  it('prints mean +- t CI over seeds and paired per-image differences, equal to direct computations', () => {
    const html = join(dir, 'page.html');
    const r = compare([...runs, '--json', '--html', html]);
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout);
    const table = c.tables.find((t: { metric: string; samples: number }) => t.metric === 'ged' && t.samples === 16);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // over seeds: the mean of the three runs' means, +- t(0.975, 2) * sd / sqrt(3)
    const seedMeans = base.map((b) => mean(b.ged));
    const m = mean(seedMeans);
    const sd = Math.sqrt(seedMeans.reduce((a, x) => a + (x - m) ** 2, 0) / 2);
    const flat = table.rows.find((row: { variant: string }) => row.variant === 'flat');
    expect(flat.ci.mean).toBeCloseTo(m, 12);
    expect(flat.ci.hi - flat.ci.mean).toBeCloseTo((4.302652729911275 * sd) / Math.sqrt(3), 9);
    // paired: 75 image pairs (3 seeds x 25 images), differences hier - flat
    const diffs = better.flatMap((b, s) => b.ged.map((g, i) => g - base[s]!.ged[i]!));
    const paired = table.paired[0];
    expect(paired.baseline).toBe('flat');
    expect(paired.diff.n).toBe(75);
    expect(paired.diff.mean).toBeCloseTo(mean(diffs), 12);
    // the percentile bootstrap, redrawn here: replicate r takes pair randomInt(75, seed, r, i) as its i-th draw
    const boot: number[] = [];
    for (let r = 0; r < BOOTSTRAP_RESAMPLES; r++) boot.push(mean(diffs.map((_, i) => diffs[randomInt(diffs.length, PAIRED_BOOTSTRAP_SEED, r, i)]!)));
    boot.sort((a, b) => a - b);
    const q = (p: number) => {
      const pos = (boot.length - 1) * p;
      const lo = Math.floor(pos);
      return boot[lo]! + (boot[lo + 1]! - boot[lo]!) * (pos - lo);
    };
    expect(paired.diff.lo).toBeCloseTo(q(0.025), 12);
    expect(paired.diff.hi).toBeCloseTo(q(0.975), 12);
    expect(paired.diff.lo).toBeLessThan(paired.diff.mean);
    expect(paired.diff.hi).toBeGreaterThan(paired.diff.mean);
    const pos = diffs.filter((d) => d > 0).length;
    const neg = diffs.filter((d) => d < 0).length;
    expect([paired.sign.positive, paired.sign.negative]).toEqual([pos, neg]);
    // exact two-sided binomial p for that split, summed directly
    let tail = 0;
    let coef = 1;
    const n = pos + neg;
    for (let k = 0; k <= Math.min(pos, neg); k++) {
      tail += coef / 2 ** n;
      coef = (coef * (n - k)) / (k + 1);
    }
    expect(paired.sign.p).toBeCloseTo(Math.min(1, 2 * tail), 12);
    expect(c.problems).toEqual([]);
    // the page is self-contained: inline SVG curves, the table, no external references
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<svg');
    expect(page).toContain('Validation GED');
    expect(page).toContain('diff vs flat');
    expect(page).not.toMatch(/(src|href)="https?:/);
  });

  it('the terminal table shows both variants and the paired columns', () => {
    const r = compare([...runs, '--html', join(dir, 'p2.html')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ged, 16 samples .*pooled over the seed-matched runs/);
    expect(r.stdout).toMatch(/\n\s+flat\s+3\s+0\.\d{4}\s+\[0\.\d{4}, 0\.\d{4}\]\s+\(baseline\)/);
    expect(r.stdout).toMatch(/\n\s+hier\s+3\s+0\.\d{4}\s+\[0\.\d{4}, 0\.\d{4}\]\s+-0\.\d{4}\s+\[-0\.\d{4}, -0\.\d{4}\]\s+75 \(1,2,3\)\s+\d+\/\d+\s+\S+/);
  });

  it('says so when runs were evaluated on different test sets', () => {
    const other = writeRun(dir, { model: 'other', seed: 1, ged: base[0]!.ged, ids: base[0]!.ged.map((_, i) => `bu-bil-${i}`) });
    const r = compare([runs[0]!, other, '--html', join(dir, 'p3.html')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('note: other vs flat, seed 1: evaluated on different test sets (25 and 25 images with different ids); no paired differences for this pair');
  });

  it('--samples and --metrics pick tables; a filter that leaves none says what there is', () => {
    const r = compare([...runs, '--samples', '16', '--metrics', 'ged', '--json', '--html', join(dir, 'p4.html')]);
    expect(JSON.parse(r.stdout).tables.map((t: { metric: string; samples: number }) => `${t.metric}@${t.samples}`)).toEqual(['ged@16']);
    const none = compare([...runs, '--samples', '4', '--html', join(dir, 'p5.html')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('--samples/--metrics leave no table; the runs have ged@16');
  });

  it('names variants of one model by the spec settings they differ in, whatever their run.json command says', () => {
    const sub = join(dir, 'labels');
    // one started with --set=..., one by a sweep task: neither command has a '--set X' pair to read
    const a = writeRun(sub, { model: 'flat', seed: 1, ged: base[0]!.ged, lr: 1e-3, tag: '-a', command: ['compile-and-train', 'x.punet', '--set=train.optimizer.lr=1e-3'] });
    const b = writeRun(sub, { model: 'flat', seed: 1, ged: better[0]!.ged, lr: 3e-3, tag: '-b', command: ['sweep-task', 'sweep', '0'] });
    const c = writeRun(sub, { model: 'hier', seed: 1, ged: better[0]!.ged, lr: 3e-3, tag: '-c' });
    const r = compare([a, b, c, '--json', '--html', join(sub, 'page.html')]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).variants.map((v: { label: string }) => v.label)).toEqual(['flat lr=0.001', 'flat lr=0.003', 'hier']);
  });

  it('writes the page into the folder holding the compared runs by default, not the current folder', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'punet-compare-cwd-'));
    const r = compare(runs, cwd);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`page: ${join(dir, 'compare.html')}`);
    expect(readFileSync(join(dir, 'compare.html'), 'utf8')).toContain('diff vs flat');
    expect(existsSync(join(cwd, 'compare.html'))).toBe(false);
  });

  it('refuses folders that are not runs', () => {
    const r = compare([dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('is neither a run folder nor a sweep folder');
  });
});
