import { describe, expect, it } from 'vitest';
import { renderHeadViewHtml } from '../../src/viz/headview.js';
import { embeddedData, referenceMaps } from './helpers.js';

describe('HTML head view', () => {
  const maps = referenceMaps(11); // Hello World! 你好，世界。

  it("embeds the tokens and every layer and head's attention, to 1e-4", () => {
    const html = renderHeadViewHtml(maps, { title: 'Hello World! 你好，世界。' });
    const data = embeddedData(html);
    expect(data.tokens).toEqual(maps.tokens);
    expect(data.tokens).toContain('你');
    const n = maps.tokens.length;
    expect(data.attention).toHaveLength(2);
    let worst = 0;
    for (let l = 0; l < 2; l++) {
      expect(data.attention[l]).toHaveLength(4);
      for (let h = 0; h < 4; h++) {
        for (let q = 0; q < n; q++) {
          for (let k = 0; k < n; k++)
            worst = Math.max(worst, Math.abs(data.attention[l]![h]![q]![k]! - maps.layers[l]![(h * n + q) * n + k]!));
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(5e-5);
    expect(data).toMatchObject({ initialLayer: 0, initialHead: null });
    expect(html).toContain('<title>attention: Hello World! 你好，世界。</title>');
  });

  it('is self-contained: no URL, no external script, style or font', () => {
    const html = renderHeadViewHtml(maps);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link\b|<script[^>]+\bsrc=|@import|url\(/i);
    expect(html).toMatch(/^<!doctype html>/);
  });

  it('escapes tokens and titles that look like markup', () => {
    const evil = { ...maps, tokens: maps.tokens.map((t, i) => (i === 1 ? '</script><b>' : t)) };
    const html = renderHeadViewHtml(evil, { title: '<img onerror=x>' });
    expect(html).not.toContain('</script><b>');
    expect(html).not.toContain('<img onerror=x>');
    expect(embeddedData(html).tokens[1]).toBe('</script><b>');
  });
});
