// Element-wise comparison of one reference tensor with ours, over the positions that carry meaning:
// padded tokens hold whatever PyTorch happened to compute there, so they are never compared.

/** How a tensor's axes map onto the batch: which positions the attention mask selects. */
export type Layout =
  | 'tokens' // [B, L, D]: hidden states, query, attention_output, intermediate; row b, token l kept when mask[b, l]
  | 'attention' // [B, heads, L, L]: kept when both the query and the key position are real tokens
  | 'rows'; // [B, D]: pooled vectors; every element

export interface Diff {
  /** Largest |ref - ours| over the compared elements; Infinity when either side has a NaN there. */
  maxAbs: number;
  meanAbs: number;
  /** Number of elements compared. */
  count: number;
  /** Multi-index of the worst element (same axes as the tensor), or null when nothing was compared. */
  worst: number[] | null;
  /** The two values at `worst`. */
  refValue: number;
  ourValue: number;
}

/**
 * Compare `ref` and `ours` (both row-major with `shape`) on unpadded positions. `mask` is the batch's
 * attention mask, row-major [B, L]; for 'rows' it may be null.
 */
export function compareTensors(
  ref: Float32Array,
  ours: Float32Array,
  shape: readonly number[],
  layout: Layout,
  mask: ArrayLike<number> | null,
  maskLength = 0,
): Diff {
  const numel = shape.reduce((a, b) => a * b, 1);
  if (ref.length !== numel || ours.length !== numel) {
    throw new RangeError(
      `shape [${shape}] needs ${numel} elements, got ${ref.length} (reference) and ${ours.length} (ours)`,
    );
  }
  const rank = layout === 'rows' ? 2 : layout === 'tokens' ? 3 : 4;
  if (shape.length !== rank) throw new RangeError(`a '${layout}' tensor has rank ${rank}, got shape [${shape}]`);
  if (layout !== 'rows') {
    if (!mask) throw new RangeError(`a '${layout}' tensor needs the attention mask`);
    const L = layout === 'tokens' ? shape[1]! : shape[3]!;
    if (maskLength !== L || mask.length !== shape[0]! * L) {
      throw new RangeError(`mask [${mask.length / (maskLength || 1)}, ${maskLength}] does not fit shape [${shape}]`);
    }
  }

  let maxAbs = -1;
  let sum = 0;
  let count = 0;
  let worstFlat = -1;
  const visit = (i: number): void => {
    const a = ref[i]!;
    const b = ours[i]!;
    let d = Math.abs(a - b);
    if (Number.isNaN(d)) d = Infinity; // a NaN on either side is the worst possible disagreement
    if (d > maxAbs) {
      maxAbs = d;
      worstFlat = i;
    }
    sum += d;
    count++;
  };

  if (layout === 'rows') {
    for (let i = 0; i < numel; i++) visit(i);
  } else if (layout === 'tokens') {
    const [B, L, D] = shape as [number, number, number];
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        if (!mask![b * L + l]) continue;
        const base = (b * L + l) * D;
        for (let d = 0; d < D; d++) visit(base + d);
      }
    }
  } else {
    const [B, H, L] = shape as [number, number, number, number];
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let q = 0; q < L; q++) {
          if (!mask![b * L + q]) continue;
          const base = ((b * H + h) * L + q) * L;
          for (let k = 0; k < L; k++) if (mask![b * L + k]) visit(base + k);
        }
      }
    }
  }

  if (count === 0) return { maxAbs: 0, meanAbs: 0, count: 0, worst: null, refValue: NaN, ourValue: NaN };
  return {
    maxAbs,
    meanAbs: sum / count,
    count,
    worst: unravel(worstFlat, shape),
    refValue: ref[worstFlat]!,
    ourValue: ours[worstFlat]!,
  };
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = flat % shape[a]!;
    flat = Math.floor(flat / shape[a]!);
  }
  return idx;
}

/**
 * A readable multi-index: `[sentence 3, token 7 (开), dim 12]`, `[sentence 0, head 2, query 1 (那), key 4 (心)]`.
 * `tokenOf(b, l)` names the token at a position when a tokenizer is at hand.
 */
export function describeIndex(
  idx: readonly number[] | null,
  layout: Layout,
  tokenOf?: (b: number, l: number) => string | undefined,
): string {
  if (!idx) return '-';
  const tok = (b: number, l: number): string => {
    const t = tokenOf?.(b, l);
    return t === undefined ? '' : ` (${t})`;
  };
  switch (layout) {
    case 'rows':
      return `[sentence ${idx[0]}, dim ${idx[1]}]`;
    case 'tokens':
      return `[sentence ${idx[0]}, token ${idx[1]}${tok(idx[0]!, idx[1]!)}, dim ${idx[2]}]`;
    case 'attention':
      return `[sentence ${idx[0]}, head ${idx[1]}, query ${idx[2]}${tok(idx[0]!, idx[2]!)}, key ${idx[3]}${tok(idx[0]!, idx[3]!)}]`;
  }
}
