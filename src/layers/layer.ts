// BertLayer (modeling_bert.py): attention block, then the feed-forward block (post-LayerNorm), as TransformerLens's
// BertBlock (`blocks.{i}`, from `hook_resid_pre` to `hook_normalized_resid_post`).
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import { BertAttention } from './attention.js';
import type { Hidden, HookPoint, HookRun, HookScope } from './hook.js';
import { BertIntermediate } from './intermediate.js';
import { BertOutput } from './output.js';

export class BertLayer {
  private constructor(
    readonly hookResidPre: HookPoint,
    readonly attention: BertAttention,
    readonly intermediate: BertIntermediate,
    readonly output: BertOutput,
  ) {}

  /** `w`: `encoder.layer.{i}`; `hp`: `blocks.{i}`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertLayer {
    return new BertLayer(
      hp.point('hook_resid_pre'), // [B, L, H]: the block's input
      BertAttention.load(w.scope('attention'), c, hp),
      BertIntermediate.load(w.scope('intermediate'), c, hp.scope('mlp')),
      BertOutput.load(w.scope('output'), c, hp),
    );
  }

  /** x: [B, L, H] → [B, L, H] = HF hidden_states[i + 1]; rows [B·L, H] (no hooks) → rows */
  forward<T extends Hidden>(x: T, mask: tf.Tensor4D, hooks?: HookRun): T {
    const residPre = this.hookResidPre.run(x, hooks);
    // Its own tidy: the attention's temporaries (scores, probabilities) are freed before the FFN runs.
    const mid = tf.tidy(() => this.attention.forward(residPre, mask, hooks));
    return tf.tidy(() => this.output.forward(this.intermediate.forward(mid, hooks), mid, hooks));
  }

  dispose(): void {
    this.attention.dispose();
    this.intermediate.dispose();
    this.output.dispose();
  }
}
