// The wasm backend's matmul kernels (`BatchMatMul`, which tf.matMul runs, and `_FusedMatMul` with its bias and
// ReLU epilogue), and our Linear kernel (bias and exact GELU in its epilogue), on a system BLAS: inputs are read
// and the output written where tfjs-wasm keeps them, on its heap, by cblas_sgemm on views of that memory (no
// copies). A batch of products (attention's heads) is one sgemm per matrix, or one in all when the right operand
// is shared. Whatever these kernels do not cover (other dtypes, broadcasts beyond a batch of 1, PReLU and the
// rarer activations) goes to tfjs-wasm's own kernel (wasm-kernels.ts), so results and errors stay tfjs's there.
import * as tf from '@tensorflow/tfjs-core';
import type { Cblas } from './cblas.js';
import { activeBlas, countBlasCall } from './state.js';
import { heapOffset, heapView, type KernelArgs, type WasmBackend } from './wasm-heap.js';
import { simdKernels } from './wasm-simd.js';

/** What may follow the product in place: tfjs's `linear` / `relu`, and BERT's exact GELU (our Linear kernel's). */
export type Epilogue = 'linear' | 'relu' | 'gelu';
const EPILOGUES: readonly Epilogue[] = ['linear', 'relu', 'gelu'];

// erf as Eigen and XLA approximate it in float32: x·P(x²)/Q(x²) on x clamped to [−4, 4] (beyond, erf is ±1 in
// float32). Evaluated in float64 it is within 6.5e-8 of erf everywhere, so GELU within |x|·3.3e-8 of exact.
export function erf(a: number): number {
  const x = a > 4 ? 4 : a < -4 ? -4 : a;
  const x2 = x * x;
  let p = -2.72614225801306e-10;
  p = p * x2 + 2.77068142495902e-8;
  p = p * x2 - 2.10102402082508e-6;
  p = p * x2 - 5.69250639462346e-5;
  p = p * x2 - 7.34990630326855e-4;
  p = p * x2 - 2.95459980854025e-3;
  p = p * x2 - 1.60960333262415e-2;
  let q = -1.45660718464996e-5;
  q = q * x2 - 2.13374055278905e-4;
  q = q * x2 - 1.68282697438203e-3;
  q = q * x2 - 7.37332916720468e-3;
  q = q * x2 - 1.42647390514189e-2;
  return (x * p) / q;
}

/** x ← max(x, 0); NaN stays NaN, as tfjs's relu keeps it. */
function reluInPlace(c: Float32Array): void {
  for (let i = 0; i < c.length; i++) if (c[i]! < 0) c[i] = 0;
}

/** x ← x·Φ(x) = 0.5·x·(1 + erf(x/√2)), torch's exact `gelu`, rounded to float32 once. */
export function geluInPlace(c: Float32Array): void {
  for (let i = 0; i < c.length; i++) {
    const x = c[i]!;
    c[i] = 0.5 * x * (1 + erf(x * Math.SQRT1_2));
  }
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * out = act(op(a) · op(b) + bias) on the BLAS, or undefined when this case is left to tfjs-wasm's kernel.
 * a: [...batch, m, k] (or [..., k, m] with transA); b: [...batch, k, n] (or [..., n, k]); bias: [n].
 */
function blasMatmul(
  lib: Cblas,
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transA: boolean,
  transB: boolean,
  bias?: tf.TensorInfo,
  activation: string = 'linear',
): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  if (!EPILOGUES.includes(activation as Epilogue)) return undefined;
  const [ra, rb] = [a.shape.length, b.shape.length];
  const m = a.shape[transA ? ra - 1 : ra - 2]!;
  const k = a.shape[transA ? ra - 2 : ra - 1]!;
  const n = b.shape[transB ? rb - 2 : rb - 1]!;
  if (k !== b.shape[transB ? rb - 1 : rb - 2]) return undefined; // tfjs's kernel throws its own shape error
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const [batchA, batchB] = [size(outerA), size(outerB)];
  // Equal batches, or one side's batch of 1 broadcast over the other's.
  if (!(sameShape(outerA, outerB) || batchA === 1 || batchB === 1)) return undefined;
  if (bias && (bias.dtype !== 'float32' || size(bias.shape) !== n || bias.shape.length !== 1)) return undefined;
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput([...tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB), m, n], 'float32');
  if (m * n * batch === 0) return out;

  const A = heapView(backend, a, batchA * m * k);
  const B = heapView(backend, b, batchB * k * n);
  const C = heapView(backend, out, batch * m * n);
  let beta = 0;
  if (bias) {
    C.set(heapView(backend, bias, n), 0);
    for (let r = 1; r < batch * m; r++) C.copyWithin(r * n, 0, n);
    beta = 1;
  } else if (k === 0) C.fill(0);
  if (k > 0) {
    const lda = transA ? m : k;
    const ldb = transB ? k : n;
    if (batchB === 1 && !transA) {
      // One product for the whole batch: the rows of every a are contiguous and all share b.
      lib.sgemm(false, transB, batchA * m, n, k, 1, A, lda, B, ldb, beta, C, n);
    } else {
      for (let i = 0; i < batch; i++) {
        const Ai = A.subarray(batchA === 1 ? 0 : i * m * k);
        const Bi = B.subarray(batchB === 1 ? 0 : i * k * n);
        lib.sgemm(transA, transB, m, n, k, 1, Ai, lda, Bi, ldb, beta, C.subarray(i * m * n), n);
      }
    }
  }
  if (activation === 'relu') reluInPlace(C);
  else if (activation === 'gelu') {
    const simd = simdKernels(backend);
    const n4 = simd ? C.length >>> 2 : 0;
    simd?.gelu(heapOffset(backend, out), n4);
    geluInPlace(C.subarray(n4 * 4)); // what SIMD left: the last < 4 floats, or all without it
  }
  countBlasCall();
  return out;
}

/** `BatchMatMul` / `_FusedMatMul` on `lib`, or undefined for tfjs-wasm's own kernel to take it. */
export function blasMatmulKernel(
  name: 'BatchMatMul' | '_FusedMatMul',
  lib: Cblas,
  args: KernelArgs,
): tf.TensorInfo | undefined {
  const { inputs, backend, attrs = {} } = args;
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
  if (!a || !b || preluActivationWeights) return undefined;
  const fused = name === '_FusedMatMul';
  const act = fused ? String(attrs.activation ?? 'linear') : 'linear';
  return blasMatmul(
    lib,
    backend as WasmBackend,
    a,
    b,
    attrs.transposeA === true,
    attrs.transposeB === true,
    fused ? bias : undefined,
    act,
  );
}

export const BLAS_LINEAR_KERNEL = 'SbertBlasLinear';

/**
 * Whether Linear runs as one BLAS kernel with its activation in the epilogue: the wasm backend is active with
 * a BLAS under it, and no gradient is being recorded (the kernel has none; tf.grad gets tfjs's ops instead).
 */
export function blasLinearApplies(): boolean {
  return activeBlas() !== undefined && tf.getBackend() === 'wasm' && tf.engine().state.gradientDepth === 0;
}

let linearRegistered = false;

/** x [rows, in] · w [in, out] + b [out], then `activation`, as one kernel on the BLAS (see blasLinearApplies). */
export function blasLinear(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: Epilogue = 'linear',
): tf.Tensor2D {
  if (!linearRegistered) {
    linearRegistered = true;
    tf.registerKernel({
      kernelName: BLAS_LINEAR_KERNEL,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, w, b } = inputs as Record<'x' | 'w' | 'b', tf.TensorInfo>;
        const lib = activeBlas();
        const out = lib && blasMatmul(lib, backend as WasmBackend, x, w, false, false, b, String(attrs?.activation));
        if (!out)
          throw new Error(
            `${BLAS_LINEAR_KERNEL}: no BLAS, or inputs it does not take (${x.dtype} ${x.shape} · ${w.dtype} ${w.shape})`,
          );
        return out;
      },
    });
  }
  return tf.engine().runKernel(BLAS_LINEAR_KERNEL, { x, w, b }, { activation }) as tf.Tensor2D;
}
