// A self-contained HTML page in the spirit of bertviz's head view: the sentence twice, attending tokens on
// the left, attended tokens on the right, a line per (query, key, head) whose opacity is the attention
// weight. Pick the layer, toggle heads (click; double-click shows one head only), hover a token to see only
// its lines. Inline CSS and JS, data embedded as JSON: works offline, loads nothing.
import { escapeHtml, scriptJson } from './html.js';
import type { AttentionMaps } from './maps.js';

export interface HeadViewData {
  tokens: string[];
  /** [layer][head][query][key], rounded to 4 decimals. */
  attention: number[][][][];
}

export function headViewData(m: AttentionMaps): HeadViewData {
  const L = m.tokens.length;
  const round = (x: number): number => Math.round(x * 1e4) / 1e4;
  const attention = m.layers.map((layer) =>
    Array.from({ length: m.heads }, (_, h) =>
      Array.from({ length: L }, (_, q) => Array.from(layer.subarray((h * L + q) * L, (h * L + q + 1) * L), round)),
    ),
  );
  return { tokens: m.tokens, attention };
}

export function renderHeadViewHtml(
  m: AttentionMaps,
  opts: { title?: string; layer?: number; head?: number } = {},
): string {
  const title = opts.title ?? m.tokens.join(' ');
  const data = { ...headViewData(m), initialLayer: opts.layer ?? 0, initialHead: opts.head ?? null };
  return `<!doctype html>
<html lang="zh">
<head>
<meta charset="utf-8">
<title>${escapeHtml(`attention: ${title}`)}</title>
<style>
  body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 24px; color: #222; }
  h1 { font-size: 16px; font-weight: 600; margin: 0 0 12px; }
  .controls { display: flex; gap: 16px; align-items: center; margin-bottom: 12px; font-size: 14px; }
  .heads { display: flex; gap: 4px; }
  .head { width: 18px; height: 18px; border: 2px solid transparent; cursor: pointer; border-radius: 3px; }
  .head.off { opacity: 0.15; }
  .view { display: flex; align-items: flex-start; }
  .col { display: flex; flex-direction: column; }
  .col.left { align-items: flex-end; }
  .tok { height: 24px; line-height: 24px; padding: 0 6px; font-size: 15px; cursor: default; white-space: nowrap; border-radius: 3px; }
  .tok.hl { background: #ffe08a; }
  .hint { font-size: 12px; color: #777; margin-top: 10px; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="controls">
  <label>Layer <select id="layer"></select></label>
  <span>Heads</span><div class="heads" id="heads"></div>
</div>
<div class="view">
  <div class="col left" id="left"></div>
  <canvas id="lines"></canvas>
  <div class="col right" id="right"></div>
</div>
<div class="hint">Left: attending (query) tokens; right: attended (key) tokens. Line opacity = attention weight.
Click a head to toggle it, double-click to show only that head; hover a token to see only its lines.</div>
<script type="application/json" id="attention-data">${scriptJson(data)}</script>
<script>
(() => {
  const data = JSON.parse(document.getElementById('attention-data').textContent);
  const L = data.tokens.length, nLayers = data.attention.length, nHeads = data.attention[0].length;
  const ROW = 24, WIDTH = 240;
  const colors = Array.from({ length: nHeads }, (_, h) => 'hsl(' + Math.round(360 * h / nHeads) + ', 70%, 45%)');
  let layer = Math.min(data.initialLayer, nLayers - 1);
  const on = Array.from({ length: nHeads }, (_, h) => data.initialHead === null || data.initialHead === h);
  let hover = null; // { side: 'left' | 'right', index }

  const select = document.getElementById('layer');
  for (let l = 0; l < nLayers; l++) select.add(new Option(String(l), String(l), false, l === layer));
  select.onchange = () => { layer = Number(select.value); draw(); };

  const heads = document.getElementById('heads');
  const swatches = colors.map((c, h) => {
    const s = document.createElement('div');
    s.className = 'head'; s.style.background = c; s.title = 'head ' + h;
    s.onclick = () => { on[h] = !on[h]; draw(); };
    s.ondblclick = () => { on.fill(false); on[h] = true; draw(); };
    heads.appendChild(s);
    return s;
  });

  const cols = { left: document.getElementById('left'), right: document.getElementById('right') };
  const cells = { left: [], right: [] };
  for (const side of ['left', 'right']) {
    data.tokens.forEach((t, i) => {
      const d = document.createElement('div');
      d.className = 'tok'; d.textContent = t;
      d.onmouseenter = () => { hover = { side, index: i }; draw(); };
      d.onmouseleave = () => { hover = null; draw(); };
      cols[side].appendChild(d);
      cells[side].push(d);
    });
  }

  const canvas = document.getElementById('lines');
  const dpr = window.devicePixelRatio || 1;
  canvas.width = WIDTH * dpr; canvas.height = L * ROW * dpr;
  canvas.style.width = WIDTH + 'px'; canvas.style.height = L * ROW + 'px';
  const ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);

  function draw() {
    swatches.forEach((s, h) => s.classList.toggle('off', !on[h]));
    for (const side of ['left', 'right']) cells[side].forEach((d, i) => d.classList.toggle('hl', !!hover && hover.side === side && hover.index === i));
    ctx.clearRect(0, 0, WIDTH, L * ROW);
    const active = on.map((v, h) => v ? h : -1).filter((h) => h >= 0);
    for (const h of active) {
      const A = data.attention[layer][h];
      ctx.strokeStyle = colors[h];
      ctx.lineWidth = 2;
      for (let q = 0; q < L; q++) {
        if (hover && hover.side === 'left' && hover.index !== q) continue;
        for (let k = 0; k < L; k++) {
          if (hover && hover.side === 'right' && hover.index !== k) continue;
          const w = A[q][k];
          if (w < 0.005) continue;
          // Several heads overlap: split the opacity so the sum stays readable.
          ctx.globalAlpha = Math.min(1, w / Math.sqrt(active.length));
          ctx.beginPath();
          ctx.moveTo(0, q * ROW + ROW / 2);
          ctx.lineTo(WIDTH, k * ROW + ROW / 2);
          ctx.stroke();
        }
      }
    }
    ctx.globalAlpha = 1;
  }
  draw();
})();
</script>
</body>
</html>
`;
}
