// Token attributions of a sentence pair as one self-contained HTML page (`sbert explain --out FILE.html`): the
// same picture as the PNG (tokens on one symmetric diverging scale, scores under them, legend), plus a table of
// every token's offsets and score, and the explanation itself embedded as JSON. Inline CSS only, no script, no
// fetch: it opens offline; the Chinese is drawn by an inlined subset of a CJK font (page-font.ts) where one is
// installed, else by the browser's fonts.
import { type AttributionView, formatScore, legendCaption, methodLine } from './attribution.js';
import { divergingColor, divergingCss, divergingGradientCss, symmetricScale, textColorOn } from './diverging.js';
import { escapeHtml, PAGE_FONTS, scriptJson } from './html.js';
import { embeddedFontFace, PAGE_FONT_FAMILY } from './page-font.js';

/** `explain()`'s result, with the code-point offsets the table shows. */
export interface AttributionPage extends AttributionView {
  a: AttributionView['a'] & { offsets?: [number, number][] };
  b: AttributionView['b'] & { offsets?: [number, number][] };
}

function tokens(side: AttributionPage['a'], scale: number): string {
  return side.tokens
    .map((t, i) => {
      const s = side.scores[i]!;
      const at = side.offsets?.[i];
      const where = at && at[1] > at[0] ? ` · characters ${at[0]}–${at[1]}` : '';
      const style = `background:${divergingCss(s, scale)};color:${textColorOn(divergingColor(s, scale))}`;
      return `<span class="tok" title="${escapeHtml(`${t} · ${formatScore(s)}${where}`)}"><span class="t" style="${style}">${escapeHtml(t)}</span><span class="s">${escapeHtml(formatScore(s))}</span></span>`;
    })
    .join('');
}

function table(side: AttributionPage['a']): string {
  const rows = side.tokens.map((t, i) => {
    const at = side.offsets?.[i];
    return `<tr><td>${i}</td><td>${escapeHtml(t)}</td><td>${at ? `${at[0]}–${at[1]}` : ''}</td><td class="n">${side.scores[i]!.toPrecision(6)}</td></tr>`;
  });
  return `<table><thead><tr><th>#</th><th>token</th><th>characters</th><th>score</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export async function renderAttributionHtml(v: AttributionPage): Promise<string> {
  const scale = symmetricScale([...v.a.scores, ...v.b.scores]);
  const sentence = (side: 'a' | 'b') => `
<section>
  <h2><span class="which">${side.toUpperCase()}</span> ${escapeHtml(v[side].text)}</h2>
  <div class="tokens">${tokens(v[side], scale)}</div>
  <details><summary>scores</summary>${table(v[side])}</details>
</section>`;
  const page = (fontFace: string) => `<!doctype html>
<html lang="zh">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`explain: ${v.a.text} / ${v.b.text}`)}</title>
<style>
  ${fontFace}
  body { font-family: ${fontFace ? `'${PAGE_FONT_FAMILY}', ` : ''}${PAGE_FONTS}; margin: 24px; color: #222; max-width: 1100px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  .method { color: #444; font-size: 14px; margin-bottom: 20px; }
  h2 { font-size: 16px; font-weight: normal; margin: 18px 0 8px; }
  .which { font-weight: 600; margin-right: 8px; }
  .tokens { display: flex; flex-wrap: wrap; gap: 6px; }
  .tok { display: inline-flex; flex-direction: column; align-items: center; }
  .t { font-size: 18px; padding: 4px 6px; border: 1px solid #bbb; min-width: 14px; text-align: center; white-space: pre; }
  .s { font-size: 11px; color: #555; margin-top: 2px; font-variant-numeric: tabular-nums; }
  details { margin-top: 8px; font-size: 13px; }
  table { border-collapse: collapse; margin-top: 6px; }
  td, th { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: left; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .legend { margin-top: 28px; display: flex; align-items: center; gap: 16px; font-size: 12px; color: #444; }
  .bar { width: 320px; height: 14px; border: 1px solid #999; background: ${divergingGradientCss()}; }
  .ticks { width: 322px; display: flex; justify-content: space-between; font-size: 12px; color: #444; }
</style>
</head>
<body>
<h1>similarity ${v.similarity.toFixed(4)}</h1>
<div class="method">${escapeHtml(methodLine(v))}</div>
${sentence('a')}
${sentence('b')}
<div class="legend"><div><div class="bar"></div><div class="ticks"><span>${escapeHtml(formatScore(-scale))}</span><span>0</span><span>${escapeHtml(formatScore(scale))}</span></div></div><div>${escapeHtml(legendCaption(v.method))}</div></div>
<script type="application/json" id="explanation-data">${scriptJson(v)}</script>
</body>
</html>
`;
  // The font is cut to the characters the page shows (its text without the font itself).
  return page(await embeddedFontFace(page('')));
}
