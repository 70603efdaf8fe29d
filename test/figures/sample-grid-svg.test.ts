/**
 * The paper figure (SVG) and what both figure forms show: annotator names as column titles, image
 * ids per row, contrast-stretched input, the annotator-frequency map beside the model's, an
 * overlay legend and a colour bar per map.
 */
import { describe, expect, it } from 'vitest';
import { gridContent, type SampleGridRow } from '../../runtime/figures/sample-grid.js';
import { sampleGridSvg } from '../../runtime/figures/sample-grid-svg.js';
import { displayStretch } from '../../runtime/figures/tiles.js';
import { viridis } from '../../runtime/figures/colormap.js';
import { decodePng } from '../../runtime/data/png.js';

const H = 4;
const W = 4;
const mask = (pixels: number[]) => Uint8Array.from({ length: H * W }, (_, p) => (pixels.includes(p) ? 1 : 0));
// A dim 12-bit-like image: values 0.010..0.025, which plain display shows nearly black.
const dim = Float32Array.from({ length: H * W }, (_, p) => 0.01 + p * 0.001);
const row: SampleGridRow = {
  image: dim,
  annotations: [mask([0, 1]), mask([1]), mask([1, 2])],
  samples: [mask([1]), mask([])],
};
const options = { height: H, width: W, channels: 1, classes: 2, annotators: ['Person1_Amira', 'Person2_ImageJ', 'Person3 <&>'], rowLabels: ['B04'] };

describe('figure content and SVG', () => {
  it('stretches the 1-99 % range of the input to full contrast; a flat image stays as it is', () => {
    const s = displayStretch(dim);
    expect(Math.min(...s)).toBe(0);
    expect(Math.max(...s)).toBe(1);
    const flat = new Float32Array(4).fill(0.3);
    expect(displayStretch(flat)).toBe(flat);
  });

  it('annotator frequency per pixel: 1/3, 3/3, 1/3 at pixels 0, 1, 2; model frequency 1/2 at pixel 1', () => {
    const c = gridContent([row], options);
    expect(c.maps.map((m) => m.kind)).toEqual(['annotators', 'frequency', 'entropy']);
    const ann = c.tiles[0]![1 + 3 + 2]!;
    const px = (tile: typeof ann, p: number) => Array.from(tile.data.subarray(p * 3, p * 3 + 3));
    expect(px(ann, 0)).toEqual(Array.from(viridis(1 / 3)));
    expect(px(ann, 1)).toEqual(Array.from(viridis(1)));
    expect(px(ann, 3)).toEqual(Array.from(viridis(0)));
    expect(px(c.tiles[0]![1 + 3 + 3]!, 1)).toEqual(Array.from(viridis(0.5)));
    // The input panel uses the stretched image: its last pixel is white, not near black.
    expect(px(c.tiles[0]![0]!, H * W - 1)).toEqual([255, 255, 255]);
  });

  it('SVG: real font, escaped annotator names, the image id, legend and one colour bar per map', () => {
    const svg = sampleGridSvg([row], options);
    expect(svg).toMatch(/<svg [^>]*font-family="'DejaVu Sans', [^"]*sans-serif"/);
    expect(svg).toContain('>Person1_Amira</text>');
    expect(svg).toContain('>Person3 &lt;&amp;&gt;</text>');
    expect(svg).toContain('>B04</text>');
    expect(svg).toContain('foreground in annotations and samples (overlaid on the image)');
    expect(svg.match(/fill="url\(#viridis\)"/g)).toHaveLength(3);
    expect(svg).toContain('Entropy of the samples (bits)');
    // Panels: 1 input + 3 annotations + 2 samples + 3 maps, each a PNG of the data pixels repeated
    // by an integer factor (96 / 4 = 24), so no renderer can blur them.
    const panels = [...svg.matchAll(/href="data:image\/png;base64,([^"]+)"/g)];
    expect(panels).toHaveLength(9);
    const first = decodePng(Buffer.from(panels[0]![1]!, 'base64'), 'panel.png');
    expect([first.width, first.height]).toEqual([W * 24, H * 24]);
    const tile = gridContent([row], options).tiles[0]![0]!;
    for (const p of [0, 5, 15]) {
      const [x, y] = [(p % W) * 24 + 23, Math.floor(p / W) * 24];
      expect(Array.from(first.data.subarray((y * first.width + x) * 3, (y * first.width + x) * 3 + 3))).toEqual(Array.from(tile.data.subarray(p * 3, p * 3 + 3)));
    }
    expect(svg).toContain('image-rendering:pixelated');
  });
});
