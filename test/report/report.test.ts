import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../runtime/report/html.js';
import { buildReportHtml } from '../../runtime/report/build.js';
import { readRunReportData } from '../../runtime/report/run-data.js';
import { readJson } from '../../runtime/run/folder.js';
import { downsample, lineChart, movingAverage, niceTicks, tickLabels } from '../../runtime/report/svg-chart.js';
import { writeReport } from '../../runtime/report/write.js';
import { externalReferences } from './external.js';
import { fakeRunDir, NASTY } from './fixture.js';

describe('report pieces', () => {
  it('escapes text for HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('nice ticks are 1/2/5 x 10^k steps covering the range', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.13, 0.87, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    // A flat series at 3 is padded to [2.7, 3.3]: raw step 0.6 / 5 = 0.12 -> 0.2.
    expect(niceTicks(3, 3)).toEqual([2.8, 3, 3.2]);
  });

  it('tick labels carry just enough digits for neighbours to differ', () => {
    expect(tickLabels([0, 2, 4])).toEqual(['0', '2', '4']);
    expect(tickLabels([0.2, 0.4, 0.6])).toEqual(['0.2', '0.4', '0.6']);
    expect(tickLabels([0.7286, 0.72865, 0.7287])).toEqual(['0.72860', '0.72865', '0.72870']);
    // 5.96e-4 .. 6.00e-4 in steps of 2e-6: decades -4 and -6, so two mantissa decimals.
    expect(tickLabels([5.96e-4, 5.98e-4, 6e-4])).toEqual(['5.96e-4', '5.98e-4', '6.00e-4']);
    expect(tickLabels([0, 100000, 200000])).toEqual(['0', '1e+5', '2e+5']);
  });

  it('downsampling keeps bucket means; moving average of a line is the line inside', () => {
    const pts = Array.from({ length: 1000 }, (_, i) => [i, 2 * i] as [number, number]);
    const d = downsample(pts, 100);
    expect(d).toHaveLength(100);
    expect(d[0]).toEqual([4.5, 9]); // mean of x = 0..9
    const ma = movingAverage(pts.slice(0, 10), 3);
    expect(ma[5]).toEqual([5, 10]);
    expect(ma[0]).toEqual([0, 1]); // (0 + 2) / 2 at the edge
  });

  it('a chart places points on its axes: first and last step at the plot edges', () => {
    const svg = lineChart([{ name: 'loss', points: [[1, 10], [2, 20], [3, 30]], color: '#123456' }], { title: 'T', xLabel: 'step', width: 400, height: 200 });
    // plot: x from 64 to 400 - 16 = 384; y from 30 to 200 - 42 = 158 over ticks 10..30.
    const poly = /<polyline[^>]*points="([^"]+)"/.exec(svg)![1]!;
    expect(poly).toBe('64.0,158.0 224.0,94.0 384.0,30.0');
    expect(svg).not.toMatch(/xmlns|https?:/);
  });
});

describe('report page', () => {
  it('contains the curves, the evaluation table and the figure, all inline, and no external URL', async () => {
    const dir = fakeRunDir();
    const { path, data } = await writeReport(dir, { now: new Date('2025-02-03T04:05:06Z') });
    expect(path).toBe(join(dir, 'report.html'));
    const html = readFileSync(path, 'utf8');
    expect(externalReferences(html)).toEqual([]);
    // No script anywhere, even from the run's text.
    expect(html).not.toMatch(/<script/i);
    // The curves: 50 steps, 5 validations (the cut-short line is skipped); the checkpoint events are not "events".
    expect(data.steps).toHaveLength(50);
    expect(data.validations.map((v) => v.step)).toEqual([10, 20, 30, 40, 50]);
    for (const title of ['Loss', 'Reconstruction', 'KL', 'Validation GED (4 samples)', 'Learning rate', 'regularization']) {
      expect(html).toContain(`aria-label="${title}"`);
    }
    // best validation GED = 1/50 + 0.2 at step 50.
    expect(html).toMatch(/best validation GED 0\.2200 at step 50/);
    // The evaluation table: headers and values from eval.json, NaN counts, skipped metrics.
    expect(html).toContain('<th>GED</th><th>Hungarian-matched IoU</th><th>S_NCC</th>');
    expect(html).toContain('<tr><td>1</td><td>0.5123</td><td>0.2500</td><td>n/a <span class="note">(7 NaN)</span></td></tr>');
    expect(html).toContain('<tr><td>4</td><td>0.3125</td><td>0.5000</td><td>0.7500 <span class="note">(2 NaN)</span></td></tr>');
    expect(html).toContain('mode-tv skipped');
    expect(html).toContain('best checkpoint (step 40)');
    // One figure embedded (the per-panel PNG is not a figure), as a data: URI.
    expect(data.figures.map((f) => f.name)).toEqual(['samples/sample-grid.png']);
    // PNG only (no SVG twin): shown at native resolution in a scroll box, never downscaled.
    expect(html.match(/<div class="scroll"><img class="native" src="data:image\/png;base64,/g)).toHaveLength(1);
    expect(html).not.toContain('pixelated');
    // The spec is there, collapsible.
    expect(html).toMatch(/<details><summary>spec\.json/);
  });

  it('escapes everything that comes from the run', async () => {
    const dir = fakeRunDir();
    const html = buildReportHtml(readRunReportData(dir));
    expect(html).not.toContain(NASTY);
    expect(html).not.toContain('<b>model</b>');
    expect(html).toContain('punet report: demo &lt;b&gt;model&lt;/b&gt;');
    // JSON strings are escaped too (inside the spec's <pre>).
    expect(html).toContain(escapeHtml(JSON.stringify(NASTY)).slice(1, 40));
    expect(html).toContain('/specs/demo &amp; co.punet');
  });

  it('a damaged run file is named on the page with the same one-line message the other commands give', async () => {
    const dir = fakeRunDir({ steps: 0, withFigure: false, withEval: false });
    writeFileSync(join(dir, 'run.json'), '{"specFile": "x.punet",');
    const data = readRunReportData(dir);
    expect(data.info).toBeUndefined();
    let message = '';
    try {
      readJson(join(dir, 'run.json')); // what eval, sample, compare and resume say about it
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/run\.json is damaged \(not valid JSON: .*\); restore it, or re-create the run$/);
    expect(data.problems).toEqual([message]);
    expect(buildReportHtml(data)).toContain(escapeHtml(message));
  });

  it('a run with nothing but a spec still gives a page saying what is missing', async () => {
    const dir = fakeRunDir({ steps: 0, withFigure: false, withEval: false });
    const html = buildReportHtml(readRunReportData(dir));
    expect(html).toContain('No evaluation yet');
    expect(html).toContain('no training steps logged');
    expect(html).toContain('No figures in');
    expect(html).toContain('no data logged');
    expect(externalReferences(html)).toEqual([]);
  });

  it('a missing sample grid is rendered through the supplied renderer; a failing one is reported on the page', async () => {
    const dir = fakeRunDir({ withFigure: false });
    const failed = await writeReport(dir, { renderMissing: async () => { throw new Error('no data folder'); } });
    expect(readFileSync(failed.path, 'utf8')).toContain('could not render a sample grid: no data folder');
    const okDir = fakeRunDir({ withFigure: false });
    const ok = await writeReport(okDir, {
      renderMissing: async () => {
        const { writePng } = await import('../../runtime/data/png.js');
        writePng(join(okDir, 'samples', 'sample-grid.png'), { width: 2, height: 2, channels: 3, data: new Uint8Array(12) });
        return 'rendered it';
      },
    });
    expect(ok.data.figures.map((f) => f.name)).toEqual(['samples/sample-grid.png']);
    expect(ok.notes).toEqual(['rendered it']);
  });
});
