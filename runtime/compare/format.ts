/** The comparison as a terminal table, JSON and a self-contained HTML page (curves overlaid). */
import { CSS } from '../report/build.js';
import { escapeHtml } from '../report/html.js';
import { lineChart, type Series } from '../report/svg-chart.js';
import type { Comparison, MetricTable } from './analyze.js';
import type { RunRecord } from './runs.js';

const fmt = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const fmtP = (p: number) => (p >= 0.001 ? p.toFixed(3) : p.toExponential(1));
const interval = (lo: number, hi: number) => (Number.isFinite(lo) ? `[${fmt(lo)}, ${fmt(hi)}]` : '(1 seed: none)');

interface Cells {
  header: string[];
  rows: string[][];
}

function cells(t: MetricTable): Cells {
  const header = ['variant', 'seeds', 'mean', '95% CI (t, seeds)', 'diff vs ' + (t.paired[0]?.baseline ?? 'first'), '95% CI (paired bootstrap)', 'image pairs (seeds)', 'sign test +/-', 'p'];
  const rows = t.rows.map((r) => {
    const p = t.paired.find((x) => x.variant === r.variant);
    return [
      r.variant,
      String(r.ci.n),
      fmt(r.ci.mean),
      interval(r.ci.lo, r.ci.hi),
      p ? (p.diff.mean >= 0 ? '+' : '') + fmt(p.diff.mean) : r === t.rows[0] ? '(baseline)' : '-',
      p ? interval(p.diff.lo, p.diff.hi) : '',
      p ? `${p.diff.n} (${p.seeds.join(',')})` : '',
      p ? `${p.sign.positive}/${p.sign.negative}` : '',
      p ? fmtP(p.sign.p) : '',
    ];
  });
  return { header, rows };
}

function caption(t: MetricTable): string {
  const pairs = t.paired.length ? '; diff = variant - baseline per test image, pooled over the seed-matched runs' : '';
  return `${t.metric}, ${t.samples} sample${t.samples > 1 ? 's' : ''} (mean over seeds with a 95% t interval${pairs})`;
}

export function formatComparison(c: Comparison): string {
  const out: string[] = [];
  for (const t of c.tables) {
    const { header, rows } = cells(t);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    out.push(caption(t));
    for (const row of [header, ...rows]) out.push('  ' + row.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd());
    out.push('');
  }
  for (const p of c.problems) out.push(`note: ${p}`);
  return out.join('\n').trimEnd();
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];

export function comparisonHtml(c: Comparison, runs: RunRecord[], title = 'punet compare'): string {
  const colorOf = new Map(c.variants.map((v, i) => [v.label, PALETTE[i % PALETTE.length]!]));
  const variantOf = (r: RunRecord) => c.variants.find((v) => v.runs.includes(r.dir))!.label;
  const series = (pick: (r: RunRecord) => Array<[number, number]>, smooth: boolean): Series[] =>
    runs.map((r) => ({ name: `${variantOf(r)} s${r.seed}`, points: pick(r), color: colorOf.get(variantOf(r))!, smooth }));
  const charts = [
    lineChart(series((r) => r.validation, false), { title: 'Validation GED (lower is better)', xLabel: 'step', integerX: true }),
    lineChart(series((r) => r.loss, true), { title: 'Training loss', xLabel: 'step', integerX: true }),
  ];
  const tables = c.tables.map((t) => {
    const { header, rows } = cells(t);
    const tr = (r: string[], tag: string) => `<tr>${r.map((x, i) => `<${tag}${i === 0 && tag === 'td' ? ` style="color:${colorOf.get(x) ?? 'inherit'}"` : ''}>${escapeHtml(x)}</${tag}>`).join('')}</tr>`;
    return `<table><caption>${escapeHtml(caption(t))}</caption>${tr(header, 'th')}${rows.map((r) => tr(r, 'td')).join('')}</table>`;
  });
  const variants = c.variants.map((v) => `<li><b style="color:${colorOf.get(v.label)}">${escapeHtml(v.label)}</b>: ${v.runs.length} run${v.runs.length > 1 ? 's' : ''} <span class="note">${v.runs.map((d) => escapeHtml(d)).join(', ')}</span></li>`);
  const problems = c.problems.length ? `<div class="problems">${c.problems.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}</div>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
${problems}
<h2>Variants</h2><ul>${variants.join('')}</ul>
<h2>Curves</h2><div class="charts">${charts.join('')}</div>
<h2>Test metrics</h2>
<p class="note">Mean over seeds with a 95% Student-t interval; differences against the first variant are per test image,
on seed-matched runs evaluated on the same images, with a 95% paired percentile bootstrap interval (10,000 resamples)
and an exact two-sided sign test (+ = variant larger).</p>
${tables.join('\n')}
</main></body></html>
`;
}
