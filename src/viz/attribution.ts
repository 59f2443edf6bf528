// Token attributions of a sentence pair as a PNG (`sbert explain --out FILE.png`): the similarity and method on
// top, then each sentence as a row of token boxes coloured by score on one symmetric diverging scale (shared by
// both sentences, so colours compare across them), each score printed under its token, and a legend.
import type { SKRSContext2D } from '@napi-rs/canvas';
import { canvasModule } from './canvas.js';
import { divergingColor, divergingCss, symmetricScale, textColorOn } from './diverging.js';
import { labelFont } from './font.js';

/** What the pictures show: `explain()`'s result (any object of this shape). */
export interface AttributionView {
  similarity: number;
  method: string;
  a: { text: string; tokens: string[]; scores: number[] };
  b: { text: string; tokens: string[]; scores: number[] };
  completeness_error?: { a: number; b: number };
  steps?: number;
}

export interface TokenBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface AttributionLayout {
  width: number;
  height: number;
  /** The colour scale: ±scale are the map's ends. */
  scale: number;
  /** Per sentence, each token's box (its fill colour is the score's). */
  boxes: { a: TokenBox[]; b: TokenBox[] };
}

const MARGIN = 24;
const MAX_ROW = 1000;
const BOX_H = 34;
const TOKEN_FONT = 18;
const SCORE_FONT = 11;
const GAP = 6;
const ROW_H = BOX_H + SCORE_FONT + 14;
const SENTENCE_HEAD = 30;
const LEGEND_H = 40;
const MAX_LABEL_CHARS = 16;

const METHOD_NAMES: Record<string, string> = {
  gradient: 'gradient norm',
  gradient_x_input: 'gradient × input',
  integrated_gradients: 'integrated gradients',
  attention_rollout: 'attention rollout ([CLS] row)',
};

export const methodName = (m: string): string => METHOD_NAMES[m] ?? m;

/** A score as printed under its token and in the HTML: 3 decimals, or 2 significant digits when small. */
export function formatScore(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const sign = v > 0 ? '+' : '−';
  const a = Math.abs(v);
  return sign + (a >= 0.01 ? a.toFixed(3) : a.toExponential(1));
}

/** The caption's second line: method, steps and completeness error. */
export function methodLine(v: AttributionView): string {
  const parts = [methodName(v.method)];
  if (v.steps !== undefined) parts.push(`${v.steps} steps`);
  if (v.completeness_error) {
    const e = v.completeness_error;
    parts.push(`completeness error: a ${formatScore(e.a)}, b ${formatScore(e.b)}`);
  }
  return parts.join('  ·  ');
}

/** The scores as `sbert explain` prints them: a caption, then each sentence with one score per token. */
export function attributionTable(r: AttributionView): string {
  const lines = [`similarity ${r.similarity.toFixed(4)}    ${methodLine(r)}`];
  for (const side of ['a', 'b'] as const) {
    lines.push(`${side.toUpperCase()} ${r[side].text}`);
    // Score first, so the column stays aligned whatever width a terminal gives CJK characters.
    r[side].tokens.forEach((t, i) => lines.push(`  ${formatScore(r[side].scores[i]!).padStart(8)}  ${t}`));
  }
  return `${lines.join('\n')}\n`;
}

/** What a colour means for this method (the legend's caption). */
export function legendCaption(method: string): string {
  return method === 'attention_rollout'
    ? "share of the last layer's [CLS] that comes from each token"
    : method === 'gradient'
      ? "how strongly the similarity reacts to each token's embedding (size, no sign)"
      : 'red: the token raises the similarity · blue: it lowers it';
}

const shorten = (t: string): string =>
  [...t].length > MAX_LABEL_CHARS ? [...t].slice(0, MAX_LABEL_CHARS - 1).join('') + '…' : t;

interface Plan extends AttributionLayout {
  labels: { a: string[]; b: string[] };
  heads: { a: number; b: number };
  legendY: number;
}

function plan(v: AttributionView, ctx: SKRSContext2D): Plan {
  const family = labelFont().family;
  ctx.font = `${TOKEN_FONT}px ${family}`;
  const scale = symmetricScale([...v.a.scores, ...v.b.scores]);
  let y = MARGIN + 60; // two caption lines
  const boxes = { a: [] as TokenBox[], b: [] as TokenBox[] };
  const labels = { a: v.a.tokens.map(shorten), b: v.b.tokens.map(shorten) };
  const heads = { a: 0, b: 0 };
  let right = 0;
  for (const side of ['a', 'b'] as const) {
    heads[side] = y;
    y += SENTENCE_HEAD;
    let x = MARGIN;
    for (const [i, label] of labels[side].entries()) {
      const score = formatScore(v[side].scores[i]!);
      ctx.font = `${TOKEN_FONT}px ${family}`;
      const wText = ctx.measureText(label).width;
      ctx.font = `${SCORE_FONT}px ${family}`;
      const w = Math.ceil(Math.max(wText, ctx.measureText(score).width) + 12);
      if (x > MARGIN && x + w > MARGIN + MAX_ROW) {
        x = MARGIN;
        y += ROW_H;
      }
      boxes[side].push({ x, y, w, h: BOX_H });
      x += w + GAP;
      right = Math.max(right, x - GAP);
    }
    y += ROW_H + 10;
  }
  const legendY = y;
  const width = Math.max(right, MARGIN + 640) + MARGIN;
  return { width, height: legendY + LEGEND_H + MARGIN, scale, boxes, labels, heads, legendY };
}

/** The picture's geometry, without drawing it (tests find the token boxes with it). */
export function attributionLayout(v: AttributionView): AttributionLayout {
  const { width, height, scale, boxes } = plan(v, canvasModule().createCanvas(1, 1).getContext('2d'));
  return { width, height, scale, boxes };
}

export function renderAttributionPng(v: AttributionView): Buffer {
  const p = plan(v, canvasModule().createCanvas(1, 1).getContext('2d'));
  const canvas = canvasModule().createCanvas(p.width, p.height);
  const ctx = canvas.getContext('2d');
  ctx.lang = 'zh-Hans';
  const family = labelFont().family;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, p.width, p.height);
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillStyle = '#222';
  ctx.font = `bold 20px ${family}`;
  ctx.fillText(`similarity ${v.similarity.toFixed(4)}`, MARGIN, MARGIN + 12);
  ctx.font = `14px ${family}`;
  ctx.fillStyle = '#444';
  ctx.fillText(methodLine(v), MARGIN, MARGIN + 40);

  for (const side of ['a', 'b'] as const) {
    ctx.font = `bold 15px ${family}`;
    ctx.fillStyle = '#222';
    ctx.textAlign = 'left';
    const head = `${side.toUpperCase()}  `;
    ctx.fillText(head, MARGIN, p.heads[side] + 12);
    ctx.font = `15px ${family}`;
    const room = p.width - 2 * MARGIN - 30;
    let text = [...v[side].text];
    while (text.length > 1 && ctx.measureText(text.join('')).width > room) text = text.slice(0, -2).concat('…');
    ctx.fillText(text.join(''), MARGIN + 30, p.heads[side] + 12);
    for (const [i, box] of p.boxes[side].entries()) {
      const score = v[side].scores[i]!;
      const fill = divergingColor(score, p.scale);
      ctx.fillStyle = divergingCss(score, p.scale);
      ctx.fillRect(box.x, box.y, box.w, box.h);
      ctx.strokeStyle = '#bbb';
      ctx.lineWidth = 1;
      ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w - 1, box.h - 1);
      ctx.fillStyle = textColorOn(fill);
      ctx.font = `${TOKEN_FONT}px ${family}`;
      ctx.textAlign = 'center';
      ctx.fillText(p.labels[side][i]!, box.x + box.w / 2, box.y + box.h / 2 + 1);
      ctx.fillStyle = '#555';
      ctx.font = `${SCORE_FONT}px ${family}`;
      ctx.fillText(formatScore(score), box.x + box.w / 2, box.y + box.h + SCORE_FONT / 2 + 3);
    }
  }

  // Legend: the colour bar from −scale to +scale, and what the colours mean.
  const barW = 320;
  const [bx, by] = [MARGIN, p.legendY + 4];
  for (let i = 0; i < barW; i++) {
    ctx.fillStyle = divergingCss(((2 * i) / (barW - 1) - 1) * p.scale, p.scale);
    ctx.fillRect(bx + i, by, 1, 14);
  }
  ctx.strokeStyle = '#999';
  ctx.strokeRect(bx - 0.5, by - 0.5, barW + 1, 15);
  ctx.fillStyle = '#444';
  ctx.font = `12px ${family}`;
  for (const [f, label, align] of [
    [0, formatScore(-p.scale), 'left'],
    [0.5, '0', 'center'],
    [1, formatScore(p.scale), 'right'],
  ] as const) {
    ctx.textAlign = align;
    ctx.fillText(label, bx + f * (barW - 1), by + 26);
  }
  ctx.textAlign = 'left';
  ctx.fillText(legendCaption(v.method), bx + barW + 16, by + 7);
  return canvas.toBuffer('image/png');
}
