// `sbert attention` on the tiny model: the pictures show the model's attention, which equals PyTorch's.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { colorOf } from '../../src/viz/colormap.js';
import { heatmapLayout } from '../../src/viz/heatmap.js';
import { selectPanels } from '../../src/viz/maps.js';
import { errorLine, sbert } from '../cli.js';
import { fixture } from '../fixtures.js';
import { decodePng, embeddedData, pngSize, referenceMaps } from './helpers.js';

const TMP = mkdtempSync(join(tmpdir(), 'sbert-attention-'));
const MODEL = fixture('tiny', 'hf');
const TEXT = '那个人很开心'; // sentence 0 of tiny/refs.safetensors

describe('sbert attention', () => {
  const ref = referenceMaps(0);

  it("PNG of one head: PyTorch's attention values in the cells (to a colour step)", async () => {
    const out = join(TMP, 'head.png');
    const run = await sbert(['attention', '--model', MODEL, TEXT, '--layer', '1', '--head', '3', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const png = readFileSync(out);
    const panels = selectPanels(ref, { layer: 1, head: 3 });
    const layout = heatmapLayout(ref.tokens, panels);
    expect(pngSize(png)).toEqual({ width: layout.width, height: layout.height });
    const px = await decodePng(png);
    const L = ref.tokens.length;
    const { x, y } = layout.grids[0]!;
    for (let q = 0; q < L; q++) {
      for (let k = 0; k < L; k++) {
        const [r, g, b] = px.rgba(x + k * layout.cell + 20, y + q * layout.cell + 20);
        const want = colorOf(panels[0]!.values[q * L + k]!);
        // Our attention differs from PyTorch's by < 1e-6, which can move a channel by at most one step.
        for (const [c, v] of [r, g, b].entries()) expect(Math.abs(v - want[c]!)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('PNG without --head: a panel per head of the layer', async () => {
    const out = join(TMP, 'layer.png');
    const run = await sbert(['attention', '--model', MODEL, TEXT, '--layer', '0', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const layout = heatmapLayout(ref.tokens, selectPanels(ref, { layer: 0 }));
    expect(layout.grids).toHaveLength(4);
    expect(pngSize(readFileSync(out))).toEqual({ width: layout.width, height: layout.height });
  });

  it("HTML: every layer and head, equal to PyTorch's attentions", async () => {
    const out = join(TMP, 'view.html');
    const run = await sbert(['attention', '--model', MODEL, TEXT, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/https?:\/\//);
    const data = embeddedData(html);
    expect(data.tokens).toEqual(ref.tokens);
    const n = ref.tokens.length;
    let worst = 0;
    for (let l = 0; l < 2; l++) {
      for (let h = 0; h < 4; h++) {
        for (let i = 0; i < n * n; i++)
          worst = Math.max(
            worst,
            Math.abs(data.attention[l]![h]![Math.floor(i / n)]![i % n]! - ref.layers[l]![h * n * n + i]!),
          );
      }
    }
    expect(worst).toBeLessThanOrEqual(6e-5); // 4-decimal rounding + float32 agreement
  });

  it('usage errors exit 1, bad input exits 2', async () => {
    const png = join(TMP, 'x.png');
    let run = await sbert(['attention', '--model', MODEL, TEXT, '--out', join(TMP, 'x.jpg')]);
    expect(run.code).toBe(1);
    expect(errorLine(run)).toMatch(/--out must end in \.png or \.html/);
    run = await sbert(['attention', '--model', MODEL, TEXT, '--layer', '2', '--out', png]);
    expect(run.code).toBe(1);
    expect(errorLine(run)).toMatch(/--layer must be in 0\.\.1, got 2/);
    run = await sbert(['attention', '--model', MODEL, '  ', '--out', png]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(/TEXT is empty/);
    // 512 tokens: fine as a PNG, refused as a head view (L² lines per head).
    const long = (JSON.parse(readFileSync(fixture('tiny', 'refs.json'), 'utf8')) as { long_text: string }).long_text;
    run = await sbert(['attention', '--model', MODEL, long, '--out', join(TMP, 'long.html')]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toBe(
      'error: TEXT has 512 tokens; the HTML head view shows at most 256 (use --max-length 256, or a .png)',
    );
    run = await sbert(['attention', '--model', MODEL, long, '--max-length', '256', '--out', join(TMP, 'long.html')]);
    expect(run.code, run.stderr).toBe(0);
    expect(embeddedData(readFileSync(join(TMP, 'long.html'), 'utf8')).tokens).toHaveLength(256);
    run = await sbert(['attention', '--model', MODEL, TEXT, '--out', join(TMP, 'no-such-dir', 'x.png')]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(/no-such-dir\/x\.png: cannot write: no such folder .*no-such-dir$/);
  });
});
