// nn.LayerNorm over the last axis, as torch computes it: biased variance, eps inside the square root.
import * as tf from '@tensorflow/tfjs-core';
import type { Weights } from '../loader/weights.js';

export class LayerNorm {
  constructor(
    readonly weight: tf.Tensor1D,
    readonly bias: tf.Tensor1D,
    readonly eps: number,
  ) {}

  static load(w: Weights, size: number, eps: number): LayerNorm {
    return new LayerNorm(tf.tensor1d(w.get('weight', [size]).data), tf.tensor1d(w.get('bias', [size]).data), eps);
  }

  forward<R extends tf.Rank>(x: tf.Tensor<R>): tf.Tensor<R> {
    // A tidy of its own: the four [tokens, hidden] temporaries go as soon as the output exists.
    return tf.tidy(() => {
      const axis = x.rank - 1;
      const mean = tf.mean(x, axis, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), axis, true);
      const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normed, this.weight), this.bias);
    });
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}
