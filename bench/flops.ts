// Floating-point operations of one BERT encoder forward, to turn a time into an effective GFLOP/s.
// Counted as 2 FLOPs per multiply-add of the matmuls only (the convention of GEMM benchmarks);
// LayerNorm, softmax, GELU and the embedding lookup are left out: they are O(B·L·H) against the
// matmuls' O(B·L·H²), so "effective" GFLOP/s shows how close the whole forward gets to matmul speed.
import { BLAS_LINEAR_KERNEL } from '../src/backend/blas/wasm-matmul.js';
import { TILED_LINEAR_KERNEL } from '../src/backend/webgpu/linear.js';

export interface BertShape {
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
}

/**
 * FLOPs of one forward over a [batch, seqLen] batch (padded positions count: they are computed).
 * Per layer: Q, K, V and attention-output projections 4·(2·B·L·H·H), FFN 2·(2·B·L·H·I),
 * attention scores Q·Kᵀ and probabilities·V 2·(2·B·h·L·L·d) with d = H / h.
 */
export function bertForwardFlops(c: BertShape, batch: number, seqLen: number): number {
  const { hiddenSize: H, intermediateSize: I, numAttentionHeads: h } = c;
  const d = H / h;
  const projections = 2 * batch * seqLen * (4 * H * H + 2 * H * I);
  const attention = 2 * 2 * batch * h * seqLen * seqLen * d;
  return c.numHiddenLayers * (projections + attention);
}

/** FLOPs of a list of padded batches, each [rows, longest length in that batch]. */
export function batchesFlops(c: BertShape, batches: readonly (readonly [number, number])[]): number {
  return batches.reduce((sum, [b, l]) => sum + bertForwardFlops(c, b, l), 0);
}

export const BERT_BASE: BertShape = {
  hiddenSize: 768,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  intermediateSize: 3072,
};

/** The kernels that multiply matrices: tfjs's, and ours (the tiled Linear on webgpu). */
export const MATMUL_KERNELS = new Set(['_FusedMatMul', 'BatchMatMul', TILED_LINEAR_KERNEL, BLAS_LINEAR_KERNEL]);
