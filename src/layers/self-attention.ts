// BertSelfAttention (modeling_bert.py, eager attention): Q, K, V projections, scores = Q·Kᵀ · d^-½ +
// additive mask, softmax over keys, probabilities · V, heads merged. The attention itself is one backend op
// (fused where nothing needs the scores or probabilities).
// Q, K and V stay three matmuls: on tfjs-wasm one fused [H, 3H] matmul is no faster (docs/benchmarks.md) and its
// output must then be split, a strided copy of 3·B·L·H floats.
import * as tf from '@tensorflow/tfjs-core';
import { attention } from '../backend/kernels.js';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { Hidden, HookPoint, HookRun, HookScope } from './hook.js';
import { Linear } from './linear.js';

export class BertSelfAttention {
  private constructor(
    readonly query: Linear,
    readonly key: Linear,
    readonly value: Linear,
    readonly numHeads: number,
    readonly headDim: number,
    readonly hookQ: HookPoint,
    readonly hookK: HookPoint,
    readonly hookV: HookPoint,
    readonly hookAttnScores: HookPoint,
    readonly hookPattern: HookPoint,
    readonly hookZ: HookPoint,
  ) {}

  /** `w`: `encoder.layer.{i}.attention.self`; `hp`: `blocks.{i}.attn`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertSelfAttention {
    const H = c.hiddenSize;
    return new BertSelfAttention(
      Linear.load(w.scope('query'), H, H),
      Linear.load(w.scope('key'), H, H),
      Linear.load(w.scope('value'), H, H),
      c.numAttentionHeads,
      H / c.numAttentionHeads,
      hp.point('hook_q'), // [B, L, heads, d_head]
      hp.point('hook_k'), // [B, L, heads, d_head]
      hp.point('hook_v'), // [B, L, heads, d_head]
      hp.point('hook_attn_scores'), // [B, heads, L, L]: scaled, masked, before softmax
      hp.point('hook_pattern'), // [B, heads, L, L]: softmax probabilities (HF `attentions`)
      hp.point('hook_z'), // [B, L, heads, d_head]: probabilities · V, before the output projection
    );
  }

  /**
   * x: [B, L, H], or its rows [B·L, H]; mask: additive [B, 1, 1, L] (0 or finfo(float32).min) → heads merged,
   * shaped as x.
   */
  forward<T extends Hidden>(x: T, mask: tf.Tensor4D, hooks?: HookRun): T {
    const [B, , , L] = mask.shape;
    const H = x.shape[x.rank - 1]!;
    // Once for the three (on tfjs-node a reshape is an op); rows come as they are.
    const rows = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [B * L, H]) as tf.Tensor2D);
    const split = (proj: Linear, point: HookPoint): tf.Tensor4D =>
      point.run(tf.reshape(proj.forward(rows), [B, L, this.numHeads, this.headDim]) as tf.Tensor4D, hooks); // [B, L, heads, d]
    const [q, k, v] = [split(this.query, this.hookQ), split(this.key, this.hookK), split(this.value, this.hookV)];
    const { z } = attention(q, k, v, mask, {
      scale: this.headDim ** -0.5,
      needProbs: hooks !== undefined && (hooks.wants(this.hookAttnScores) || hooks.wants(this.hookPattern)),
      onScores: (t) => this.hookAttnScores.run(t, hooks),
      onProbs: (t) => this.hookPattern.run(t, hooks),
    });
    return tf.reshape(this.hookZ.run(z, hooks), x.shape) as T;
  }

  dispose(): void {
    this.query.dispose();
    this.key.dispose();
    this.value.dispose();
  }
}
