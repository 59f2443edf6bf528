// Attention probabilities of one sentence, and the choice of which maps a picture shows.
import { UsageError } from '../errors.js';

export interface AttentionMaps {
  /** The sentence's tokens, padding excluded: [CLS] ... [SEP]. */
  tokens: string[];
  /** Per layer, row-major [heads, L, L]: row = query (attending) token, column = key (attended) token. */
  layers: Float32Array[];
  heads: number;
}

export interface Panel {
  title: string;
  /** Row-major [L, L]. */
  values: Float32Array;
}

export function checkMaps(m: AttentionMaps): void {
  const L = m.tokens.length;
  if (L === 0) throw new RangeError('no tokens');
  for (const [i, layer] of m.layers.entries()) {
    if (layer.length !== m.heads * L * L)
      throw new RangeError(`layer ${i} holds ${layer.length} values, expected ${m.heads}×${L}×${L}`);
  }
}

/** One head's [L, L] map. */
export function headMap(m: AttentionMaps, layer: number, head: number): Float32Array {
  const L = m.tokens.length;
  return m.layers[layer]!.subarray(head * L * L, (head + 1) * L * L);
}

/** The mean over heads of one layer: where the layer as a whole moves information. */
export function meanMap(m: AttentionMaps, layer: number): Float32Array {
  const L = m.tokens.length;
  const out = new Float32Array(L * L);
  for (let h = 0; h < m.heads; h++) {
    const src = headMap(m, layer, h);
    for (let i = 0; i < out.length; i++) out[i]! += src[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= m.heads;
  return out;
}

/**
 * The option you give fixes that axis and the missing one is laid out as a grid:
 *   --layer L --head H  one head, large
 *   --layer L           every head of layer L
 *   --head H            head H in every layer
 *   (neither)           every layer, each the mean over its heads
 */
export function selectPanels(m: AttentionMaps, opts: { layer?: number; head?: number }): Panel[] {
  const { layer, head } = opts;
  const nLayers = m.layers.length;
  if (layer !== undefined && !(Number.isInteger(layer) && layer >= 0 && layer < nLayers)) {
    throw new UsageError(`--layer must be an integer in 0..${nLayers - 1}, got ${layer}`);
  }
  if (head !== undefined && !(Number.isInteger(head) && head >= 0 && head < m.heads)) {
    throw new UsageError(`--head must be an integer in 0..${m.heads - 1}, got ${head}`);
  }
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  if (layer !== undefined && head !== undefined)
    return [{ title: `layer ${layer}, head ${head}`, values: headMap(m, layer, head) }];
  if (layer !== undefined)
    return range(m.heads).map((h) => ({ title: `layer ${layer}, head ${h}`, values: headMap(m, layer, h) }));
  if (head !== undefined)
    return range(nLayers).map((l) => ({ title: `layer ${l}, head ${head}`, values: headMap(m, l, head) }));
  return range(nLayers).map((l) => ({ title: `layer ${l}, mean of ${m.heads} heads`, values: meanMap(m, l) }));
}
