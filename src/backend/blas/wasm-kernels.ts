// Our kernels in place of some of tfjs-backend-wasm's while a BLAS is in use: the matmuls (on the BLAS), the
// embedding gather and the attention heads' transposes. tfjs's own kernel of each name is kept aside and takes
// every case ours does not cover, and all of them again once the BLAS is switched off (SBERT_BLAS=off, or a
// later setup that found none).
import * as tf from '@tensorflow/tfjs-core';
import type { Cblas } from './cblas.js';
import { activeBlas, setActiveBlas } from './state.js';
import { gatherRowsKernel } from './wasm-gather.js';
import type { KernelArgs } from './wasm-heap.js';
import { blasMatmulKernel } from './wasm-matmul.js';
import { swapMiddleAxesKernel } from './wasm-transpose.js';

const OURS: Record<string, (lib: Cblas, args: KernelArgs) => tf.TensorInfo | undefined> = {
  BatchMatMul: (lib, args) => blasMatmulKernel('BatchMatMul', lib, args),
  _FusedMatMul: (lib, args) => blasMatmulKernel('_FusedMatMul', lib, args),
  GatherV2: (_, args) => gatherRowsKernel(args),
  Transpose: (_, args) => swapMiddleAxesKernel(args),
};

const originals = new Map<string, tf.KernelConfig>();

/**
 * Routes the kernels above to `lib` (undefined: back to tfjs-wasm's own). Call after
 * `@tensorflow/tfjs-backend-wasm` has registered its kernels; calling it again switches or restores.
 */
export function useBlasForWasm(lib: Cblas | undefined): void {
  setActiveBlas(lib);
  if (!lib || originals.size > 0) return;
  for (const [name, ours] of Object.entries(OURS)) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) throw new Error(`tfjs-backend-wasm has no ${name} kernel to replace`);
    originals.set(name, original);
    tf.unregisterKernel(name, 'wasm');
    // Its setupFunc stays: a wasm backend created later still binds tfjs's kernel, which ours falls back to.
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const now = activeBlas();
        return (now && ours(now, args as KernelArgs)) ?? (original.kernelFunc(args) as tf.TensorInfo);
      },
    });
  }
}
