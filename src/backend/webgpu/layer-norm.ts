// LayerNorm(x + residual) over the last axis as one WGSL program for the webgpu backend. tfjs composes it
// from nine kernels (mean, sub, square, mean, add, rsqrt, mul, mul, add) plus the residual add: 2 × 10 of
// the ≈ 58 kernels a BERT layer dispatches, each a pass over [tokens, hidden] and a dispatch's host cost.
// Here one 256-thread workgroup normalises one row: a workgroup sum for the mean, a second pass over the
// centred values for the (biased) variance, as torch computes it, then (x − mean) · rsqrt(var + eps) · γ + β.
//
// It runs where the tiled matmul may (SBERT_WEBGPU_MATMUL not `tfjs`, which keeps tfjs's kernels throughout)
// and only after `checkFusedLayerNorm` found it agreeing with tfjs's composite on this device.
import * as tf from '@tensorflow/tfjs-core';
import { type DeviceCheck, passed, trustedDiff, withDeviceErrors } from './device-check.js';
import { ownKernelsAllowed } from './settings.js';
import { registerWebgpuKernel, type WebgpuProgram, workgroupReduceWgsl } from './program.js';

export const LAYER_NORM_KERNEL = 'SbertLayerNorm';
const THREADS = 256;
/** Rows per dispatch row (WebGPU allows 65 535 workgroups per dimension; a batch may have more tokens). */
const ROWS_X = 32768;

function program(rows: number, cols: number, residual: boolean): WebgpuProgram {
  const value = residual ? 'x[i] + r[i]' : 'x[i]';
  return {
    outputShape: [rows, cols],
    shaderKey: `sbertLayerNorm_${residual}`,
    dispatchLayout: { x: [1], y: [0] }, // not flat: main() takes no index
    dispatch: [Math.min(rows, ROWS_X), Math.ceil(rows / ROWS_X), 1],
    variableNames: residual ? ['x', 'r', 'g', 'b'] : ['x', 'g', 'b'],
    workgroupSize: [THREADS, 1, 1],
    uniforms: 'rows : i32, cols : i32, eps : f32,',
    // Barriers stay in uniform control flow: rows past the end compute on zeros and write nothing.
    getUserCode: () => `
      var<workgroup> part : array<f32, ${THREADS}>;
      fn value(i : i32) -> f32 { return ${value}; }
      ${workgroupReduceWgsl('workgroupSum', (a, b) => `${a} + ${b}`, THREADS, 'part')}
      fn main() {
        let t = i32(localIndex);
        let row = i32(workgroupId.x + workgroupId.y * numWorkgroups.x);
        let n = uniforms.cols;
        let valid = row < uniforms.rows;
        let base = row * n;
        var s = 0.0;
        if (valid) { for (var i = base + t; i < base + n; i = i + ${THREADS}) { s = s + value(i); } }
        let mean = workgroupSum(s, t) / f32(n);
        var q = 0.0;
        if (valid) { for (var i = base + t; i < base + n; i = i + ${THREADS}) { let d = value(i) - mean; q = q + d * d; } }
        let inv = inverseSqrt(workgroupSum(q, t) / f32(n) + uniforms.eps);
        if (valid) {
          for (var j = t; j < n; j = j + ${THREADS}) { result[base + j] = (value(base + j) - mean) * inv * g[j] + b[j]; }
        }
      }
    `,
  };
}

/** LayerNorm(x + residual) of [rows, cols] on webgpu (callers check `fusedLayerNormApplies` first). */
export function fusedLayerNorm(
  x: tf.Tensor2D,
  residual: tf.Tensor2D | undefined,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): tf.Tensor2D {
  registerWebgpuKernel(LAYER_NORM_KERNEL, (inputs, attrs) => {
    const { x: xi, r, g, b } = inputs as { x: tf.TensorInfo; r?: tf.TensorInfo; g: tf.TensorInfo; b: tf.TensorInfo };
    const [rows, cols] = xi.shape as [number, number];
    return {
      program: program(rows, cols, r !== undefined),
      inputs: r ? [xi, r, g, b] : [xi, g, b],
      uniforms: [
        { type: 'int32', data: [rows] },
        { type: 'int32', data: [cols] },
        { type: 'float32', data: [attrs.eps as number] },
      ],
    };
  });
  const inputs: tf.NamedTensorMap = residual ? { x, r: residual, g: gamma, b: beta } : { x, g: gamma, b: beta };
  return tf.engine().runKernel(LAYER_NORM_KERNEL, inputs, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

let agreement: DeviceCheck | undefined;

/** True when LayerNorm runs as the fused program: webgpu, our kernels allowed, checked on this device. */
export function fusedLayerNormApplies(): boolean {
  return ownKernelsAllowed() && passed(agreement);
}

/** LayerNorm from tfjs ops, as src/layers/layer-norm.ts composes it (passed in: layers build on backends). */
export type LayerNormReference = (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number) => tf.Tensor2D;

/**
 * Runs the fused LayerNorm against tfjs's composite once per process, on rows that cut the 256-thread loop,
 * and enables it only if they agree (max abs difference ≤ 1e-5 on unit-scale outputs) and the device reported
 * no error compiling or running it. Returns the difference (Infinity on an error) and the error.
 */
export async function checkFusedLayerNorm(reference: LayerNormReference): Promise<DeviceCheck> {
  if (agreement) return agreement;
  const [rows, cols, eps] = [37, 300, 1e-12];
  const { value: diff, error } = await withDeviceErrors(async () => {
    const d = tf.tidy(() => {
      const x = tf.randomUniform([rows, cols], -4, 4, 'float32', 5) as tf.Tensor2D;
      const r = tf.randomUniform([rows, cols], -1, 3, 'float32', 6) as tf.Tensor2D;
      const g = tf.randomUniform([cols], 0.5, 1.5, 'float32', 7) as tf.Tensor1D;
      const b = tf.randomUniform([cols], -1, 1, 'float32', 8) as tf.Tensor1D;
      return tf.max(tf.abs(tf.sub(fusedLayerNorm(x, r, g, b, eps), reference(tf.add(x, r), g, b, eps))));
    });
    const v = (await d.data())[0]!;
    d.dispose();
    return v;
  });
  agreement = { diff: error ? Infinity : trustedDiff(diff), error };
  return agreement;
}
