// Comparing embeddings, as sentence-transformers' util module does: cosine similarity of two vectors
// (torch's cosine_similarity), the cos_sim matrix, and semantic_search (top k corpus entries per query).
// Plain float32 loops on the CPU: these are dot products over a few hundred dimensions.

/** torch.nn.functional.cosine_similarity of two vectors (each norm clamped to eps = 1e-8). */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`vectors of different lengths: ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / (Math.max(Math.sqrt(na), 1e-8) * Math.max(Math.sqrt(nb), 1e-8));
}

/** Unit-length copies (torch.nn.functional.normalize: each norm clamped to eps = 1e-12). */
function normalized(vs: readonly Float32Array[], dim: number): Float32Array[] {
  return vs.map((v, i) => {
    if (v.length !== dim) throw new RangeError(`vector ${i} has ${v.length} dimensions, expected ${dim}`);
    let n = 0;
    for (let j = 0; j < dim; j++) n += v[j]! * v[j]!;
    const s = 1 / Math.max(Math.sqrt(n), 1e-12);
    return v.map((x) => x * s);
  });
}

/** util.cos_sim(a, b): row i holds the cosine similarity of a[i] to every b[j]. */
export function cosSim(a: readonly Float32Array[], b: readonly Float32Array[]): Float32Array[] {
  if (!a.length || !b.length) return a.map(() => new Float32Array(0));
  const dim = a[0]!.length;
  const [na, nb] = [normalized(a, dim), normalized(b, dim)];
  return na.map((x) => {
    const row = new Float32Array(nb.length);
    nb.forEach((y, j) => {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += x[k]! * y[k]!;
      row[j] = dot;
    });
    return row;
  });
}

export interface SearchHit {
  /** Index into the corpus. */
  corpusId: number;
  score: number;
}

/**
 * util.semantic_search: for each query, the `topK` (default 10) corpus entries most similar by cosine,
 * best first (equal scores: lower corpus index first).
 */
export function semanticSearch(
  queries: readonly Float32Array[],
  corpus: readonly Float32Array[],
  opts: { topK?: number } = {},
): SearchHit[][] {
  const topK = opts.topK ?? 10;
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`topK must be a positive integer, got ${topK}`);
  return cosSim(queries, corpus).map((row) =>
    [...row]
      .map((score, corpusId) => ({ corpusId, score }))
      .sort((x, y) => y.score - x.score || x.corpusId - y.corpusId)
      .slice(0, topK),
  );
}
