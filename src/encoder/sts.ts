// Semantic textual similarity evaluation, as sentence-transformers' EmbeddingSimilarityEvaluator computes it:
// per sentence pair a similarity (cosine, −manhattan, −euclidean distance, dot product), then its Pearson and
// Spearman correlation (scipy.stats.pearsonr / spearmanr: ties get their average rank) with the gold scores.
import { cosine } from './similarity.js';

/** Pearson correlation; NaN when either side is constant (as scipy). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`${n} values against ${y.length}`);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r)); // NaN stays NaN
}

/** 1-based ranks, ties sharing their average rank. */
export function ranks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const r = new Float64Array(x.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]!] === x[order[i]!]) j++;
    for (let k = i; k <= j; k++) r[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(ranks(x), ranks(y));
}

export const STS_SIMILARITIES = ['cosine', 'manhattan', 'euclidean', 'dot'] as const;
export type StsSimilarity = (typeof STS_SIMILARITIES)[number];
export type StsResult = { pairs: number } & Record<StsSimilarity, { pearson: number; spearman: number }>;

function pairScore(kind: StsSimilarity, a: Float32Array, b: Float32Array): number {
  if (kind === 'cosine') return cosine(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += kind === 'manhattan' ? Math.abs(d) : kind === 'euclidean' ? d * d : a[i]! * b[i]!;
  }
  return kind === 'manhattan' ? -s : kind === 'euclidean' ? -Math.sqrt(s) : s;
}

/** The correlations of each similarity of embedding pairs (a[i], b[i]) with `gold[i]`. */
export function stsMetrics(a: readonly Float32Array[], b: readonly Float32Array[], gold: readonly number[]): StsResult {
  if (a.length !== b.length || a.length !== gold.length)
    throw new RangeError(`${a.length} / ${b.length} embeddings for ${gold.length} scores`);
  const out = { pairs: gold.length } as StsResult;
  for (const kind of STS_SIMILARITIES) {
    const scores = a.map((v, i) => pairScore(kind, v, b[i]!));
    out[kind] = { pearson: pearson(scores, gold), spearman: spearman(scores, gold) };
  }
  return out;
}
