// The FLOP count behind "effective GFLOP/s", against hand computations and an independent per-matmul count.
import { describe, expect, it } from 'vitest';
import { BERT_BASE, batchesFlops, bertForwardFlops, type BertShape } from '../../bench/flops.js';

/** 2·m·n·k for every matmul of one forward, listed one by one (not the closed form under test). */
function perMatmul(c: BertShape, B: number, L: number): number {
  const { hiddenSize: H, intermediateSize: I, numAttentionHeads: h } = c;
  const d = H / h;
  const mm = (m: number, n: number, k: number) => 2 * m * n * k;
  const rows = B * L;
  const layer =
    mm(rows, H, H) * 3 + // query, key, value
    B * h * mm(L, L, d) + // scores Q·Kᵀ per head
    B * h * mm(L, d, L) + // probabilities · V per head
    mm(rows, H, H) + // attention.output.dense
    mm(rows, I, H) + // intermediate.dense
    mm(rows, H, I); // output.dense
  return c.numHiddenLayers * layer;
}

describe('bertForwardFlops', () => {
  it('matches a hand computation for a tiny shape', () => {
    // H 4, I 8, 2 heads (d 2), 1 layer, B 1, L 2:
    // projections 2·1·2·(4·16 + 2·4·8) = 4·128 = 512; attention 2·2·1·2·2²·2 = 64
    const tiny: BertShape = { hiddenSize: 4, intermediateSize: 8, numAttentionHeads: 2, numHiddenLayers: 1 };
    expect(bertForwardFlops(tiny, 1, 2)).toBe(576);
  });

  it('matches a hand computation for BERT-base, 1 × 128', () => {
    // per layer: 2·128·(4·768² + 2·768·3072) = 1 811 939 328; 4·12·128²·64 = 50 331 648; × 12 layers
    expect(bertForwardFlops(BERT_BASE, 1, 128)).toBe(12 * (1_811_939_328 + 50_331_648));
    expect(bertForwardFlops(BERT_BASE, 1, 128)).toBe(22_347_251_712);
  });

  it('equals the sum over every matmul for each grid shape', () => {
    for (const B of [1, 8, 32]) {
      for (const L of [16, 64, 128, 512]) expect(bertForwardFlops(BERT_BASE, B, L)).toBe(perMatmul(BERT_BASE, B, L));
    }
  });

  it('is linear in the batch and quadratic only in the attention term', () => {
    expect(bertForwardFlops(BERT_BASE, 32, 64)).toBe(32 * bertForwardFlops(BERT_BASE, 1, 64));
    const attention = (L: number) => 12 * 4 * 12 * L * L * 64;
    const linearPart = (L: number) => bertForwardFlops(BERT_BASE, 1, L) - attention(L);
    expect(linearPart(512)).toBe(4 * linearPart(128));
  });

  it('adds up padded batches', () => {
    expect(
      batchesFlops(BERT_BASE, [
        [32, 20],
        [32, 14],
        [3, 9],
      ]),
    ).toBe(
      bertForwardFlops(BERT_BASE, 32, 20) + bertForwardFlops(BERT_BASE, 32, 14) + bertForwardFlops(BERT_BASE, 3, 9),
    );
  });
});
