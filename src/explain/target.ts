// What an attribution explains: a scalar function of one sentence's embedding. The cosine similarity to another
// sentence's embedding (held fixed), the embedding's norm, or one of its dimensions (probing).
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import { l2Normalize, type PoolingMode, pool } from '../model/pooling.js';

/**
 * `{ cosine: v }`: cosine(embedding, v) (torch's `cosine_similarity`), v a fixed vector of the model's width;
 * `'norm'`: ‖pooled‖₂, before any Normalize module (after one it is always 1);
 * `{ dimension: k }`: component k of the embedding as `encode()` returns it (normalised if the model normalises).
 */
export type ExplainTarget = { cosine: ArrayLike<number> } | 'norm' | { dimension: number };

/** How a sentence becomes its embedding: the model's pooling and Normalize module. */
export interface Embedding {
  pooling: PoolingMode;
  normalize: boolean;
}

export function checkTarget(target: ExplainTarget, width: number): void {
  if (target === 'norm') return;
  if (typeof target === 'object' && target !== null && 'dimension' in target) {
    const k = target.dimension;
    if (!(Number.isInteger(k) && k >= 0 && k < width)) {
      throw new UsageError(`target dimension must be an integer in 0..${width - 1}, got ${k}`);
    }
    return;
  }
  if (typeof target === 'object' && target !== null && 'cosine' in target) {
    const v = target.cosine;
    if (v.length !== width)
      throw new UsageError(`target vector has ${v.length} values, the model's embeddings ${width}`);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) throw new UsageError(`target vector holds ${v[i]} at ${i}`);
    }
    return;
  }
  throw new UsageError(`unknown target ${JSON.stringify(target)} (use { cosine: vector }, 'norm' or { dimension: k })`);
}

/**
 * The target of each row of a batch: hidden [S, L, H], mask [S, L] → [S]. Made of tfjs ops with gradients,
 * so it may run under `tf.grad`.
 */
export function targetValues(hidden: tf.Tensor3D, mask: tf.Tensor2D, e: Embedding, target: ExplainTarget): tf.Tensor1D {
  return tf.tidy(() => {
    if (target === 'norm') return tf.norm(pool(hidden, mask, e.pooling), 'euclidean', 1) as tf.Tensor1D;
    const v = embeddings(hidden, mask, e);
    if ('dimension' in target) {
      const [S] = v.shape;
      return tf.reshape(tf.slice(v, [0, target.dimension], [S, 1]), [S]) as tf.Tensor1D;
    }
    // torch.nn.functional.cosine_similarity: x·y / max(‖x‖·‖y‖, 1e-8).
    const u = tf.tensor1d(Float32Array.from(target.cosine));
    const dot = tf.sum(tf.mul(v, u), 1);
    const norms = tf.mul(tf.norm(v, 'euclidean', 1), tf.norm(u));
    return tf.div(dot, tf.maximum(norms, 1e-8)) as tf.Tensor1D;
  });
}

/** The sentence embeddings as `encode()` makes them: hidden [S, L, H], mask [S, L] → [S, H]. */
export function embeddings(hidden: tf.Tensor3D, mask: tf.Tensor2D, e: Embedding): tf.Tensor2D {
  return tf.tidy(() => {
    const pooled = pool(hidden, mask, e.pooling);
    return e.normalize ? l2Normalize(pooled) : pooled;
  });
}
