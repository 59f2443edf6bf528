// BertSelfOutput (modeling_bert.py): dense, then LayerNorm(dense + residual).
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { HookPoint, HookRun, HookScope } from './hook.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';

export class BertSelfOutput {
  private constructor(
    readonly dense: Linear,
    readonly layerNorm: LayerNorm,
    readonly hookAttnOut: HookPoint,
    readonly hookResidMid: HookPoint,
    readonly hookNormalized: HookPoint,
  ) {}

  /** `w`: `encoder.layer.{i}.attention.output`; `hp`: `blocks.{i}`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertSelfOutput {
    const H = c.hiddenSize;
    return new BertSelfOutput(
      Linear.load(w.scope('dense'), H, H),
      LayerNorm.load(w.scope('LayerNorm'), H, c.layerNormEps),
      hp.point('hook_attn_out'),
      hp.point('hook_resid_mid'),
      hp.scope('ln1').point('hook_normalized'),
    );
  }

  /** context, residual: [B, L, H] */
  forward(context: tf.Tensor3D, residual: tf.Tensor3D, hooks?: HookRun): tf.Tensor3D {
    const attnOut = this.hookAttnOut.run(this.dense.forward(context), hooks);
    // The sum is a tensor of its own only when a hook wants it; otherwise it rides in the LayerNorm.
    if (!hooks?.wants(this.hookResidMid)) return this.hookNormalized.run(this.layerNorm.forward(attnOut, residual), hooks);
    const residMid = this.hookResidMid.run(tf.add(attnOut, residual) as tf.Tensor3D, hooks);
    return this.hookNormalized.run(this.layerNorm.forward(residMid), hooks);
  }

  dispose(): void {
    this.dense.dispose();
    this.layerNorm.dispose();
  }
}
