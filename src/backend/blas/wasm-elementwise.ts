// LayerNorm(x + residual) over the last axis, and the exact GELU, as one kernel each on the wasm heap, for the
// wasm backend while its matmuls run on a BLAS: there, tfjs's composites (LayerNorm: add, mean, sub, square,
// mean, add, rsqrt, mul, mul, add; GELU: mul, erf, add, mul, mul) cost a sizeable share of what is left of a
// forward. SIMD wasm (kernels.wat) where it can import tfjs's memory, else the JavaScript loops below. The sum
// is rounded to float32 before the norm (torch adds the residual as its own tensor), and can be kept as a
// second output, so a hook that reads it costs no extra kernel.
import * as tf from '@tensorflow/tfjs-core';
import { activeBlas } from './state.js';
import { heapOffset, heapView, type WasmBackend } from './wasm-heap.js';
import { geluInPlace } from './wasm-matmul.js';
import { simdKernels } from './wasm-simd.js';

export const WASM_LAYER_NORM_KERNEL = 'SbertWasmLayerNorm';
export const WASM_GELU_KERNEL = 'SbertWasmGelu';

/** Same condition as the BLAS Linear: wasm with a BLAS, and no gradient being recorded (these have none). */
export function wasmElementwiseApplies(): boolean {
  return activeBlas() !== undefined && tf.getBackend() === 'wasm' && tf.engine().state.gradientDepth === 0;
}

/**
 * out[r] = LayerNorm(x[r] + residual[r]) for every row r (length weight.length), in float64 before the final
 * rounding; the rounded sum goes to `sum` too when given. `out` and `sum` may not alias the inputs.
 */
export function layerNormRows(
  x: Float32Array,
  residual: Float32Array | undefined,
  weight: Float32Array,
  bias: Float32Array,
  eps: number,
  out: Float32Array,
  sum?: Float32Array,
): void {
  const h = weight.length;
  for (let start = 0; start < out.length; start += h) {
    let total = 0;
    for (let i = 0; i < h; i++) {
      const v = residual ? Math.fround(x[start + i]! + residual[start + i]!) : x[start + i]!;
      out[start + i] = v;
      total += v;
    }
    if (sum) sum.set(out.subarray(start, start + h), start);
    const mean = total / h;
    let sq = 0;
    for (let i = 0; i < h; i++) {
      const c = out[start + i]! - mean;
      sq += c * c;
    }
    const rstd = 1 / Math.sqrt(sq / h + eps);
    for (let i = 0; i < h; i++) out[start + i] = (out[start + i]! - mean) * rstd * weight[i]! + bias[i]!;
  }
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: WASM_LAYER_NORM_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as WasmBackend;
      const { x, residual, weight, bias } = inputs as Record<string, tf.TensorInfo | undefined>;
      const keepSum = attrs?.keepSum === true;
      const out = be.makeOutput([...x!.shape], 'float32');
      const sum = keepSum ? be.makeOutput([...x!.shape], 'float32') : undefined;
      const n = x!.shape.reduce((a, b) => a * b, 1);
      const h = weight!.shape[0]!;
      const eps = Number(attrs?.eps);
      const simd = h % 4 === 0 ? simdKernels(be) : undefined;
      if (simd) {
        const at = (t: tf.TensorInfo | undefined) => (t ? heapOffset(be, t) : 0);
        simd.layer_norm(at(x), at(residual), at(weight), at(bias), at(out), at(sum), n / h, h / 4, eps);
      } else {
        // Views after both allocations, either of which may have replaced the heap's buffer.
        const view = (t: tf.TensorInfo, len: number) => heapView(be, t, len);
        layerNormRows(
          view(x!, n),
          residual && view(residual, n),
          view(weight!, h),
          view(bias!, h),
          eps,
          view(out, n),
          sum && view(sum, n),
        );
      }
      return sum ? [sum, out] : out;
    },
  });
  tf.registerKernel({
    kernelName: WASM_GELU_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const be = backend as WasmBackend;
      const { x } = inputs as { x: tf.TensorInfo };
      const out = be.makeOutput([...x.shape], 'float32');
      const n = x.shape.reduce((a, b) => a * b, 1);
      const y = heapView(be, out, n);
      y.set(heapView(be, x, n));
      const simd = simdKernels(be);
      const n4 = simd ? n >>> 2 : 0;
      simd?.gelu(heapOffset(be, out), n4);
      geluInPlace(y.subarray(n4 * 4));
      return out;
    },
  });
}

function checkShapes(x: tf.Tensor, residual: tf.Tensor | undefined, weight: tf.Tensor1D): void {
  if (
    x.dtype !== 'float32' ||
    x.shape[x.rank - 1] !== weight.shape[0] ||
    (residual && !residual.shape.every((d, i) => d === x.shape[i]))
  ) {
    throw new Error(
      `${WASM_LAYER_NORM_KERNEL}: x ${x.dtype} [${x.shape}], residual [${residual?.shape ?? ''}], weight [${weight.shape}]`,
    );
  }
}

/** LayerNorm(x [..., H] (+ residual, same shape)) with weight, bias [H]: one kernel (see wasmElementwiseApplies). */
export function wasmLayerNorm<R extends tf.Rank>(
  x: tf.Tensor<R>,
  residual: tf.Tensor<R> | undefined,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
): tf.Tensor<R> {
  register();
  checkShapes(x, residual, weight);
  const inputs: tf.NamedTensorMap = residual ? { x, residual, weight, bias } : { x, weight, bias };
  return tf.engine().runKernel(WASM_LAYER_NORM_KERNEL, inputs, { eps, keepSum: false }) as tf.Tensor<R>;
}

/** [x + residual, LayerNorm(x + residual)] from one kernel: the sum for a hook that wants it. */
export function wasmLayerNormKeepingSum<R extends tf.Rank>(
  x: tf.Tensor<R>,
  residual: tf.Tensor<R>,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
): [tf.Tensor<R>, tf.Tensor<R>] {
  register();
  checkShapes(x, residual, weight);
  return tf
    .engine()
    .runKernel(WASM_LAYER_NORM_KERNEL, { x, residual, weight, bias }, { eps, keepSum: true }) as unknown as [
    tf.Tensor<R>,
    tf.Tensor<R>,
  ];
}

/** torch's exact GELU of a float32 tensor, one kernel (see wasmElementwiseApplies); the same as Linear's epilogue. */
export function wasmGelu<T extends tf.Tensor>(x: T): T {
  register();
  if (x.dtype !== 'float32') throw new Error(`${WASM_GELU_KERNEL}: x is ${x.dtype}, not float32`);
  return tf.engine().runKernel(WASM_GELU_KERNEL, { x }) as T;
}
