// BertLayer (modeling_bert.py): attention block, then the feed-forward block (post-LayerNorm).
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import { BertAttention } from './attention.js';
import type { HookRun, HookScope } from './hook.js';
import { BertIntermediate } from './intermediate.js';
import { BertOutput } from './output.js';

export interface LayerResult {
  /** [B, L, H] = HF hidden_states[i + 1] */
  hidden: tf.Tensor3D;
  /** [B, heads, L, L], when asked for */
  probs?: tf.Tensor4D;
}

export class BertLayer {
  private constructor(
    readonly attention: BertAttention,
    readonly intermediate: BertIntermediate,
    readonly output: BertOutput,
  ) {}

  /** `w`: `encoder.layer.{i}`; `hp`: `blocks.{i}`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertLayer {
    return new BertLayer(
      BertAttention.load(w.scope('attention'), c, hp),
      BertIntermediate.load(w.scope('intermediate'), c, hp.scope('mlp')),
      BertOutput.load(w.scope('output'), c, hp),
    );
  }

  /** `keepProbs`: return the attention probabilities (else they are freed before the FFN runs). */
  forward(x: tf.Tensor3D, mask: tf.Tensor4D, hooks?: HookRun, keepProbs = true): LayerResult {
    const att = tf.tidy((): tf.TensorContainerObject => {
      const { context, probs } = this.attention.forward(x, mask, hooks, keepProbs);
      return keepProbs && probs ? { context, probs } : { context };
    }) as { context: tf.Tensor3D; probs?: tf.Tensor4D };
    const hidden = tf.tidy(() => this.output.forward(this.intermediate.forward(att.context, hooks), att.context, hooks));
    return { hidden, probs: att.probs };
  }

  dispose(): void {
    this.attention.dispose();
    this.intermediate.dispose();
    this.output.dispose();
  }
}
