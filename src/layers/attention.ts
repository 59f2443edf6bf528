// BertAttention (modeling_bert.py): self-attention, then its output block.
import type * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { Hidden, HookRun, HookScope } from './hook.js';
import { BertSelfAttention } from './self-attention.js';
import { BertSelfOutput } from './self-output.js';

export class BertAttention {
  private constructor(
    readonly self: BertSelfAttention,
    readonly output: BertSelfOutput,
  ) {}

  /** `w`: `encoder.layer.{i}.attention`; `hp`: `blocks.{i}`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertAttention {
    return new BertAttention(
      BertSelfAttention.load(w.scope('self'), c, hp.scope('attn')),
      BertSelfOutput.load(w.scope('output'), c, hp),
    );
  }

  /** x: [B, L, H] or rows [B·L, H] → the block's output (after its LayerNorm), shaped as x. */
  forward<T extends Hidden>(x: T, mask: tf.Tensor4D, hooks?: HookRun): T {
    return this.output.forward(this.self.forward(x, mask, hooks), x, hooks);
  }

  dispose(): void {
    this.self.dispose();
    this.output.dispose();
  }
}
