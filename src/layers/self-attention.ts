// BertSelfAttention (modeling_bert.py, eager attention): Q, K, V projections, scores = Q·Kᵀ · d^-½ +
// additive mask, softmax over keys, probabilities · V, heads merged.
// Q, K and V stay three matmuls: on tfjs-wasm one fused [H, 3H] matmul is no faster (XNNPACK runs ~30
// GFLOP/s at either width) and its output must then be split, a strided copy of 3·B·L·H floats.
import * as tf from '@tensorflow/tfjs-core';
import { fusedAttention, fusedAttentionApplies } from '../backend/webgpu/attention.js';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { HookPoint, HookRun, HookScope } from './hook.js';
import { Linear } from './linear.js';

export interface AttentionResult {
  /** [B, L, H], heads merged */
  context: tf.Tensor3D;
  /** [B, heads, L, L] softmax probabilities (HF `attentions`); absent when not asked for and never made */
  probs?: tf.Tensor4D;
}

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
      hp.point('hook_q'),
      hp.point('hook_k'),
      hp.point('hook_v'),
      hp.point('hook_attn_scores'),
      hp.point('hook_pattern'),
      hp.point('hook_z'),
    );
  }

  /**
   * x: [B, L, H]; mask: additive [B, 1, 1, L] (0 or finfo(float32).min). `keepProbs` false: the caller drops
   * the probabilities, so where no hook wants a piece of the attention it may run as one fused program.
   */
  forward(x: tf.Tensor3D, mask: tf.Tensor4D, hooks?: HookRun, keepProbs = true): AttentionResult {
    const [B, L, H] = x.shape;
    const [nh, d] = [this.numHeads, this.headDim];
    const points = [this.hookQ, this.hookK, this.hookV, this.hookAttnScores, this.hookPattern, this.hookZ];
    if (!keepProbs && fusedAttentionApplies(L, d) && !points.some((p) => hooks?.wants(p))) {
      const x2 = tf.reshape(x, [B * L, H]) as tf.Tensor2D;
      const z = fusedAttention(this.query.forward(x2), this.key.forward(x2), this.value.forward(x2), tf.reshape(mask, [B, L]) as tf.Tensor2D, nh, d ** -0.5);
      return { context: tf.reshape(z, [B, L, H]) };
    }
    // [B, L, H] → [B, L, heads, d] (the hook's view) → [B, heads, L, d]
    const heads = (proj: Linear, point: HookPoint): tf.Tensor4D =>
      tf.transpose(point.run(tf.reshape(proj.forward(x), [B, L, nh, d]) as tf.Tensor4D, hooks), [0, 2, 1, 3]);
    const [qh, kh, vh] = [heads(this.query, this.hookQ), heads(this.key, this.hookK), heads(this.value, this.hookV)];
    // torch multiplies by the Python float d^-½, which it rounds to float32 first, as tf.mul does.
    // The [B, heads, L, L] temporaries are freed as soon as the next one exists: at 32 × 512 tokens each is
    // 400 MB, and wasm32's heap ends at 4 GiB.
    const raw = tf.matMul(qh, kh, false, true);
    const scaled = tf.mul(raw, d ** -0.5);
    raw.dispose();
    const masked = tf.add(scaled, mask) as tf.Tensor4D;
    scaled.dispose();
    const scores = this.hookAttnScores.run(masked, hooks);
    const probs = this.hookPattern.run(tf.softmax(scores), hooks); // [B, heads, L, L]
    if (scores !== probs) scores.dispose();
    if (masked !== scores && masked !== probs) masked.dispose();
    const z = this.hookZ.run(tf.transpose(tf.matMul(probs, vh), [0, 2, 1, 3]), hooks); // [B, L, heads, d]
    return { context: tf.reshape(z, [B, L, H]), probs };
  }

  dispose(): void {
    this.query.dispose();
    this.key.dispose();
    this.value.dispose();
  }
}
