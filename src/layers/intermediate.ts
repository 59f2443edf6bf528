// BertIntermediate (modeling_bert.py): dense H → I, then the config's activation.
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig, HiddenAct } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import { activation } from './activations.js';
import type { HookPoint, HookRun, HookScope } from './hook.js';
import { Linear } from './linear.js';

export class BertIntermediate {
  private constructor(
    readonly dense: Linear,
    readonly hiddenAct: HiddenAct,
    readonly hookPre: HookPoint,
    readonly hookPost: HookPoint,
  ) {}

  /** `w`: `encoder.layer.{i}.intermediate`; `hp`: `blocks.{i}.mlp`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertIntermediate {
    return new BertIntermediate(
      Linear.load(w.scope('dense'), c.hiddenSize, c.intermediateSize),
      c.hiddenAct,
      hp.point('hook_pre'), // [B, L, I]: dense, before the activation
      hp.point('hook_post'), // [B, L, I]: after the activation
    );
  }

  /** [B, L, H] → [B, L, I] */
  forward(x: tf.Tensor3D, hooks?: HookRun): tf.Tensor3D {
    // relu and gelu ride with the matmul (Linear's epilogue) unless someone wants the pre-activation.
    if ((this.hiddenAct === 'relu' || this.hiddenAct === 'gelu') && !hooks?.wants(this.hookPre)) {
      return this.hookPost.run(this.dense.forward(x, this.hiddenAct), hooks);
    }
    // The pre-activation [tokens, intermediate] is freed once the activation exists.
    return tf.tidy(() => {
      const pre = this.hookPre.run(this.dense.forward(x), hooks);
      return this.hookPost.run(activation(this.hiddenAct)(pre), hooks);
    });
  }

  dispose(): void {
    this.dense.dispose();
  }
}
