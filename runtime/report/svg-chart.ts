/**
 * Line charts as inline SVG text (no library, no network): axes with "nice" ticks, one polyline
 * per series, an optional smoothed line over a noisy one, and a legend. Outliers above the 99th
 * percentile (e.g. the first steps' loss) are clipped to the top edge so they do not flatten
 * the rest of the curve; the chart says so.
 */
import { escapeHtml } from './html.js';

export interface Series {
  name: string;
  points: Array<[number, number]>;
  color: string;
  /** Draw a centred moving average over the raw (faint) line. */
  smooth?: boolean;
  /** Mark the point with the lowest y (e.g. the best validation GED). */
  markMin?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Points per series kept for drawing (bucket means past this). */
  maxPoints?: number;
  /** x is a count (steps): no ticks at fractions. */
  integerX?: boolean;
}

const MARGIN = { left: 64, right: 16, top: 30, bottom: 42 };

/** Ticks at 1, 2 or 5 times a power of ten covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Bucket means so a 200k-step log draws as at most `max` points. */
export function downsample(points: Array<[number, number]>, max: number): Array<[number, number]> {
  if (points.length <= max) return points;
  const out: Array<[number, number]> = [];
  const size = points.length / max;
  for (let b = 0; b < max; b++) {
    const slice = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (!slice.length) continue;
    out.push([slice.reduce((s, p) => s + p[0], 0) / slice.length, slice.reduce((s, p) => s + p[1], 0) / slice.length]);
  }
  return out;
}

/** Centred moving average over `window` points (shorter at the ends). */
export function movingAverage(points: Array<[number, number]>, window: number): Array<[number, number]> {
  const half = Math.max(0, Math.floor(window / 2));
  return points.map(([x], i) => {
    const lo = Math.max(0, i - half);
    const hi = Math.min(points.length, i + half + 1);
    let sum = 0;
    for (let k = lo; k < hi; k++) sum += points[k]![1];
    return [x, sum / (hi - lo)];
  });
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo]! + (sorted[Math.min(sorted.length - 1, lo + 1)]! - sorted[lo]!) * (pos - lo);
}

function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

/** Labels for evenly spaced ticks, with just enough digits that neighbours differ. */
export function tickLabels(ticks: number[]): string[] {
  if (ticks.length < 2) return ticks.map(tickLabel);
  const step = Math.abs(ticks[1]! - ticks[0]!);
  const largest = Math.max(...ticks.map(Math.abs));
  if (largest >= 1e5 || (largest < 1e-3 && largest > 0)) {
    // Scientific: mantissa decimals down to the step's decade, at the largest tick's decade.
    const digits = Math.max(0, Math.min(6, Math.floor(Math.log10(largest) + 1e-9) - Math.floor(Math.log10(step) + 1e-9)));
    return ticks.map((t) => (t === 0 ? '0' : t.toExponential(digits)));
  }
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
  return ticks.map((t) => t.toFixed(decimals));
}

export function lineChart(seriesIn: Series[], o: ChartOptions): string {
  const width = o.width ?? 560;
  const height = o.height ?? 260;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const maxPoints = o.maxPoints ?? 600;
  const series = seriesIn
    .map((s) => ({ ...s, points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)) }))
    .filter((s) => s.points.length > 0);
  const title = `<text x="${width / 2}" y="18" text-anchor="middle" class="chart-title">${escapeHtml(o.title)}</text>`;
  if (!series.length) {
    return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(o.title)}">${title}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="chart-empty">no data logged</text></svg>`;
  }

  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).sort((a, b) => a - b);
  let xMin = Math.min(...xs);
  let xMax = Math.max(...xs);
  if (xMax === xMin) {
    xMin -= 1;
    xMax += 1;
  }
  const yLow = ys[0]!;
  const yHigh = ys[ys.length - 1]!;
  const q99 = quantile(ys, 0.99);
  const clipped = ys.length >= 20 && yHigh - yLow > 0 && yHigh - q99 > 2 * (q99 - yLow);
  const yTop = clipped ? q99 : yHigh;
  const yTicks = niceTicks(yLow, yTop, 5);
  const yMin = Math.min(yLow, yTicks[0] ?? yLow);
  const yMax = Math.max(yTop, yTicks[yTicks.length - 1] ?? yTop);
  const span = yMax - yMin || 1;
  const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => MARGIN.top + plotH - ((Math.min(y, yMax) - yMin) / span) * plotH;
  const f = (v: number) => v.toFixed(1);

  const parts: string[] = [title];
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" class="chart-frame"/>`);
  const yLabels = tickLabels(yTicks);
  yTicks.forEach((t, k) => {
    if (t < yMin - 1e-12 || t > yMax + 1e-12) return;
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(py(t))}" y2="${f(py(t))}" class="chart-grid"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${f(py(t) + 4)}" text-anchor="end" class="chart-tick">${escapeHtml(yLabels[k])}</text>`);
  });
  const xTicks = niceTicks(xMin, xMax, 6).filter((t) => t >= xMin && t <= xMax && (!o.integerX || Number.isInteger(t)));
  const xLabels = tickLabels(xTicks);
  xTicks.forEach((t, k) => {
    parts.push(`<line x1="${f(px(t))}" x2="${f(px(t))}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" class="chart-axis"/>`);
    parts.push(`<text x="${f(px(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" class="chart-tick">${escapeHtml(xLabels[k])}</text>`);
  });
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 6}" text-anchor="middle" class="chart-label">${escapeHtml(o.xLabel)}</text>`);
  if (o.yLabel) {
    parts.push(`<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="chart-label">${escapeHtml(o.yLabel)}</text>`);
  }

  const polyline = (pts: Array<[number, number]>, color: string, cls: string) =>
    `<polyline class="${cls}" fill="none" stroke="${escapeHtml(color)}" points="${pts.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(' ')}"/>`;
  for (const s of series) {
    const pts = downsample(s.points, maxPoints);
    if (pts.length === 1) {
      parts.push(`<circle cx="${f(px(pts[0]![0]))}" cy="${f(py(pts[0]![1]))}" r="3" fill="${escapeHtml(s.color)}"/>`);
    } else if (s.smooth && pts.length > 20) {
      parts.push(polyline(pts, s.color, 'chart-raw'));
      parts.push(polyline(movingAverage(pts, Math.max(3, Math.round(pts.length / 25))), s.color, 'chart-line'));
    } else {
      parts.push(polyline(pts, s.color, 'chart-line'));
      if (pts.length <= 40) for (const [x, y] of pts) parts.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="2.5" fill="${escapeHtml(s.color)}"/>`);
    }
    if (s.markMin) {
      const best = s.points.reduce((a, b) => (b[1] < a[1] ? b : a));
      parts.push(`<circle cx="${f(px(best[0]))}" cy="${f(py(best[1]))}" r="5" class="chart-best" stroke="${escapeHtml(s.color)}"/>`);
      parts.push(`<text x="${f(Math.min(px(best[0]) + 8, MARGIN.left + plotW - 4))}" y="${f(py(best[1]) - 8)}" text-anchor="${px(best[0]) > MARGIN.left + plotW * 0.7 ? 'end' : 'start'}" class="chart-note">best ${escapeHtml(tickLabel(Number(best[1].toPrecision(4))))} at ${escapeHtml(tickLabel(best[0]))}</text>`);
    }
  }
  if (series.length > 1 || clipped) {
    let lx = MARGIN.left + 8;
    const ly = MARGIN.top + 14;
    for (const s of series) {
      parts.push(`<line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="${escapeHtml(s.color)}" class="chart-line"/>`);
      parts.push(`<text x="${lx + 20}" y="${ly}" class="chart-legend">${escapeHtml(s.name)}</text>`);
      lx += 32 + 7 * s.name.length;
    }
    if (clipped) parts.push(`<text x="${MARGIN.left + plotW - 6}" y="${ly}" text-anchor="end" class="chart-legend">values above ${escapeHtml(tickLabel(Number(yTop.toPrecision(3))))} drawn at the top</text>`);
  }
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(o.title)}">${parts.join('')}</svg>`;
}
