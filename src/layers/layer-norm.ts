// nn.LayerNorm over the last axis, as torch computes it: biased variance, eps inside the square root.
// On webgpu (unless SBERT_WEBGPU_MATMUL=tfjs) the residual add and the whole norm run as one program
// (src/backend/webgpu/layer-norm.ts); elsewhere as tfjs ops.
import * as tf from '@tensorflow/tfjs-core';
import { fusedLayerNorm, fusedLayerNormApplies } from '../backend/webgpu/layer-norm.js';
import { layerNormComposite } from '../ops/layer-norm.js';
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

  /** LayerNorm(x), or LayerNorm(x + residual) (same shape). */
  forward<R extends tf.Rank>(x: tf.Tensor<R>, residual?: tf.Tensor<R>): tf.Tensor<R> {
    if (fusedLayerNormApplies()) {
      const size = this.weight.shape[0];
      return tf.tidy(() => {
        const flat = (t: tf.Tensor) => tf.reshape(t, [-1, size]) as tf.Tensor2D;
        const y = fusedLayerNorm(flat(x), residual && flat(residual), this.weight, this.bias, this.eps);
        return tf.reshape(y, x.shape) as tf.Tensor<R>;
      });
    }
    if (!residual) return layerNormComposite(x, this.weight, this.bias, this.eps);
    return tf.tidy(() => layerNormComposite(tf.add(x, residual) as tf.Tensor<R>, this.weight, this.bias, this.eps));
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}
