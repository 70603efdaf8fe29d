/**
 * The latent grid as an SVG: the raster figure's geometry (latentGridLayout) with vector text,
 * tick labels, axis names and the sigma = 1 ellipse as a real ellipse clipped to the grid; panels
 * embedded at native resolution.
 */
import { gridPoint, latentGridLayout, CIRCLE_COLOR, type LatentGridFigureOptions } from './latent-grid.js';
import { colorLegendSwatch } from './sample-grid-svg.js';
import { svgDocument, svgRaster, svgText } from './svg.js';
import { displayStretch, imageTile, maskTile } from './tiles.js';

const FONT = 12;

export function latentGridSvg(image: Float32Array, masks: Uint8Array[], o: LatentGridFigureOptions & { imageId?: string }): string {
  const G = o.offsets.length;
  const L = latentGridLayout(o);
  const shown = displayStretch(image);
  const gridW = G * L.tileWidth + (G - 1) * L.gap;
  const gridH = G * L.tileHeight + (G - 1) * L.gap;
  const [i, j] = o.dims;
  const range = o.offsets[G - 1]!;
  const fmt = (v: number) => String(Number(v.toFixed(2)));
  const body: string[] = [];
  body.push(svgText(6, 16, `Latent grid: the segmentation decoded at (z − μ)/σ from ${fmt(-range)} to ${fmt(range)}; yellow ellipse: 1σ of the prior`, { size: FONT }));
  body.push(svgText(L.imageX, L.imageY - 6, o.imageId ? `Image ${o.imageId}` : 'Image', { size: FONT }));
  body.push(svgRaster(L.imageX, L.imageY, L.tileWidth, L.tileHeight, imageTile(shown, o)));
  masks.forEach((mask, k) => {
    const { row, col } = gridPoint(k, o.offsets);
    body.push(svgRaster(L.gridX + col * (L.tileWidth + L.gap), L.gridY + row * (L.tileHeight + L.gap), L.tileWidth, L.tileHeight, maskTile(mask, o, o.masks ?? 'overlay', shown)));
  });
  const ticks = [...new Set([0, Math.floor((G - 1) / 2), G - 1])];
  for (const c of ticks) body.push(svgText(L.gridX + c * (L.tileWidth + L.gap) + L.tileWidth / 2, L.gridY + gridH + FONT + 4, fmt(o.offsets[c]!), { size: FONT - 1, anchor: 'middle' }));
  for (const r of ticks) body.push(svgText(L.gridX - 6, L.gridY + r * (L.tileHeight + L.gap) + L.tileHeight / 2 + 4, fmt(o.offsets[G - 1 - r]!), { size: FONT - 1, anchor: 'end' }));
  const axisName = (d: number) => `z[${d}]${o.sigma ? ` (σ = ${o.sigma[d]!.toPrecision(3)})` : ''}`;
  body.push(svgText(L.gridX + gridW / 2, L.gridY + gridH + 2 * FONT + 10, `${axisName(i)} →`, { size: FONT, anchor: 'middle' }));
  body.push(svgText(L.gridX, L.gridY - 6, `↑ ${axisName(j)}`, { size: FONT }));
  const [r, g, b] = o.circleColor ?? CIRCLE_COLOR;
  body.push(
    `<ellipse cx="${L.originX}" cy="${L.originY}" rx="${L.pixelsPerSigmaX}" ry="${L.pixelsPerSigmaY}" fill="none" stroke="rgb(${r},${g},${b})" stroke-width="${o.circleThickness ?? 2}" clip-path="url(#grid)"/>`,
  );
  const legendY = L.gridY + gridH + 2 * FONT + 30;
  body.push(colorLegendSwatch(L.gridX, legendY, o.classes, o.masks ?? 'overlay', 'the decoded segmentations'));
  const height = legendY + FONT + 8;
  return svgDocument(L.width, Math.max(L.height, height), body, [`<clipPath id="grid"><rect x="${L.gridX}" y="${L.gridY}" width="${gridW}" height="${gridH}"/></clipPath>`]);
}
