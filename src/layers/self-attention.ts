// BertSelfAttention (modeling_bert.py, eager attention): Q, K, V projections, scores = Q·Kᵀ · d^-½ +
// additive mask, softmax over keys, probabilities · V, heads merged. The attention itself is one backend op
// (fused where nothing needs the scores or probabilities).
// Q, K and V are three matmuls where the backend has no use for one: on tfjs-wasm one fused [H, 3H] matmul is no
// faster (docs/benchmarks.md) and its output must then be split, a strided copy of 3·B·L·H floats. On tensorflow and
// on webgpu with our programs (`qkvProjectionIsOneKernel`) they are one [H, 3H] Linear, whose output the one-kernel
// attention reads in place (a hook on Q, K or V, or a gradient, gets the three cut from that output); `query`, `key`
// and `value` are cut from its weight only when read.
import * as tf from '@tensorflow/tfjs-core';
import {
  attention,
  qkvAttention,
  qkvAttentionApplies,
  qkvAttentionRows,
  qkvAttentionRowsApplies,
  qkvProjectionIsOneKernel,
} from '../backend/kernels.js';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { Hidden, HookPoint, HookRun, HookScope } from './hook.js';
import { Linear } from './linear.js';

const PROJECTIONS = ['query', 'key', 'value'] as const;

export class BertSelfAttention {
  /** query, key, value: loaded as three, or cut from `qkv` when first read (then the model's, disposed with it). */
  private separate?: [Linear, Linear, Linear];

  private constructor(
    /** The three projections side by side ([H, 3H]) where the backend runs them as one; else undefined. */
    private readonly qkv: Linear | undefined,
    separate: [Linear, Linear, Linear] | undefined,
    readonly numHeads: number,
    readonly headDim: number,
    readonly hookQ: HookPoint,
    readonly hookK: HookPoint,
    readonly hookV: HookPoint,
    readonly hookAttnScores: HookPoint,
    readonly hookPattern: HookPoint,
    readonly hookZ: HookPoint,
  ) {
    this.separate = separate;
  }

  /** `w`: `encoder.layer.{i}.attention.self`; `hp`: `blocks.{i}.attn`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertSelfAttention {
    const H = c.hiddenSize;
    const scopes = PROJECTIONS.map((name) => w.scope(name));
    const one = qkvProjectionIsOneKernel(H / c.numAttentionHeads);
    return new BertSelfAttention(
      one ? Linear.loadConcatenated(scopes, H, H) : undefined,
      one ? undefined : (scopes.map((s) => Linear.load(s, H, H)) as [Linear, Linear, Linear]),
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

  /** `attention.self.query`: weight [H, H] as [in, out], bias [H]. */
  get query(): Linear {
    return this.projections()[0];
  }

  /** `attention.self.key`. */
  get key(): Linear {
    return this.projections()[1];
  }

  /** `attention.self.value`. */
  get value(): Linear {
    return this.projections()[2];
  }

  private projections(): [Linear, Linear, Linear] {
    this.separate ??= [0, 1, 2].map((i) => this.qkv!.columns(i, 3)) as [Linear, Linear, Linear];
    return this.separate;
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
    const opts = {
      scale: this.headDim ** -0.5,
      needProbs: hooks !== undefined && (hooks.wants(this.hookAttnScores) || hooks.wants(this.hookPattern)),
      onScores: (t: tf.Tensor4D) => this.hookAttnScores.run(t, hooks),
      onProbs: (t: tf.Tensor4D) => this.hookPattern.run(t, hooks),
    };
    const shape = [B, L, this.numHeads, this.headDim] as const;
    let q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D;
    if (this.qkv) {
      const both = this.qkv.forward(rows); // [B·L, 3H]: Q's columns, K's, V's
      const hooksOnQkv = hooks !== undefined && [this.hookQ, this.hookK, this.hookV].some((p) => hooks.wants(p));
      // Three column slices rather than one split: Slice has a gradient wherever a model runs
      // (src/backend/gradients.ts), and 2-D slices run on every backend (tfjs-webgpu compiles no rank-5 programs).
      const cut = () =>
        [0, 1, 2].map((i) => tf.reshape(tf.slice(both, [0, i * H], [B * L, H]), [...shape]) as tf.Tensor4D) as [
          tf.Tensor4D,
          tf.Tensor4D,
          tf.Tensor4D,
        ];
      if (qkvAttentionRowsApplies(this.headDim, opts.needProbs)) {
        // The whole attention as one kernel, to the heads merged as rows, with or without hooks, so that what a
        // hook reads never changes the arithmetic after it. Hooks on Q, K or V see the three cut from the product,
        // and what they return goes back side by side.
        let packed = both;
        if (hooksOnQkv) {
          const [hq, hk, hv] = cut().map((t, i) => [this.hookQ, this.hookK, this.hookV][i]!.run(t, hooks));
          packed = tf.concat(
            [hq!, hk!, hv!].map((t) => tf.reshape(t, [B * L, H]) as tf.Tensor2D),
            1,
          );
        }
        if (opts.needProbs) {
          // The kernel makes no probabilities: TensorFlow's ops make them for the hooks (and HF's `attentions`);
          // only where a hook replaces the scores or the probabilities does z come from those ops.
          let replaced = false;
          const tap = (hook: HookPoint) => (t: tf.Tensor4D) => {
            const out = hook.run(t, hooks);
            replaced ||= out !== t;
            return out;
          };
          const taps = { ...opts, onScores: tap(this.hookAttnScores), onProbs: tap(this.hookPattern) };
          const { z: viaOps } = qkvAttention(packed, shape, mask, taps);
          if (replaced) return tf.reshape(this.hookZ.run(viaOps, hooks), x.shape) as T;
        }
        const z = qkvAttentionRows(packed, this.numHeads, mask, opts.scale);
        if (!hooks?.wants(this.hookZ)) return (x.rank === 2 ? z : tf.reshape(z, x.shape)) as T;
        return tf.reshape(this.hookZ.run(tf.reshape(z, [...shape]) as tf.Tensor4D, hooks), x.shape) as T;
      }
      if (!hooksOnQkv && qkvAttentionApplies()) {
        const { z } = qkvAttention(both, shape, mask, opts);
        return tf.reshape(this.hookZ.run(z, hooks), x.shape) as T;
      }
      // A hook on Q, K or V, or a gradient: the three as the separate projections give them.
      [q, k, v] = cut();
    } else {
      const [query, key, value] = this.projections();
      [q, k, v] = [query, key, value].map((proj) => tf.reshape(proj.forward(rows), [...shape]) as tf.Tensor4D) as [
        tf.Tensor4D,
        tf.Tensor4D,
        tf.Tensor4D,
      ];
    }
    [q, k, v] = [this.hookQ.run(q, hooks), this.hookK.run(k, hooks), this.hookV.run(v, hooks)];
    const { z } = attention(q, k, v, mask, opts);
    return tf.reshape(this.hookZ.run(z, hooks), x.shape) as T;
  }

  dispose(): void {
    this.qkv?.dispose();
    for (const p of this.separate ?? []) p.dispose();
  }
}
