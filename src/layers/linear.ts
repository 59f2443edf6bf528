// nn.Linear (https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py)
// with its weight stored pre-transposed as [in, out]: tfjs-wasm's matmul (XNNPACK) runs ~10× slower with
// `transposeB`, and on 3-D inputs, so the input is flattened to [rows, in] and multiplied once, bias fused. In the
// encoder's tensorflow workers the weight stays HF's [out, in] (`linearWeightsOutIn`): as fast there, and load
// skips the transpose.
import * as tf from '@tensorflow/tfjs-core';
import {
  type DenseActivation,
  linear,
  linearAdd,
  linearAddOutIn,
  linearOutIn,
  linearWeightsOutIn,
} from '../backend/kernels.js';
import type { Weights } from '../loader/weights.js';

/**
 * HF `[out, in]` → row-major `[in, out]`, in 32 × 32 tiles: a row at a time writes every element to another cache
 * line, and BERT-base's 72 weights took ≈ 0.7 s of the load that way (0.3 s tiled).
 */
export function transposeRowMajor(
  data: Float32Array,
  rows: number,
  cols: number,
  /** Written at out[c · stride + offset + r] (default: a new [cols, rows]); a block of a wider matrix. */
  into: { out: Float32Array; stride: number; offset: number } = {
    out: new Float32Array(rows * cols),
    stride: rows,
    offset: 0,
  },
): Float32Array {
  const { out, stride, offset } = into;
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(c0 + T, cols);
      for (let r = r0; r < r1; r++) {
        const src = r * cols;
        for (let c = c0; c < c1; c++) out[c * stride + offset + r] = data[src + c]!;
      }
    }
  }
  return out;
}

/** How a Linear keeps its weight: transposed as [in, out], or as HF's [out, in] (`linearWeightsOutIn`). */
export type LinearLayout = 'in-out' | 'out-in';

export class Linear {
  /** [in, out]: the weight as loaded, or made from `outIn` on first read. */
  private inOut?: tf.Tensor2D;
  /** [out, in]: the weight as loaded, or made from `inOut` on the first backward pass that needs it. */
  private outIn?: tf.Tensor2D;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(
    /** [in, out], or [out, in] with layout `out-in` */
    weight: tf.Tensor2D,
    /** [out] */
    readonly bias: tf.Tensor1D,
    readonly layout: LinearLayout = 'in-out',
  ) {
    const [rows, cols] = weight.shape;
    if (layout === 'in-out') [this.inOut, this.inFeatures, this.outFeatures] = [weight, rows, cols];
    else [this.outIn, this.inFeatures, this.outFeatures] = [weight, cols, rows];
  }

  /**
   * The weight as [in, out] (HF's transposed). Where the layer keeps HF's [out, in] (tensorflow) it is made on
   * first read and kept with the layer.
   */
  get weight(): tf.Tensor2D {
    // Kept: a lazy read may run inside a tidy.
    return (this.inOut ??= tf.keep(tf.transpose(this.outIn!)));
  }

  /** `w` holds HF's `weight` [out, in] and `bias` [out]. */
  static load(w: Weights, inFeatures: number, outFeatures: number): Linear {
    const hf = w.get('weight', [outFeatures, inFeatures]).data;
    const bias = tf.tensor1d(w.get('bias', [outFeatures]).data);
    if (linearWeightsOutIn()) return new Linear(tf.tensor2d(hf, [outFeatures, inFeatures]), bias, 'out-in');
    const weight = transposeRowMajor(hf, outFeatures, inFeatures);
    return new Linear(tf.tensor2d(weight, [inFeatures, outFeatures]), bias);
  }

  /**
   * Several nn.Linear of the same input side by side as one: `ws[i]` holds HF's `weight` [out, in] and `bias`
   * [out] → one Linear of n·out outputs (the i-th layer's at i·out) and bias [n·out]. Each output column is its
   * layer's, computed from the same input row.
   */
  static loadConcatenated(ws: readonly Weights[], inFeatures: number, outFeatures: number): Linear {
    const width = ws.length * outFeatures;
    const weight = new Float32Array(inFeatures * width);
    const bias = new Float32Array(width);
    const outIn = linearWeightsOutIn();
    ws.forEach((w, i) => {
      const hf = w.get('weight', [outFeatures, inFeatures]).data;
      // [out, in] layouts stack: the i-th layer's rows at i·out; [in, out] ones sit side by side.
      if (outIn) weight.set(hf, i * outFeatures * inFeatures);
      else transposeRowMajor(hf, outFeatures, inFeatures, { out: weight, stride: width, offset: i * outFeatures });
      bias.set(w.get('bias', [outFeatures]).data, i * outFeatures);
    });
    const shape: [number, number] = outIn ? [width, inFeatures] : [inFeatures, width];
    return new Linear(tf.tensor2d(weight, shape), tf.tensor1d(bias), outIn ? 'out-in' : 'in-out');
  }

  /** The i-th of `n` equal blocks of outputs as a Linear of its own (new tensors: the caller disposes it). */
  columns(i: number, n: number): Linear {
    const width = this.outFeatures / n;
    // Kept: a lazy caller may run inside a tidy.
    const bias = tf.keep(tf.slice(this.bias, [i * width], [width]));
    if (this.outIn && this.layout === 'out-in')
      return new Linear(tf.keep(tf.slice(this.outIn, [i * width, 0], [width, this.inFeatures])), bias, 'out-in');
    return new Linear(tf.keep(tf.slice(this.weight, [0, i * width], [this.inFeatures, width])), bias);
  }

  /** [..., in] → [..., out], then `activation` (fused with the matmul where the kernel allows). */
  forward<T extends tf.Tensor>(x: T, activation: DenseActivation = 'linear'): T {
    // A matrix goes in and comes out as it is: on tfjs-node each reshape is an op of its own.
    if (x.rank === 2) return this.forward2d(x as tf.Tensor as tf.Tensor2D, activation) as tf.Tensor as T;
    const shape = x.shape;
    const rows = x.size / this.inFeatures;
    const y = this.forward2d(tf.reshape(x, [rows, this.inFeatures]) as tf.Tensor2D, activation);
    return tf.reshape(y, [...shape.slice(0, -1), this.outFeatures]) as tf.Tensor as T;
  }

  /** x · w + b + residual: x [..., in], residual [..., out] → residual's shape (one kernel where the backend has it). */
  forwardAdding<T extends tf.Tensor>(x: T, residual: T): T {
    if (x.rank === 2)
      return this.adding2d(x as tf.Tensor as tf.Tensor2D, residual as tf.Tensor as tf.Tensor2D) as tf.Tensor as T;
    return tf.tidy(() => {
      const rows = (t: tf.Tensor, n: number) => tf.reshape(t, [t.size / n, n]) as tf.Tensor2D;
      const y = this.adding2d(rows(x, this.inFeatures), rows(residual, this.outFeatures));
      return tf.reshape(y, residual.shape) as tf.Tensor as T;
    });
  }

  /** The weight as [out, in]: as loaded, or transposed on first use (a backward pass's dy · wᵀ). */
  private readonly transposedWeight = () => (this.outIn ??= tf.keep(tf.transpose(this.weight)));
  private readonly weightInOut = () => this.weight;

  private forward2d(x: tf.Tensor2D, activation: DenseActivation): tf.Tensor2D {
    if (this.layout === 'out-in')
      return linearOutIn(x, this.transposedWeight(), this.bias, activation, this.weightInOut);
    return linear(x, this.weight, this.bias, activation, this.transposedWeight);
  }

  private adding2d(x: tf.Tensor2D, residual: tf.Tensor2D): tf.Tensor2D {
    if (this.layout === 'out-in')
      return linearAddOutIn(x, this.transposedWeight(), this.bias, residual, this.weightInOut);
    return linearAdd(x, this.weight, this.bias, residual, this.transposedWeight);
  }

  dispose(): void {
    this.inOut?.dispose();
    this.outIn?.dispose();
    this.bias.dispose();
  }
}
