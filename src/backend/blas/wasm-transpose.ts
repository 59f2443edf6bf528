// Transpose when it only swaps the two axes before the last one (attention's [B, L, h, d] ⇄ [B, h, L, d] head
// split and merge, four a layer): each row of d floats is one contiguous copy, done by a SIMD wasm loop of ours
// on the heap. tfjs-wasm's kernel walks element by element, ≈ 1.5 ns a float, which made it the largest kernel
// left outside the matmuls once those ran on a BLAS (docs/blas.md). Every other permutation, dtype or row
// length (not a multiple of 4 floats) goes to tfjs's kernel.
import type * as tf from '@tensorflow/tfjs-core';
import { heapOffset, type KernelArgs, type WasmBackend } from './wasm-heap.js';
import { simdKernels } from './wasm-simd.js';

export function swapMiddleAxesKernel(args: KernelArgs): tf.TensorInfo | undefined {
  const { inputs, backend, attrs = {} } = args;
  const { x } = inputs as Record<'x', tf.TensorInfo>;
  const perm = (attrs.perm as number[] | undefined) ?? [];
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank < 3 || perm.length !== rank) return undefined;
  // perm = [0, 1, …, r−4, r−2, r−3, r−1]: the leading axes in place, the two before the last swapped.
  for (let i = 0; i < rank; i++) {
    const want = i === rank - 3 ? rank - 2 : i === rank - 2 ? rank - 3 : i;
    if (perm[i] !== want) return undefined;
  }
  const d = x.shape[rank - 1]!;
  if (d % 4 !== 0) return undefined;
  const be = backend as WasmBackend;
  const simd = simdKernels(be);
  if (!simd) return undefined;
  const n0 = x.shape.slice(0, rank - 3).reduce((a, b) => a * b, 1);
  const [n1, n2] = [x.shape[rank - 3]!, x.shape[rank - 2]!];
  const out = be.makeOutput(
    perm.map((p) => x.shape[p]!),
    'float32',
  );
  if (n0 * n1 * n2 * d > 0) simd.swap_middle_axes(heapOffset(be, x), heapOffset(be, out), n0, n1, n2, d / 4);
  return out;
}
