// y = x · W + b as one WGSL program for the webgpu backend: the Linear layers (Q, K, V, attention output,
// intermediate, output) are most of a short-sequence BERT forward, and tfjs-webgpu's generic matmul (32 × 32
// tiles, 64 threads) runs them well below this tiled one (measurements: docs/gpu.md).
// Registered as the tfjs kernel `SbertLinear` so tidy / dispose / profiling treat it as any tfjs op; the WGSL is
// generated in linear-wgsl.ts, the per-device choice between it and tfjs's matmul is made in matmul-choice.ts.
import * as tf from '@tensorflow/tfjs-core';
import { autoTile, type LinearActivation, type LinearTile, program } from './linear-wgsl.js';
import { registerWebgpuKernel } from './program.js';
import { linearTile } from './settings.js';

export const TILED_LINEAR_KERNEL = 'SbertLinear';

/**
 * activation([M, K] · [K, N] + [N]) on the tiled webgpu program (callers check `tiledLinearApplies` first), in
 * `tile` (default: the setting, `linearTile()`).
 */
export function tiledLinear(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: LinearActivation = 'linear',
  tile: LinearTile | 'auto' = linearTile(),
): tf.Tensor2D {
  registerWebgpuKernel(TILED_LINEAR_KERNEL, (inputs, attrs) => {
    const { x, w, b } = inputs as { x: tf.TensorInfo; w: tf.TensorInfo; b: tf.TensorInfo };
    const [m, k] = x.shape as [number, number];
    const n = w.shape[1]!;
    const t = attrs.tile as LinearTile | 'auto';
    const int = (v: number) => ({ type: 'int32' as const, data: [v] });
    return {
      program: program(m, n, t === 'auto' ? autoTile(m, n) : t, attrs.activation as LinearActivation),
      inputs: [x, w, b],
      uniforms: [int(m), int(k), int(n)],
    };
  });
  return tf
    .engine()
    .runKernel(TILED_LINEAR_KERNEL, { x, w, b }, { activation, tile } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}
