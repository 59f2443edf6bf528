// BertIntermediate (modeling_bert.py): dense H → I, then the config's activation.
import * as tf from '@tensorflow/tfjs-core';
import type { DenseActivation } from '../backend/kernels.js';
import type { BertConfig, HiddenAct } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import { activation } from './activations.js';
import type { Hidden, HookPoint, HookRun, HookScope } from './hook.js';
import { Linear } from './linear.js';

/** `hidden_act` as the Linear's epilogue (gelu_new and gelu_pytorch_tanh are one formula). */
const EPILOGUE: Record<HiddenAct, DenseActivation> = {
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  relu: 'relu',
};

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

  /** [B, L, H] → [B, L, I], or rows [B·L, H] → [B·L, I] */
  forward<T extends Hidden>(x: T, hooks?: HookRun): T {
    // The activation rides with the matmul (Linear's epilogue, where the backend has one) unless someone wants
    // the pre-activation.
    if (!hooks?.wants(this.hookPre)) return this.hookPost.run(this.dense.forward(x, EPILOGUE[this.hiddenAct]), hooks);
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
