// Attention heatmaps as a PNG: one panel per map, rows = query (attending) tokens, columns = key
// (attended) tokens, token labels on both axes, absolute 0..1 colour scale shared by every panel.
import type { SKRSContext2D } from '@napi-rs/canvas';
import { canvasModule } from './canvas.js';
import { colorOf, cssColor } from './colormap.js';
import { labelFont } from './font.js';
import type { Panel } from './maps.js';

export interface HeatmapLayout {
  width: number;
  height: number;
  /** Side of one cell in pixels. */
  cell: number;
  /** Label font size in pixels (0: too many tokens for labels). */
  fontSize: number;
  /** Top-left corner of each panel's cell grid: cell (q, k) spans x + k·cell .. x + (k+1)·cell. */
  grids: { x: number; y: number }[];
}

const MARGIN = 16;
const GAP = 24;
const CAPTION = 30;
const BAR = { width: 16, labels: 44 };
const MAX_LABEL_CHARS = 14;

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const label = (t: string): string =>
  [...t].length > MAX_LABEL_CHARS ? [...t].slice(0, MAX_LABEL_CHARS - 1).join('') + '…' : t;

interface Plan extends HeatmapLayout {
  rowLabelW: number;
  colLabelH: number;
  titleH: number;
  /** Per token: drawn upright when it fits its column, else rotated a quarter turn. */
  upright: boolean[];
  labels: string[];
}

function plan(tokens: string[], panels: Panel[], measure: SKRSContext2D): Plan {
  const L = tokens.length;
  const single = panels.length === 1;
  const cell = single ? clamp(Math.round(640 / L), 2, 44) : clamp(Math.round(420 / L), 1, 28); // 512 tokens stay ≤ 1024 px
  const raw = Math.floor(cell * 0.75);
  const fontSize = raw < 8 ? 0 : Math.min(single ? 18 : 13, raw); // below 8 px labels are unreadable: none
  measure.font = `${fontSize}px ${labelFont().family}`;
  const labels = tokens.map(label);
  const widths = labels.map((t) => (fontSize ? measure.measureText(t).width : 0));
  const upright = widths.map((w) => w <= cell - 2);
  const rowLabelW = fontSize ? Math.ceil(Math.max(...widths)) + 8 : 0;
  const colLabelH = fontSize ? Math.ceil(Math.max(...widths.map((w, i) => (upright[i] ? fontSize * 1.3 : w)))) + 8 : 0;
  const titleH = 22;
  const grid = L * cell;
  const panelW = rowLabelW + grid;
  const panelH = titleH + colLabelH + grid;
  const cols = single ? 1 : Math.ceil(Math.sqrt(panels.length));
  const rows = Math.ceil(panels.length / cols);
  const grids = panels.map((_, i) => ({
    x: MARGIN + (i % cols) * (panelW + GAP) + rowLabelW,
    y: MARGIN + CAPTION + Math.floor(i / cols) * (panelH + GAP) + titleH + colLabelH,
  }));
  const width = MARGIN + cols * panelW + (cols - 1) * GAP + GAP + BAR.width + BAR.labels + MARGIN;
  const height = Math.max(
    MARGIN + CAPTION + rows * panelH + (rows - 1) * GAP + MARGIN,
    MARGIN + CAPTION + 200 + MARGIN,
  );
  return { width, height, cell, fontSize, grids, rowLabelW, colLabelH, titleH, upright, labels };
}

/** The picture's geometry, without drawing it (tests find cells with it). */
export function heatmapLayout(tokens: string[], panels: Panel[]): HeatmapLayout {
  const { width, height, cell, fontSize, grids } = plan(
    tokens,
    panels,
    canvasModule().createCanvas(1, 1).getContext('2d'),
  );
  return { width, height, cell, fontSize, grids };
}

export function renderHeatmapPng(tokens: string[], panels: Panel[], caption = ''): Buffer {
  if (panels.length === 0) throw new RangeError('no attention maps to draw');
  const L = tokens.length;
  const p = plan(tokens, panels, canvasModule().createCanvas(1, 1).getContext('2d'));
  const canvas = canvasModule().createCanvas(p.width, p.height);
  const ctx = canvas.getContext('2d');
  ctx.lang = 'zh-Hans';
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, p.width, p.height);
  const family = labelFont().family;

  ctx.fillStyle = '#222';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.font = `15px ${family}`;
  const axes = 'rows: query (attending) · columns: key (attended)';
  let text = [...caption];
  const fits = (t: string[]): boolean => ctx.measureText(`${t.join('')}…    ${axes}`).width <= p.width - 2 * MARGIN;
  if (!fits(text)) {
    while (text.length > 0 && !fits(text)) text = text.slice(0, Math.floor(text.length * 0.9));
    text.push('…');
  }
  ctx.fillText(text.length ? `${text.join('')}    ${axes}` : axes, MARGIN, MARGIN + CAPTION / 2 - 4);

  const img = ctx.createImageData(L * p.cell, L * p.cell);
  panels.forEach((panel, i) => {
    const { x, y } = p.grids[i]!;
    ctx.fillStyle = '#222';
    ctx.font = `bold 13px ${family}`;
    ctx.textAlign = 'left';
    ctx.fillText(panel.title, x - p.rowLabelW, y - p.colLabelH - p.titleH / 2);

    // Cells as raw pixels: exact colours, no anti-aliased seams.
    for (let q = 0; q < L; q++) {
      for (let k = 0; k < L; k++) {
        const [r, g, b] = colorOf(panel.values[q * L + k]!);
        for (let dy = 0; dy < p.cell; dy++) {
          let o = ((q * p.cell + dy) * L * p.cell + k * p.cell) * 4;
          for (let dx = 0; dx < p.cell; dx++, o += 4) {
            img.data[o] = r;
            img.data[o + 1] = g;
            img.data[o + 2] = b;
            img.data[o + 3] = 255;
          }
        }
      }
    }
    ctx.putImageData(img, x, y);
    ctx.strokeStyle = '#999';
    ctx.lineWidth = 1;
    ctx.strokeRect(x - 0.5, y - 0.5, L * p.cell + 1, L * p.cell + 1);

    if (!p.fontSize) return;
    ctx.font = `${p.fontSize}px ${family}`;
    ctx.fillStyle = '#222';
    for (let t = 0; t < L; t++) {
      const mid = t * p.cell + p.cell / 2;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(p.labels[t]!, x - 4, y + mid);
      if (p.upright[t]) {
        ctx.textAlign = 'center';
        ctx.textBaseline = 'bottom';
        ctx.fillText(p.labels[t]!, x + mid, y - 4);
      } else {
        ctx.save();
        ctx.translate(x + mid, y - 4);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = 'left';
        ctx.textBaseline = 'middle';
        ctx.fillText(p.labels[t]!, 0, 0);
        ctx.restore();
      }
    }
  });

  // Colour bar: the scale is absolute (probabilities), the same in every panel.
  const bx = p.width - MARGIN - BAR.labels - BAR.width;
  const by = MARGIN + CAPTION + 22;
  const bh = Math.max(120, Math.min(240, L * p.cell));
  for (let j = 0; j < bh; j++) {
    ctx.fillStyle = cssColor(1 - j / (bh - 1));
    ctx.fillRect(bx, by + j, BAR.width, 1);
  }
  ctx.strokeStyle = '#999';
  ctx.strokeRect(bx - 0.5, by - 0.5, BAR.width + 1, bh + 1);
  ctx.fillStyle = '#222';
  ctx.font = `12px ${family}`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  for (const v of [0, 0.25, 0.5, 0.75, 1]) ctx.fillText(v.toFixed(2), bx + BAR.width + 4, by + (1 - v) * (bh - 1));
  return canvas.toBuffer('image/png');
}
