import { createCanvas } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { colorOf, valueOf } from '../../src/viz/colormap.js';
import { labelFont } from '../../src/viz/font.js';
import { heatmapLayout, renderHeatmapPng } from '../../src/viz/heatmap.js';
import { headMap, meanMap, type Panel, selectPanels } from '../../src/viz/maps.js';
import { decodePng, pngSize, referenceMaps } from './helpers.js';

/** Every cell's centre pixel, read back through the colour map, equals the attention value. */
async function expectCellsMatch(png: Buffer, tokens: string[], panels: Panel[]): Promise<void> {
  const layout = heatmapLayout(tokens, panels);
  expect(pngSize(png)).toEqual({ width: layout.width, height: layout.height });
  const px = await decodePng(png);
  const L = tokens.length;
  let worst = 0;
  panels.forEach((panel, i) => {
    const { x, y } = layout.grids[i]!;
    for (let q = 0; q < L; q++) {
      for (let k = 0; k < L; k++) {
        const [r, g, b, a] = px.rgba(
          x + k * layout.cell + (layout.cell >> 1),
          y + q * layout.cell + (layout.cell >> 1),
        );
        expect(a).toBe(255);
        expect([r, g, b]).toEqual(colorOf(panel.values[q * L + k]!));
        worst = Math.max(worst, Math.abs(valueOf(r) - panel.values[q * L + k]!));
      }
    }
  });
  expect(worst).toBeLessThanOrEqual(0.5 / 247 + 1e-9); // one rounding of the red channel
}

describe('attention heatmap PNG', () => {
  const maps = referenceMaps(0); // 那个人很开心: [CLS] 那 个 人 很 开 心 [SEP]

  it('uses the fixture sentence', () => {
    expect(maps.tokens).toEqual(['[CLS]', '那', '个', '人', '很', '开', '心', '[SEP]']);
  });

  it("one head: cells carry the attention values, the size is the layout's", async () => {
    const panels = selectPanels(maps, { layer: 1, head: 2 });
    expect(panels.map((p) => p.title)).toEqual(['layer 1, head 2']);
    const png = renderHeatmapPng(maps.tokens, panels, '那个人很开心');
    await expectCellsMatch(png, maps.tokens, panels);
    const layout = heatmapLayout(maps.tokens, panels);
    expect(layout.cell).toBe(44);
    expect(layout.fontSize).toBeGreaterThanOrEqual(12);
  });

  it('every head of a layer, each head in every layer, and per-layer means', async () => {
    const heads = selectPanels(maps, { layer: 0 });
    expect(heads.map((p) => p.title)).toEqual([0, 1, 2, 3].map((h) => `layer 0, head ${h}`));
    expect(heads[3]!.values).toEqual(headMap(maps, 0, 3));
    await expectCellsMatch(renderHeatmapPng(maps.tokens, heads), maps.tokens, heads);

    expect(selectPanels(maps, { head: 1 }).map((p) => p.title)).toEqual(['layer 0, head 1', 'layer 1, head 1']);

    const means = selectPanels(maps, {});
    expect(means.map((p) => p.title)).toEqual(['layer 0, mean of 4 heads', 'layer 1, mean of 4 heads']);
    const m = meanMap(maps, 1);
    const n = maps.tokens.length;
    // Rows of a mean of softmax rows still sum to 1; one value by hand.
    for (let q = 0; q < n; q++) expect(m.subarray(q * n, (q + 1) * n).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const byHand = [0, 1, 2, 3].reduce((a, h) => a + maps.layers[1]![(h * n + 2) * n + 5]!, 0) / 4;
    expect(m[2 * n + 5]).toBeCloseTo(byHand, 6);
    await expectCellsMatch(renderHeatmapPng(maps.tokens, means), maps.tokens, means);
  });

  it('rejects a layer or head outside the model', () => {
    expect(() => selectPanels(maps, { layer: 2 })).toThrow('--layer must be an integer in 0..1, got 2');
    expect(() => selectPanels(maps, { head: 4 })).toThrow('--head must be an integer in 0..3, got 4');
  });

  it('draws Chinese labels with real glyphs (a CJK font is found)', () => {
    const font = labelFont();
    expect(font.file).not.toBeNull();
    // With no CJK font every Han character is the same .notdef box: distinct characters must differ.
    const glyph = (ch: string): string => {
      const c = createCanvas(40, 40);
      const ctx = c.getContext('2d');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, 40, 40);
      ctx.fillStyle = '#000';
      ctx.font = `32px ${font.family}`;
      ctx.textBaseline = 'top';
      ctx.fillText(ch, 4, 4);
      return Buffer.from(ctx.getImageData(0, 0, 40, 40).data).toString('base64');
    };
    const box = glyph('\u{10FFFD}'); // a private-use code point: no font draws it
    for (const ch of ['那', '个', '心']) expect(glyph(ch)).not.toBe(box);
    expect(glyph('那')).not.toBe(glyph('个'));
  });
});
