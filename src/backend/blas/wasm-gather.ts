// GatherV2 along axis 0 (the embedding lookups) as row copies on the wasm heap: tfjs-wasm's own Gather kernel
// costs ≈ 30 ns a float (10 ms for 448 rows of BERT-base's word or token-type table, more than the rest of
// the embeddings together), a memmove of each row costs next to nothing. Other axes, batch dimensions and
// out-of-range indices go to tfjs's kernel (which throws its own error for the latter).
import type * as tf from '@tensorflow/tfjs-core';
import { heapOffset, type KernelArgs, type WasmBackend } from './wasm-heap.js';

export function gatherRowsKernel(args: KernelArgs): tf.TensorInfo | undefined {
  const { inputs, backend, attrs = {} } = args;
  const { x, indices } = inputs as Record<'x' | 'indices', tf.TensorInfo>;
  const rank = x.shape.length;
  const axis = Number(attrs.axis ?? 0);
  if (!(axis === 0 || axis === -rank) || Number(attrs.batchDims ?? 0) !== 0 || rank < 1) return undefined;
  if (!(x.dtype === 'float32' || x.dtype === 'int32') || indices.dtype !== 'int32') return undefined;
  const be = backend as WasmBackend;
  const rows = x.shape[0]!;
  const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const count = indices.shape.reduce((a, b) => a * b, 1);
  let heap = be.wasm.HEAPF32;
  const idx = new Int32Array(heap.buffer, heapOffset(be, indices), count).slice();
  for (let i = 0; i < count; i++) if (!(idx[i]! >= 0 && idx[i]! < rows)) return undefined;
  const out = be.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  heap = be.wasm.HEAPF32; // the output's allocation may have grown the memory
  const src = heapOffset(be, x) / 4;
  const dst = heapOffset(be, out) / 4;
  for (let i = 0; i < count; i++) heap.copyWithin(dst + i * row, src + idx[i]! * row, src + (idx[i]! + 1) * row);
  return out;
}
