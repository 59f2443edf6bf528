// BertOutput (modeling_bert.py): dense I → H, then LayerNorm(dense + residual).
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { HookPoint, HookRun, HookScope } from './hook.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';

export class BertOutput {
  private constructor(
    readonly dense: Linear,
    readonly layerNorm: LayerNorm,
    readonly hookMlpOut: HookPoint,
    readonly hookResidPost: HookPoint,
    readonly hookNormalizedResidPost: HookPoint,
  ) {}

  /** `w`: `encoder.layer.{i}.output`; `hp`: `blocks.{i}`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertOutput {
    return new BertOutput(
      Linear.load(w.scope('dense'), c.intermediateSize, c.hiddenSize),
      LayerNorm.load(w.scope('LayerNorm'), c.hiddenSize, c.layerNormEps),
      hp.point('hook_mlp_out'),
      hp.point('hook_resid_post'),
      hp.point('hook_normalized_resid_post'),
    );
  }

  /** intermediate: [B, L, I]; residual: [B, L, H] → [B, L, H] */
  forward(intermediate: tf.Tensor3D, residual: tf.Tensor3D, hooks?: HookRun): tf.Tensor3D {
    const mlpOut = this.hookMlpOut.run(this.dense.forward(intermediate), hooks);
    // The sum is a tensor of its own only when a hook wants it; otherwise it rides in the LayerNorm.
    if (!hooks?.wants(this.hookResidPost)) return this.hookNormalizedResidPost.run(this.layerNorm.forward(mlpOut, residual), hooks);
    const residPost = this.hookResidPost.run(tf.add(mlpOut, residual) as tf.Tensor3D, hooks);
    return this.hookNormalizedResidPost.run(this.layerNorm.forward(residPost), hooks);
  }

  dispose(): void {
    this.dense.dispose();
    this.layerNorm.dispose();
  }
}
