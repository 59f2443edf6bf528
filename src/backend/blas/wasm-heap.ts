// Tensors of tfjs-backend-wasm seen as Float32Arrays on its heap. Views must be taken after every allocation
// of the kernel (an output's malloc may grow the wasm memory, which replaces its ArrayBuffer) and never kept.
import type * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's BackendWasm our kernels use (backend_wasm.d.ts). */
export interface WasmBackend {
  /** `asm.memory`: the WebAssembly.Memory under HEAPF32 (Emscripten's module exports). */
  wasm: { HEAPF32: Float32Array; asm?: { memory?: unknown } };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** Frees a tensor's memory (`force`: whatever its reference count); for a kernel's scratch. */
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** The first `length` floats of tensor `t` on the heap, as it is now. */
export function heapView(backend: WasmBackend, t: tf.TensorInfo, length: number): Float32Array {
  return new Float32Array(backend.wasm.HEAPF32.buffer, heapOffset(backend, t), length);
}

/** Tensor `t`'s byte offset on the heap (what wasm code takes as its pointer). */
export function heapOffset(backend: WasmBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('tensor not on the wasm backend');
  return data.memoryOffset;
}

/** What tfjs passes a kernel function. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}
