// The fused WGSL LayerNorm (src/backend/webgpu/layer-norm.ts) against a float64 LayerNorm and tfjs's composite,
// with and without the residual, at widths below, at and past one 256-thread sweep. Needs a WebGPU adapter
// (a GPU, or lavapipe: `eval "$(scripts/lavapipe.sh)"`); skipped, and says so, without one.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  checkFusedLayerNorm,
  fusedLayerNorm,
  fusedLayerNormApplies,
  LAYER_NORM_KERNEL,
} from '../../src/backend/webgpu/layer-norm.js';
import { setWebgpuMatmul } from '../../src/backend/webgpu/settings.js';
import { layerNorm } from '../../src/backend/kernels.js';
import { layerNormComposite } from '../../src/ops/layer-norm.js';
import { maxDiff, values } from '../values.js';
import { onWebgpu, webgpuUnavailable } from './webgpu.js';

const adapter = await webgpuUnavailable('webgpu LayerNorm');

/** torch's LayerNorm in float64: biased variance, eps inside the root. */
function reference(
  x: Float32Array,
  r: Float32Array | undefined,
  g: Float32Array,
  b: Float32Array,
  rows: number,
  cols: number,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const v = Array.from({ length: cols }, (_, j) => x[i * cols + j]! + (r ? r[i * cols + j]! : 0));
    const mean = v.reduce((a, c) => a + c, 0) / cols;
    const variance = v.reduce((a, c) => a + (c - mean) ** 2, 0) / cols;
    v.forEach((c, j) => (y[i * cols + j] = ((c - mean) / Math.sqrt(variance + eps)) * g[j]! + b[j]!));
  }
  return y;
}

describe.skipIf(adapter !== null)('fused LayerNorm on webgpu', () => {
  onWebgpu();

  // [rows, cols]: one row of BERT-tiny width; a ragged width; BERT-base width; wider than 1 000.
  const CASES: [number, number][] = [
    [1, 32],
    [37, 300],
    [65, 768],
    [3, 1030],
  ];

  it("equals a float64 LayerNorm (≤ 1e-5) and tfjs's composite (≤ 2e-6), with and without a residual", async () => {
    const n0 = tf.memory().numTensors;
    for (const [rows, cols] of CASES) {
      for (const withResidual of [false, true]) {
        const xs = values(rows * cols, -3, 5, rows + cols),
          rs = values(rows * cols, -1, 1, rows),
          gs = values(cols, 0.5, 1.5, cols),
          bs = values(cols, -1, 1, 1);
        const eps = 1e-12;
        const [x, r, g, b] = [
          tf.tensor2d(xs, [rows, cols]),
          tf.tensor2d(rs, [rows, cols]),
          tf.tensor1d(gs),
          tf.tensor1d(bs),
        ];
        const fused = fusedLayerNorm(x, withResidual ? r : undefined, g, b, eps);
        const composite = tf.tidy(() => layerNormComposite(withResidual ? tf.add(x, r) : x, g, b, eps));
        const got = (await fused.data()) as Float32Array;
        const label = `${rows}×${cols}${withResidual ? ' + residual' : ''}`;
        expect(
          maxDiff(got, reference(xs, withResidual ? rs : undefined, gs, bs, rows, cols, eps)),
          label,
        ).toBeLessThanOrEqual(1e-5);
        expect(maxDiff(got, (await composite.data()) as Float32Array), label).toBeLessThanOrEqual(2e-6);
        tf.dispose([x, r, g, b, fused, composite]);
      }
    }
    expect(tf.memory().numTensors).toBe(n0);
  });

  it("the layerNorm op runs it on webgpu unless tfjs's kernels are asked for, after the device check passed", async () => {
    const { diff, error } = await checkFusedLayerNorm(layerNormComposite);
    expect(error).toBeNull();
    expect(diff).toBeLessThanOrEqual(1e-5);
    const [gamma, beta] = [tf.tensor1d(values(16, 0.5, 1.5, 2)), tf.tensor1d(values(16, -1, 1, 3))];
    const x = tf.tensor3d(values(2 * 3 * 16, -2, 2, 4), [2, 3, 16]);
    const r = tf.tensor3d(values(2 * 3 * 16, -2, 2, 5), [2, 3, 16]);
    const kernels = async () => {
      const p = await tf.profile(() => layerNorm(x, r, gamma, beta, 1e-12));
      const out = p.result as tf.Tensor;
      const data = await out.data();
      out.dispose();
      return { names: new Set(p.kernels.map((k) => k.name)), data };
    };
    expect(fusedLayerNormApplies()).toBe(true);
    const fused = await kernels();
    expect([...fused.names]).toContain(LAYER_NORM_KERNEL);
    expect(fused.names.has('Mean')).toBe(false);
    setWebgpuMatmul('tfjs');
    expect(fusedLayerNormApplies()).toBe(false);
    const ops = await kernels();
    expect(ops.names.has(LAYER_NORM_KERNEL)).toBe(false);
    expect(ops.names.has('Mean')).toBe(true);
    expect(maxDiff(fused.data, ops.data)).toBeLessThanOrEqual(2e-6);
    expect(fused.data.length).toBe(96);
    setWebgpuMatmul('auto');
    tf.dispose([x, r]);
    tf.dispose([gamma, beta]);
  });
});
