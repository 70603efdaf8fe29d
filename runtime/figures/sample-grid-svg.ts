/**
 * The sample grid as an SVG for papers: the same panels as the raster figure (gridContent), with
 * vector text in a real font: column titles (annotator names when the dataset has them), the
 * image id at the start of every row, a legend for the overlay colours and a colour bar with its
 * range for every map. Panels are embedded at their native resolution and drawn with crisp pixels.
 */
import { classColor } from './colormap.js';
import { gridContent, type GridContent, type SampleGridOptions, type SampleGridRow, type SummaryMap } from './sample-grid.js';
import { colorBar, estimateTextWidth, svgDocument, svgRaster, svgText, viridisGradientDef } from './svg.js';

const MAP_TITLE: Record<SummaryMap, string> = {
  annotators: 'Annotator freq.',
  frequency: 'Model freq.',
  entropy: 'Entropy',
  std: 'Std of p(fg)',
  probability: 'Mean p(fg)',
};
const MAP_BAR: Record<SummaryMap, string> = {
  annotators: 'Annotator frequency (share of annotators marking the pixel)',
  frequency: 'Model frequency (share of samples marking the pixel)',
  entropy: 'Entropy of the samples (bits)',
  std: 'Std over samples of p(foreground)',
  probability: 'Mean p(foreground) over samples',
};

const FONT = 12;
const GAP = 3;
/** Extra space between column groups (input | annotations | samples | maps). */
const GROUP_GAP = 10;

export function sampleGridSvg(rows: SampleGridRow[], o: SampleGridOptions & { panel?: number }): string {
  return renderGridSvg(gridContent(rows, o), o.panel);
}

/** `panel`: side of the longer panel edge in SVG units (default about 96). */
export function renderGridSvg(c: GridContent, panel = 96): string {
  const scale = panel / Math.max(c.height, c.width);
  const tw = c.width * scale;
  const th = c.height * scale;
  const labelWidth = c.rowLabels?.length ? Math.min(160, Math.max(...c.rowLabels.map((l) => estimateTextWidth(l, FONT))) + 12) : 0;
  const margin = 8;
  const headerHeight = 2 * FONT + 10;
  const columns = 1 + c.nAnnotations + c.nSamples + c.maps.length;
  const groupOf = (col: number) => (col === 0 ? 0 : col <= c.nAnnotations ? 1 : col <= c.nAnnotations + c.nSamples ? 2 : 3);
  const xs: number[] = [];
  let x = margin + labelWidth;
  for (let col = 0; col < columns; col++) {
    if (col > 0) x += GAP + (groupOf(col) !== groupOf(col - 1) ? GROUP_GAP : 0);
    xs.push(x);
    x += tw;
  }
  const width = Math.ceil(x + margin);
  const top = margin + headerHeight;
  const rowsHeight = c.tiles.length * th + (c.tiles.length - 1) * GAP;
  const body: string[] = [];

  // Group titles (first header line) and column titles (second line).
  const groupTitle = (first: number, count: number, title: string) => {
    if (count <= 0) return;
    const x0 = xs[first]!;
    const x1 = xs[first + count - 1]! + tw;
    body.push(svgText((x0 + x1) / 2, margin + FONT, title, { size: FONT, anchor: 'middle', weight: 'bold', maxWidth: x1 - x0 }));
    body.push(`<line x1="${x0}" y1="${margin + FONT + 4}" x2="${x1}" y2="${margin + FONT + 4}" stroke="#888" stroke-width="0.6"/>`);
  };
  groupTitle(0, 1, 'Input');
  groupTitle(1, c.nAnnotations, 'Annotations');
  groupTitle(1 + c.nAnnotations, c.nSamples, 'Prior samples');
  groupTitle(1 + c.nAnnotations + c.nSamples, c.maps.length, 'Per-pixel maps');
  const titles = [
    'Image',
    ...Array.from({ length: c.nAnnotations }, (_, i) => c.annotators?.[i] ?? `Annotator ${i + 1}`),
    ...Array.from({ length: c.nSamples }, (_, i) => `${i + 1}`),
    ...c.maps.map((m) => MAP_TITLE[m.kind]),
  ];
  titles.forEach((t, col) => body.push(svgText(xs[col]! + tw / 2, top - 5, t, { size: FONT - 1, anchor: 'middle', maxWidth: tw })));

  c.tiles.forEach((cells, r) => {
    const y = top + r * (th + GAP);
    const label = c.rowLabels?.[r];
    if (label) body.push(svgText(margin + labelWidth - 6, y + th / 2 + FONT / 3, label, { size: FONT, anchor: 'end', maxWidth: labelWidth - 8 }));
    cells.forEach((tile, col) => {
      if (tile) body.push(svgRaster(xs[col]!, y, tw, th, tile));
    });
  });

  // Legend: overlay colours, then one colour bar per map.
  let ly = top + rowsHeight + 20;
  body.push(colorLegendSwatch(margin + labelWidth, ly, c.classes, c.masks));
  ly += 16;
  const barWidth = Math.max(160, Math.min(260, tw * 2));
  let bx = margin + labelWidth;
  for (const m of c.maps) {
    const title = MAP_BAR[m.kind];
    const w = Math.max(barWidth, estimateTextWidth(title, FONT - 1));
    if (bx + w > width - margin && bx > margin + labelWidth) {
      bx = margin + labelWidth;
      ly += 46;
    }
    body.push(colorBar(bx, ly + FONT, barWidth, title, String(m.min), String(Number(m.max.toFixed(2))), FONT - 1));
    bx += w + 24;
  }
  const height = Math.ceil(ly + FONT + 40);
  return svgDocument(width, height, body, [viridisGradientDef()]);
}

/** The legend of the mask colours: one swatch per foreground class, saying how masks are drawn. */
export function colorLegendSwatch(x: number, y: number, classes: number, masks: 'overlay' | 'binary', what = 'annotations and samples'): string {
  const out: string[] = [];
  let lx = x;
  const how = masks === 'overlay' ? 'overlaid on the image' : 'on black';
  for (let k = 1; k < Math.max(2, classes); k++) {
    const [r, g, b] = masks === 'binary' && classes <= 2 ? [255, 255, 255] : classColor(k);
    const text = classes <= 2 ? `foreground in ${what} (${how})` : `class ${k} (${how})`;
    out.push(`<rect x="${lx}" y="${y - 9}" width="12" height="12" fill="rgb(${r},${g},${b})" stroke="#444" stroke-width="0.5"/>`);
    out.push(svgText(lx + 17, y + 1, text, { size: FONT - 1 }));
    lx += 17 + estimateTextWidth(text, FONT - 1) + 18;
  }
  return out.join('');
}
