import { readFileSync, writeFileSync } from 'node:fs';
import { it } from 'vitest';
import { loadReference } from '../../src/compare/reference.js';
import { renderHeatmapPng } from '../../src/viz/heatmap.js';
import { selectPanels } from '../../src/viz/maps.js';
it('dev', () => {
  const vocab = readFileSync('/work/shared/fixtures/vocab.txt', 'utf8').split('\n');
  const ref = loadReference('/work/shared/fixtures/tiny/refs.safetensors');
  const g = ref.groups[0]!;
  for (const b of [0, 11, 13]) {
  const L = g.inputs.length; const n = [...g.inputs.attentionMask.subarray(b*L,(b+1)*L)].reduce((a,c)=>a+c,0);
  const tokens = [...g.inputs.inputIds.subarray(b*L, b*L+n)].map((i) => vocab[i]!);
  const layers = [0,1].map((l) => { const t = g.tensors.find((x) => x.key === `attentions.${l}`)!; const H=4; const out = new Float32Array(H*n*n);
    for (let h=0;h<H;h++) for (let q=0;q<n;q++) for (let k=0;k<n;k++) out[(h*n+q)*n+k] = t.data[((b*H+h)*L+q)*L+k]!; return out; });
  const m = { tokens, layers, heads: 4 };
  writeFileSync(`/tmp/vizdev/single${b}.png`, renderHeatmapPng(tokens, selectPanels(m, { layer: 1, head: 2 }), 'tiny'));
  writeFileSync(`/tmp/vizdev/grid${b}.png`, renderHeatmapPng(tokens, selectPanels(m, { layer: 0 }), 'tiny'));
  writeFileSync(`/tmp/vizdev/mean${b}.png`, renderHeatmapPng(tokens, selectPanels(m, {}), 'tiny'));
  }
});
