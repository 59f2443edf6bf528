// The tiled WGSL Linear (src/backend/webgpu/linear.ts) against a float64 product and tfjs-webgpu's own matmul,
// at shapes that cut every tile edge. Needs a WebGPU adapter: a GPU, or Mesa's lavapipe on a CPU machine
// (`eval "$(scripts/lavapipe.sh)"`, which .ci/run does when it can fetch it); skipped, and says so, without one.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../src/backend/index.js';
import { tiledLinear } from '../../src/backend/webgpu/linear.js';
import { autoTile, LINEAR_TILES } from '../../src/backend/webgpu/linear-wgsl.js';
import {
  activeWebgpuMatmul,
  chooseMatmul,
  tiledLinearApplies,
  tuneWebgpuMatmul,
  verifyTiledLinear,
} from '../../src/backend/webgpu/matmul-choice.js';
import {
  setWebgpuMatmul,
  WEBGPU_SUBMIT_BATCH,
  WEBGPU_SUBMIT_FLAG,
  webgpuMatmul,
} from '../../src/backend/webgpu/settings.js';
import { Linear } from '../../src/layers/linear.js';
import { erfReference as erf, maxDiff, values } from '../values.js';
import { webgpuUnavailable } from './webgpu.js';

const adapter = await webgpuUnavailable('webgpu-linear');

function reference(x: Float32Array, w: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = b[j]!;
      for (let p = 0; p < k; p++) acc += x[i * k + p]! * w[p * n + j]!;
      y[i * n + j] = acc;
    }
  }
  return y;
}

describe.skipIf(adapter !== null)('tiled Linear on webgpu', () => {
  beforeAll(async () => {
    await setupBackend('webgpu');
  });
  afterAll(async () => {
    setWebgpuMatmul('auto');
    await setupBackend('wasm');
  });

  // [M, K, N]: single row; rows past one 64-row tile; K not a multiple of the 16-deep k tile; N below and past
  // one 128-column tile; many rows; enough workgroups for auto's 128 × 128 tiles; BERT-base's intermediate shape.
  const CASES: [number, number, number][] = [
    [1, 8, 4],
    [65, 36, 132],
    [130, 20, 8],
    [1030, 64, 260],
    [2050, 8, 2048],
    [7, 768, 3072],
  ];

  for (const tile of ['auto', ...LINEAR_TILES] as const) {
    it(`equals a float64 product (≤ 1e-5 relative) and tfjs's matmul (≤ 1e-6), tile ${tile}`, async () => {
      const n0 = tf.memory().numTensors;
      for (const [m, k, n] of CASES) {
        const xs = values(m * k, -1, 1, m + k),
          ws = values(k * n, -1, 1, k + n),
          bs = values(n, -1, 1, n);
        const want = reference(xs, ws, bs, m, k, n);
        const [x, w, b] = [tf.tensor2d(xs, [m, k]), tf.tensor2d(ws, [k, n]), tf.tensor1d(bs)];
        const y = tiledLinear(x, w, b, 'linear', tile);
        const t = tf.fused.matMul({ a: x, b: w, bias: b });
        expect(y.shape).toEqual([m, n]);
        const [got, tfjs] = [await y.data(), await t.data()];
        let err = 0,
          vsTfjs = 0,
          scale = 1;
        for (let i = 0; i < got.length; i++) {
          err = Math.max(err, Math.abs(got[i]! - want[i]!));
          vsTfjs = Math.max(vsTfjs, Math.abs(got[i]! - tfjs[i]!));
          scale = Math.max(scale, Math.abs(want[i]!));
        }
        expect(err / scale, `${m}×${k}×${n}`).toBeLessThanOrEqual(1e-5);
        expect(vsTfjs, `${m}×${k}×${n}`).toBeLessThanOrEqual(1e-6);
        tf.dispose([x, w, b, y, t]);
      }
      expect(tf.memory().numTensors).toBe(n0);
    });
  }

  it("Linear uses it when chosen, ReLU and GELU in its epilogue, equal to tfjs's matmul then the activation", async () => {
    const k = 12,
      n = 20,
      m = 9;
    const lin = new Linear(tf.tensor2d(values(k * n, -1, 1, 5), [k, n]), tf.tensor1d(values(n, -1, 1, 6)));
    const x = tf.tensor3d(values(m * k, -1, 1, 7), [3, 3, k]);
    const acts = ['linear', 'relu', 'gelu'] as const;
    setWebgpuMatmul('tfjs');
    expect(tiledLinearApplies(k, n)).toBe(false);
    // Linear.forward leaves its reshapes to the caller's tidy, as the layers call it.
    const plain = tf.tidy(() => acts.map((a) => lin.forward(x, a)));
    setWebgpuMatmul('tiled');
    expect(webgpuMatmul()).toBe('tiled');
    expect(tiledLinearApplies(k, n)).toBe(true);
    expect(tiledLinearApplies(k, 6 + 1)).toBe(false); // N % 4 ≠ 0: tfjs's matmul instead
    const n0 = tf.memory().numTensors;
    const tiled = tf.tidy(() => acts.map((a) => lin.forward(x, a)));
    expect(tiled[0]!.shape).toEqual([3, 3, n]);
    expect(tf.memory().numTensors).toBe(n0 + 3);
    // (webgpu has no synchronous read-back in Node: data(), never dataSync())
    for (let i = 0; i < acts.length; i++)
      expect(maxDiff(await plain[i]!.data(), await tiled[i]!.data()), acts[i]).toBeLessThanOrEqual(1e-6);
    const [lin0, relu, gelu] = (await Promise.all(tiled.map((t) => t.data()))) as Float32Array[];
    expect(Math.min(...relu!)).toBe(0); // some outputs were negative and were clamped
    // GELU: x·Φ(x), so below zero it is small and negative, above it close to x for large x
    lin0!.forEach((v, i) =>
      expect(Math.abs(gelu![i]! - 0.5 * v * (1 + erf(v / Math.SQRT2)))).toBeLessThanOrEqual(1e-6),
    );
    tf.dispose([...plain, ...tiled, x]);
    lin.dispose();
  });

  it('every variant of the program (tile shapes × activations) passes the device check', async () => {
    const v = await verifyTiledLinear();
    expect(v.error).toBeNull();
    expect(v.diff).toBeLessThanOrEqual(1e-6);
  });
});

describe.skipIf(adapter !== null)('auto: the faster matmul, measured on this device', () => {
  afterAll(async () => {
    await setupBackend('wasm');
  });

  it('times both kernels once, keeps the faster, and says so in the backend report', async () => {
    setWebgpuMatmul('auto');
    const choice = await setupBackend('webgpu');
    const t = await tuneWebgpuMatmul();
    expect(t.tfjsMs).toBeGreaterThan(0);
    expect(t.tiledMs).toBeGreaterThan(0);
    expect(t.relDiff).toBeLessThanOrEqual(1e-6); // the two kernels agree on this device
    expect(t.use).toBe(t.tiledMs < t.tfjsMs ? 'tiled' : 'tfjs');
    expect(activeWebgpuMatmul()).toBe(t.use);
    expect(choice.reason).toContain(
      `${t.use} matmul (measured: tiled ${t.tiledMs.toFixed(2)} ms, tfjs ${t.tfjsMs.toFixed(2)} ms`,
    );
    expect(choice.reason).toMatch(
      /; fused LayerNorm \(agrees with tfjs's ops to \d\.\de-\d+\); fused attention \(agrees with a float64 attention to \d\.\de-\d+\); fused mask \(agrees with its int32 values to 0\.0e\+0\)$/,
    );
    // tfjs-webgpu submits every WEBGPU_SUBMIT_BATCH dispatches (not its default 15: docs/gpu.md)
    expect(tf.env().get(WEBGPU_SUBMIT_FLAG)).toBe(WEBGPU_SUBMIT_BATCH);
    expect(WEBGPU_SUBMIT_FLAG).toBe('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');
    expect(WEBGPU_SUBMIT_BATCH).not.toBe(15);
    expect(await tuneWebgpuMatmul()).toBe(t); // once per process
    setWebgpuMatmul('tfjs');
    expect(activeWebgpuMatmul()).toBe('tfjs');
    expect((await setupBackend('webgpu')).reason).toMatch(/; tfjs matmul \(forced\)$/);
    setWebgpuMatmul('auto');
  });
});

describe('tiled Linear selection', () => {
  it('chooseMatmul: the faster, unless the tiled result disagrees with tfjs (or is NaN)', () => {
    expect(chooseMatmul(2, 1, 1e-7)).toBe('tiled');
    expect(chooseMatmul(1, 2, 0)).toBe('tfjs');
    expect(chooseMatmul(2, 1, 3e-2)).toBe('tfjs');
    expect(chooseMatmul(2, 1, Number.NaN)).toBe('tfjs');
    expect(chooseMatmul(2, 1, -1)).toBe('tfjs'); // a garbage reading (say, from a program the driver rejected)
  });

  it('autoTile: the largest tile that still makes ≥ 256 workgroups, else 64 × 64', () => {
    expect(autoTile(4096, 4096)).toBe('128x128'); // 32 × 32 workgroups
    expect(autoTile(1366, 3072)).toBe('128x128'); // a ragged last tile counts: 11 × 24 = 264
    expect(autoTile(1280, 3072)).toBe('64x128'); // 10 × 24 = 240 of 128 × 128; 20 × 24 = 480 of 64 × 128
    expect(autoTile(4096, 768)).toBe('64x128'); // 128-row: 32 × 6 = 192; 64-row: 64 × 6 = 384
    expect(autoTile(2048, 768)).toBe('64x64'); // 64 × 128 and 128 × 64 make 192; 64 × 64 makes 384
    expect(autoTile(512, 3072)).toBe('64x64');
    expect(autoTile(1, 4)).toBe('64x64'); // one workgroup: the smallest tile
    expect(autoTile(130, 8192)).toBe('128x64'); // ragged rows: 3 × 64 = 192 of 64 × 128, 2 × 128 = 256 of 128 × 64
  });

  it('never applies off webgpu, and unknown choices are usage errors', async () => {
    await setupBackend('wasm');
    setWebgpuMatmul('tiled');
    expect(tiledLinearApplies(768, 768)).toBe(false);
    setWebgpuMatmul('auto');
    expect(webgpuMatmul()).toBe('auto');
    expect(() => setWebgpuMatmul('fast' as 'tiled')).toThrow(/unknown webgpu matmul "fast"/);
  });
});
