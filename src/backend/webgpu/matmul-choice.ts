// Which matmul the Linear layers run on webgpu is measured, not assumed: with SBERT_WEBGPU_MATMUL unset (or
// `auto`), setting up the webgpu backend times tfjs's and the tiled one on this device at a BERT-sized product and
// keeps the faster (tfjs's may win on some GPUs); `tfjs` or `tiled` forces one. The tiled program is checked against
// tfjs's ops on the device first, every variant, and never used where it disagrees or the driver rejects it.
import * as tf from '@tensorflow/tfjs-core';
import { gelu } from '../../ops/activations.js';
import { BackendUnavailable } from '../unavailable.js';
import { CHECK_TOLERANCE, type DeviceCheck, passed, trustedDiff, withDeviceErrors } from './device-check.js';
import { tiledLinear } from './linear.js';
import { LINEAR_TILES, type LinearActivation } from './linear-wgsl.js';
import { webgpuMatmul } from './settings.js';

let tuned: Tuning | undefined;

export interface Tuning {
  use: 'tfjs' | 'tiled';
  /** The product timed, [M, K, N], and each kernel's best time in ms. */
  shape: [number, number, number];
  tfjsMs: number;
  tiledMs: number;
  /** From `verifyTiledLinear`: a driver that miscompiled the tiled kernel shows here. */
  relDiff: number;
  /** The device's error when it rejected the tiled program (then it was neither timed nor used). */
  error?: string;
}

/** The faster kernel, but never a tiled one that disagrees with tfjs's (NaN disagrees too). */
export function chooseMatmul(tfjsMs: number, tiledMs: number, relDiff: number): 'tfjs' | 'tiled' {
  return trustedDiff(relDiff) <= CHECK_TOLERANCE && tiledMs < tfjsMs ? 'tiled' : 'tfjs';
}

/** The matmul the Linear layers run on webgpu now (`auto` before tuning means tfjs's). */
export function activeWebgpuMatmul(): 'tfjs' | 'tiled' {
  const s = webgpuMatmul();
  return s === 'auto' ? (tuned?.use ?? 'tfjs') : s;
}

/** True when Linear would run the tiled program for these sizes on the active backend. */
export function tiledLinearApplies(inFeatures: number, outFeatures: number): boolean {
  return (
    tf.getBackend() === 'webgpu' && activeWebgpuMatmul() === 'tiled' && inFeatures % 4 === 0 && outFeatures % 4 === 0
  );
}

/** Best of `rounds` per-product times (ms) of `reps` products queued back to back, then one read-back. */
export async function timeProducts(f: () => tf.Tensor2D, reps: number, rounds: number): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    let last: tf.Tensor2D | undefined;
    for (let i = 0; i < reps; i++) {
      last?.dispose();
      last = f();
    }
    const probe = tf.slice(last!, [0, 0], [1, 1]);
    await probe.data(); // a queue runs in order: this waits for every product
    tf.dispose([probe, last!]);
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return best;
}

/** `diff`: the largest max |tiled − tfjs| / max |tfjs| over every variant. */
let verified: DeviceCheck | undefined;

/**
 * Every variant of the tiled program that may run (each tile shape × no activation, ReLU, GELU)
 * against tfjs's ops on this device, at a small shape that cuts every tile edge, once per process. A program
 * the driver rejects (or miscompiles) fails here instead of reading back zeros in a forward.
 */
export async function verifyTiledLinear(): Promise<DeviceCheck> {
  if (verified) return verified;
  if (tf.getBackend() !== 'webgpu') throw new Error('verifyTiledLinear: the webgpu backend is not active');
  const [m, k, n] = [130, 36, 132];
  const x = tf.randomUniform([m, k], -2, 2, 'float32', 11) as tf.Tensor2D;
  const w = tf.randomUniform([k, n], -0.5, 0.5, 'float32', 12) as tf.Tensor2D;
  const b = tf.randomUniform([n], -1, 1, 'float32', 13) as tf.Tensor1D;
  const tfjs: Record<LinearActivation, () => tf.Tensor> = {
    linear: () => tf.fused.matMul({ a: x, b: w, bias: b }),
    relu: () => tf.fused.matMul({ a: x, b: w, bias: b, activation: 'relu' }),
    gelu: () => gelu(tf.fused.matMul({ a: x, b: w, bias: b })),
  };
  const { value, error } = await withDeviceErrors(async () => {
    let worst = 0;
    for (const tile of LINEAR_TILES) {
      for (const act of Object.keys(tfjs) as LinearActivation[]) {
        const [diff, scale] = tf.tidy(() => {
          const want = tfjs[act]();
          return [tf.max(tf.abs(tf.sub(tiledLinear(x, w, b, act, tile), want))), tf.max(tf.abs(want))];
        });
        worst = Math.max(worst, trustedDiff((await diff.data())[0]! / Math.max((await scale.data())[0]!, 1e-30)));
        tf.dispose([diff, scale]);
      }
    }
    return worst;
  }).finally(() => tf.dispose([x, w, b]));
  verified = { diff: error ? Infinity : value, error };
  return verified;
}

/**
 * Times tfjs's matmul and the tiled one on the active webgpu device and, when the setting is `auto`, uses the
 * faster from then on, if the tiled program passed `verifyTiledLinear`. Once per process: [512, 768] · [768,
 * 3072] first, which a software adapter takes seconds over and decides on; a GPU, done in a few ms, is timed
 * again at [2048, 768] · [768, 3072] (BERT-base's intermediate.dense at a batch of ≈ 2 000 tokens).
 */
export async function tuneWebgpuMatmul(): Promise<Tuning> {
  if (tuned) return tuned;
  const check = await verifyTiledLinear();
  if (check.error)
    return (tuned = {
      use: 'tfjs',
      shape: [0, 0, 0],
      tfjsMs: NaN,
      tiledMs: NaN,
      relDiff: check.diff,
      error: check.error,
    });
  const measure = async (m: number, k: number, n: number, reps: number, rounds: number): Promise<Tuning> => {
    const x = tf.randomUniform([m, k], -1, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomUniform([k, n], -0.05, 0.05, 'float32', 2) as tf.Tensor2D;
    const b = tf.randomUniform([n], -1, 1, 'float32', 3) as tf.Tensor1D;
    const tfjsMs = await timeProducts(() => tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D, reps, rounds);
    const tiledMs = await timeProducts(() => tiledLinear(x, w, b), reps, rounds);
    tf.dispose([x, w, b]);
    return { use: chooseMatmul(tfjsMs, tiledMs, check.diff), shape: [m, k, n], tfjsMs, tiledMs, relDiff: check.diff };
  };
  // Two rounds: the first compiles each kernel's shader (tens of ms on a GPU, which would decide alone).
  let t = await measure(512, 768, 3072, 1, 2);
  if (Math.max(t.tfjsMs, t.tiledMs) < 20) t = await measure(2048, 768, 3072, 10, 3);
  tuned = t;
  return t;
}

/**
 * What the backend report says about the matmul: the tuning's outcome, or the forced one. Forcing `tiled` on a
 * device that rejects or miscompiles it is an error, not a forward of zeros.
 */
export async function resolveWebgpuMatmul(): Promise<string> {
  const s = webgpuMatmul();
  if (s === 'tfjs') return 'tfjs matmul (forced)';
  if (s === 'tiled') {
    const v = await verifyTiledLinear();
    if (!passed(v)) {
      throw new BackendUnavailable(
        `SBERT_WEBGPU_MATMUL=tiled, but the tiled kernel ${v.error ? `failed on this device: ${v.error}` : `disagrees with tfjs's matmul here (relative difference ${v.diff.toExponential(1)})`}`,
      );
    }
    return 'tiled matmul (forced)';
  }
  const t = await tuneWebgpuMatmul();
  if (t.error) return `tfjs matmul (the tiled kernel failed on this device: ${t.error})`;
  const times = `tiled ${t.tiledMs.toFixed(2)} ms, tfjs ${t.tfjsMs.toFixed(2)} ms at ${t.shape.join('×')}`;
  if (!(t.relDiff <= CHECK_TOLERANCE))
    return `tfjs matmul (the tiled kernel disagreed with it on this device, relative difference ${t.relDiff.toExponential(1)}: not used; ${times})`;
  return `${t.use} matmul (measured: ${times})`;
}
