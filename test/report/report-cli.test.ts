/**
 * `punet report` on a tiny trained run: renders the missing sample grid, writes one page with no
 * external references, and that page renders in headless Chromium (non-blank screenshot with
 * the charts' colours in it).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPng } from '../../runtime/data/png.js';
import { STACK_LINE } from '../cli/helpers.js';
import { runInProcess, tempDir, trainTinyRun } from '../figures/helpers.js';
import { findChromium, IN_CI, screenshot } from './chromium.js';
import { externalReferences } from './external.js';

const command = () => import('../../runtime/cli/commands/report.js');
let runDir: string;

beforeAll(async () => {
  runDir = await trainTinyRun();
}, 180_000);

describe('punet report', () => {
  it('renders a missing sample grid, then writes a self-contained page with curves, table and figures', async () => {
    // compile-and-train drew its figures; take them away so the report has to render one.
    for (const f of readdirSync(join(runDir, 'samples'))) if (/-grid.*\.png$/.test(f)) rmSync(join(runDir, 'samples', f));
    const r = await runInProcess(command, [runDir, '--limit', '3', '-n', '4', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/samples\/sample-grid\.png rendered for this report: 3 test images x 4 samples/);
    expect(r.stdout).toMatch(/report: .*report\.html .*6 training steps, 2 validations, 1 evaluation file\(s\), 1 figure\(s\)/);
    const grid = readPng(join(runDir, 'samples', 'sample-grid.png'));
    expect(grid.channels).toBe(3);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(externalReferences(html)).toEqual([]);
    expect(html).toContain('aria-label="Loss"');
    expect(html).toContain('aria-label="Validation GED (2 samples)"');
    expect(html).toMatch(/<th>GED<\/th>/);
    // The rendered grid has its SVG twin: shown (instead of the PNG) at native size in a scroll box.
    expect(html).toMatch(/<div class="scroll"><img class="native" src="data:image\/svg\+xml;base64,/);
    expect(html).not.toMatch(/src="data:image\/png;base64,/);

    // A second run of the command keeps the grid it now has (nothing to render).
    const again = await runInProcess(command, [runDir, '--no-render', '--out', join(tempDir(), 'r.html')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/rendered for this report/);
  });

  it('user mistakes: clear messages, no stack trace', async () => {
    for (const [argv, message] of [
      [[join(runDir, 'missing')], /run folder not found/],
      [[tempDir()], /not a punet run folder \(no spec\.json\)/],
      [[runDir, '--out', 'report.pdf'], /--out must name an \.html file/],
      [[], /expected one RUN folder/],
    ] as Array<[string[], RegExp]>) {
      const r = await runInProcess(command, argv);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it('renders in headless Chromium: the screenshot is not blank and shows the charts', async (ctx) => {
    const chromium = findChromium();
    if (!chromium) {
      if (IN_CI) throw new Error('chromium is not installed but CI=true: .ci/run must run .ci/install-chromium.sh before the tests');
      console.warn('skipping the Chromium rendering check: no chromium on PATH (install it with: sudo bash .ci/install-chromium.sh)');
      ctx.skip();
      return;
    }
    const html = join(runDir, 'report.html');
    if (!existsSync(html)) await runInProcess(command, [runDir, '--no-render']);
    const shot = screenshot(chromium, html, join(tempDir(), 'report.png'));
    if (process.env.PUNET_FIGURE_PREVIEW) {
      const { copyFileSync, mkdirSync } = await import('node:fs');
      mkdirSync(process.env.PUNET_FIGURE_PREVIEW, { recursive: true });
      copyFileSync(shot, join(process.env.PUNET_FIGURE_PREVIEW, 'report-screenshot.png'));
    }
    const png = readPng(shot);
    expect([png.width, png.height]).toEqual([1200, 2000]);
    const c = png.channels;
    let nonWhite = 0;
    let chartBlue = 0;
    for (let p = 0; p < png.width * png.height; p++) {
      const [r, g, b] = [png.data[p * c]!, png.data[p * c + 1]!, png.data[p * c + 2]!];
      if (r < 245 || g < 245 || b < 245) nonWhite++;
      // The loss curve's blue (#1f5fbf) and the GED purple (#7c3aed): clearly blue-dominant pixels.
      if (b > 150 && b > r + 50 && b > g + 40) chartBlue++;
    }
    // A blank or error page is (nearly) all white; the report fills a good part of the window.
    expect(nonWhite / (png.width * png.height)).toBeGreaterThan(0.05);
    expect(chartBlue).toBeGreaterThan(100);
  }, 120_000);
});
