// nn.LayerNorm over the last axis (torch's: biased variance, eps inside the square root) with TransformerLens's
// hook points (TL 3.x NormalizationBridge): `hook_scale` = √(var + eps) [B, L, 1], `hook_normalized` = (x − mean) /
// scale before the weight and bias [B, L, H], `hook_out` after them [B, L, H]. Unhooked (or with only `hook_out`
// hooked) the whole norm, residual add included, is one backend op (a fused program on webgpu).
import * as tf from '@tensorflow/tfjs-core';
import { layerNorm, layerNormKeepingSum } from '../backend/kernels.js';
import type { Weights } from '../loader/weights.js';
import type { HookPoint, HookRun, HookScope } from './hook.js';

export class LayerNorm {
  private constructor(
    readonly weight: tf.Tensor1D,
    readonly bias: tf.Tensor1D,
    readonly eps: number,
    readonly hookScale: HookPoint,
    readonly hookNormalized: HookPoint,
    readonly hookOut: HookPoint,
  ) {}

  /** `w`: the module's scope (`…LayerNorm`); `hp`: its hook scope (`blocks.{i}.ln1`, `embed.ln`, ...). */
  static load(w: Weights, size: number, eps: number, hp: HookScope): LayerNorm {
    return new LayerNorm(
      tf.tensor1d(w.get('weight', [size]).data),
      tf.tensor1d(w.get('bias', [size]).data),
      eps,
      hp.point('hook_scale'), // [B, L, 1]
      hp.point('hook_normalized'), // [B, L, H]
      hp.point('hook_out'), // [B, L, H]
    );
  }

  /** LayerNorm(x), or LayerNorm(x + residual) (same shape). */
  forward<T extends tf.Tensor>(x: T, residual?: T, hooks?: HookRun): T {
    if (!hooks?.wants(this.hookScale) && !hooks?.wants(this.hookNormalized)) {
      return this.hookOut.run(layerNorm(x, residual, this.weight, this.bias, this.eps) as T, hooks);
    }
    // The same ops as src/ops/layer-norm.ts, in the same order, with the scale made for its hook.
    return tf.tidy(() => {
      const input: tf.Tensor = residual ? tf.add(x, residual) : x;
      const axis = input.rank - 1;
      const centered = tf.sub(input, tf.mean(input, axis, true));
      const varEps = tf.add(tf.mean(tf.square(centered), axis, true), this.eps);
      const scale = tf.sqrt(varEps);
      const hooked = this.hookScale.run(scale, hooks);
      // centered · rsqrt(var + eps) as the unhooked norm computes it, unless a hook replaced the scale.
      const normalized = this.hookNormalized.run(
        hooked === scale ? tf.mul(centered, tf.rsqrt(varEps)) : tf.div(centered, hooked),
        hooks,
      );
      return this.hookOut.run(tf.add(tf.mul(normalized, this.weight), this.bias) as T, hooks);
    });
  }

  /**
   * LayerNorm(x + residual) where the hook points `sumPoints` read (or replace) the sum first, in order. Where the
   * norm is one kernel that can hand back the sum (wasm + BLAS), hooks that only read it cost no extra kernel.
   */
  forwardAfter<T extends tf.Tensor>(sumPoints: HookPoint[], x: T, residual: T, hooks?: HookRun): T {
    if (hooks?.wants(this.hookScale) || hooks?.wants(this.hookNormalized)) {
      const sum = sumPoints.reduce((t, p) => p.run(t, hooks), tf.add(x, residual) as T);
      return this.forward(sum, undefined, hooks);
    }
    const [sum, normed] = layerNormKeepingSum(x, residual, this.weight, this.bias, this.eps) as [T, T];
    const hooked = sumPoints.reduce((t, p) => p.run(t, hooks), sum);
    if (hooked === sum) return this.hookOut.run(normed, hooks);
    normed.dispose();
    return this.forward(hooked, undefined, hooks);
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}
