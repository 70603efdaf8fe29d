/**
 * Issue 14, cases 1, 4 and the run-folder parts of 10: a refused command changes nothing in the
 * run folder; `--out` is owned (lock, foreign files, stale logs); damaged run files, forged
 * checkpoint indexes and changed plugin files are refused with one line.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exited, spawnPunet, waitFor } from '../cli/helpers.js';
import { expectRefusal, pluginFile, punet, tempDir, tinySpec } from './helpers.js';

/** Every file under `dir` with its sha256: two equal snapshots mean nothing was touched. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const IOU_PLUGIN = `distances: { iou2: {
  description: 'a copy of 1 - IoU',
  options: { type: 'object', additionalProperties: false, properties: {} },
  distance: (a, b) => { let i = 0, u = 0; for (let k = 0; k < a.length; k++) { const x = a[k] !== 0, y = b[k] !== 0; if (x && y) i++; if (x || y) u++; } return u === 0 ? 0 : 1 - i / u; },
} }`;

let base: string;
let spec: string;
let trained: string;

/** A fresh copy of the trained run, to damage. */
function copyRun(): string {
  const dir = join(tempDir('punet-harden-copy-'), 'run');
  cpSync(trained, dir, { recursive: true });
  return dir;
}

beforeAll(() => {
  base = tempDir('punet-harden-run-');
  pluginFile(base, 'iou2.js', 'hard', IOU_PLUGIN);
  spec = tinySpec(base, (t) => 'use "./iou2.js"\n' + t.replace('distance iou', 'distance hard/iou2').replace('steps: 6 steps', 'steps: 2 steps').replace('samples: [1, 4]', 'samples: [1]'));
  trained = join(base, 'run');
  const r = punet(['compile-and-train', spec, '--out', trained], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
}, 150_000);

describe('case 1: a refused --resume touches nothing', () => {
  it('a changed spec is refused and spec.json, eval.json and metrics stay byte-identical', () => {
    const before = snapshot(trained);
    const changed = tinySpec(base, (t) => readFileSync(spec, 'utf8').replace('widths: [4, 8]  convs_per_block: 1 }\n  prior', 'widths: [4, 16]  convs_per_block: 1 }\n  prior'), 'changed.punet');
    expect(readFileSync(changed, 'utf8')).toContain('[4, 16]');
    expectRefusal(punet(['compile-and-train', changed, '--out', trained, '--resume']), 1, /the spec differs .* \(in: unet\)/);
    expect(snapshot(trained)).toEqual(before);
  });

  it('--resume into a folder that is not a run leaves its files alone', () => {
    const dir = tempDir('punet-harden-user-');
    writeFileSync(join(dir, 'spec.json'), '{"mine": true}\n');
    expectRefusal(punet(['compile-and-train', spec, '--out', dir, '--resume']), 1, /not a punet run folder/);
    expect(readFileSync(join(dir, 'spec.json'), 'utf8')).toBe('{"mine": true}\n');
  });

  it('--resume with fewer --steps than the run has done is refused (not "step 2/1")', () => {
    const before = snapshot(trained);
    expectRefusal(punet(['compile-and-train', spec, '--out', trained, '--resume', '--steps', '1']), 1, /already trained 2 steps .* give --steps 2 or more/);
    expect(snapshot(trained)).toEqual(before);
  });
});

describe('case 4: --out is owned', () => {
  it("refuses a folder holding the user's own files (spec.json, report.html, notes) and changes none", () => {
    const dir = tempDir('punet-harden-own-');
    writeFileSync(join(dir, 'spec.json'), 'user spec');
    writeFileSync(join(dir, 'report.html'), 'user report');
    writeFileSync(join(dir, 'notes.txt'), 'user notes');
    const before = snapshot(dir);
    expectRefusal(punet(['compile-and-train', spec, '--out', dir]), 1, /is not empty and is not a punet run folder/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses a run folder with extra, non-punet files', () => {
    const dir = copyRun();
    writeFileSync(join(dir, 'thesis.tex'), 'x');
    expectRefusal(punet(['compile-and-train', spec, '--out', dir, '--resume']), 1, /holds files punet did not write \(thesis\.tex\)/);
  });

  it('refuses a folder another live run holds (lock with pid + host)', () => {
    const dir = copyRun();
    writeFileSync(join(dir, '.punet-lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }));
    const before = snapshot(dir);
    expectRefusal(punet(['compile-and-train', spec, '--out', dir, '--resume', '--steps', '3']), 1, new RegExp(`in use by another run \\(pid ${process.pid} on `));
    expect(snapshot(dir)).toEqual(before);
  });

  it("a killed run's folder (no checkpoint, dead lock) is reused without its stale metrics", () => {
    const dir = join(tempDir('punet-harden-killed-'), 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ specFile: spec, specDir: base, punetVersion: '0.1.0', started: 'x', command: [] }));
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step":1,"loss":123456,"stale":true}\n{"step":7,"loss":1}\n');
    writeFileSync(join(dir, '.punet-lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), started: 'then' }));
    const r = punet(['compile-and-train', spec, '--out', dir, '--steps', '1'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
    expect(metrics).not.toContain('stale');
    expect(metrics).not.toContain('"step":7');
    expect(existsSync(join(dir, '.punet-lock')), 'the lock is released at exit').toBe(false);
    const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    // Built-ins are recorded too (with punet's version); the file plugin with its hash.
    expect(info.plugins.filter((p: { builtin?: boolean }) => !p.builtin)).toEqual([{ name: 'hard', version: '1.0.0', file: join(base, 'iou2.js'), sha256: createHash('sha256').update(readFileSync(join(base, 'iou2.js'))).digest('hex') }]);
  }, 120_000);

  it('a second run on the same --out, started while the first trains, is refused and the first is unharmed', async () => {
    const dir = join(tempDir('punet-harden-race-'), 'run');
    const first = spawnPunet(['compile-and-train', spec, '--out', dir, '--steps', '400']);
    try {
      await waitFor(() => existsSync(join(dir, '.punet-lock')), 90_000, 'the first run to take its lock');
      const lock = JSON.parse(readFileSync(join(dir, '.punet-lock'), 'utf8'));
      expect(lock).toMatchObject({ pid: first.pid, host: hostname() });
      const second = punet(['compile-and-train', spec, '--out', dir, '--steps', '400']);
      expectRefusal(second, 1, new RegExp(`in use by another run \\(pid ${first.pid} on `));
      expect(first.exitCode, 'the first run is still training').toBeNull();
    } finally {
      first.kill('SIGKILL');
      await exited(first);
    }
  }, 150_000);

  it('--out naming a file is refused', () => {
    const file = join(tempDir('punet-harden-file-'), 'x');
    writeFileSync(file, 'x');
    expectRefusal(punet(['compile-and-train', spec, '--out', file]), 1, /--out .*x is a file, not a folder/);
  });
});

describe('case 10: damaged run files, forged checkpoints, changed plugins', () => {
  it('a damaged spec.json or run.json is one line naming the file', () => {
    const a = copyRun();
    writeFileSync(join(a, 'spec.json'), '{"model": ');
    expectRefusal(punet(['eval', a]), 1, /spec\.json is damaged/);
    const b = copyRun();
    writeFileSync(join(b, 'spec.json'), '[1, 2]');
    expectRefusal(punet(['eval', b]), 1, /spec\.json is damaged \(not a resolved punet spec\)/);
    const c = copyRun();
    writeFileSync(join(c, 'run.json'), 'garbage');
    expectRefusal(punet(['eval', c]), 1, /run\.json is damaged/);
  });

  it('eval refuses a spec.json that no longer describes the checkpoint (it would score an untrained model)', () => {
    const run = copyRun();
    const spec = JSON.parse(readFileSync(join(run, 'spec.json'), 'utf8'));
    spec.unet.widths = [4, 16];
    writeFileSync(join(run, 'spec.json'), JSON.stringify(spec));
    expectRefusal(punet(['eval', run, '--samples', '1']), 1, /the spec differs from the one the checkpoint in .* was trained with \(in: unet\)/);
  });

  /** Rewrites a checkpoint's tensor index and re-signs the manifest, as a forger would. */
  function forge(run: string, edit: (index: Array<{ shape: number[]; offset: number }>) => void): void {
    for (const store of ['checkpoints', 'best']) {
      if (!existsSync(join(run, store))) continue;
      for (const step of readdirSync(join(run, store))) {
        const dir = join(run, store, step);
        const meta = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'));
        edit(meta.tensors.weights);
        const text = JSON.stringify(meta);
        writeFileSync(join(dir, 'checkpoint.json'), text);
        const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
        const entry = manifest.files.find((f: { name: string }) => f.name === 'checkpoint.json');
        entry.bytes = Buffer.byteLength(text);
        entry.sha256 = createHash('sha256').update(text).digest('hex');
        writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      }
    }
  }

  it('a forged index (negative or huge shape, offset past the end) is refused before reading', () => {
    const cases: Array<[string, (index: Array<{ shape: number[]; offset: number }>) => void, RegExp]> = [
      ['negative', (i) => void (i[0]!.shape = [-3, 4]), /invalid shape \[-3,4\]/],
      ['huge', (i) => void (i[0]!.shape = [100000, 100000, 1000]), /lies outside the \d+-byte file/],
      ['offset', (i) => void (i[i.length - 1]!.offset += 1_000_000), /lies outside the \d+-byte file/],
    ];
    for (const [, edit, message] of cases) {
      const run = copyRun();
      forge(run, edit);
      expectRefusal(punet(['eval', run, '--samples', '1']), 1, message);
    }
  });

  it('eval refuses a plugin whose file changed since training, unless --trust-plugins', () => {
    const run = copyRun();
    const before = readFileSync(join(base, 'iou2.js'), 'utf8');
    const moved = tempDir('punet-harden-plugin-');
    // The run's spec names the plugin by absolute path: change that file, then restore it.
    cpSync(join(base, 'iou2.js'), join(moved, 'iou2.js'));
    writeFileSync(join(base, 'iou2.js'), before + '\n// changed\n');
    try {
      expectRefusal(punet(['eval', run, '--samples', '1']), 1, /plugin .*iou2\.js \('hard'\) changed since .* --trust-plugins/);
      const trusted = punet(['eval', run, '--samples', '1', '--trust-plugins']);
      expect(trusted.code, trusted.stderr).toBe(0);
    } finally {
      writeFileSync(join(base, 'iou2.js'), before);
    }
    const r = punet(['eval', run, '--samples', '1']);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
});
