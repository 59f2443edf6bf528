// Splitting a batch into length-homogeneous chunks: a padded forward computes every padded position,
// so a batch of 32 sorted sentences whose lengths run from 16 to 29 wastes a third of its matmul work.
// Results do not depend on how rows are grouped (each row is computed independently of the others;
// the batch-invariance tests hold this to 1e-5), so callers may split freely.

export interface ChunkCost {
  /** Fixed cost of one more forward, in token-equivalents (kernel launches): ~4 on tfjs-wasm for BERT-base. */
  overheadTokens?: number;
  /** Smallest chunk worth its matmuls, in padded tokens (XNNPACK slows below ~16-32 rows). */
  minTokens?: number;
}

/**
 * Contiguous [start, end) ranges over `lengths` (best sorted, longest first, as sentence-transformers
 * sorts) minimising Σ rows·longest + overhead per chunk: an exact dynamic programme, O(n²).
 */
export function splitByLength(lengths: readonly number[], cost: ChunkCost = {}): [number, number][] {
  const n = lengths.length;
  if (n === 0) return [];
  const overhead = cost.overheadTokens ?? 4;
  const minTokens = cost.minTokens ?? 48;
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  best[0] = 0;
  for (let end = 1; end <= n; end++) {
    let longest = 0;
    for (let start = end - 1; start >= 0; start--) {
      longest = Math.max(longest, lengths[start]!);
      const padded = (end - start) * longest;
      if (padded < minTokens && !(start === 0 && end === n)) continue;
      const c = best[start]! + padded + overhead;
      if (c < best[end]!) {
        best[end] = c;
        from[end] = start;
      }
    }
    if (best[end] === Infinity) {
      best[end] = best[end - 1]! + lengths[end - 1]! + overhead; // only reachable for tiny inputs
      from[end] = end - 1;
    }
  }
  const out: [number, number][] = [];
  for (let end = n; end > 0; end = from[end]!) out.unshift([from[end]!, end]);
  return out;
}
