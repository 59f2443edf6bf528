// nn.Linear (https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py)
// with its weight stored pre-transposed as [in, out]: tfjs-wasm's matmul (XNNPACK) runs ~10× slower with
// `transposeB`, and on 3-D inputs, so the input is flattened to [rows, in] and multiplied once, bias fused.
import * as tf from '@tensorflow/tfjs-core';
import { type DenseActivation, linear, linearAdd } from '../backend/kernels.js';
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

export class Linear {
  /** The weight as [out, in], made on the first backward pass that needs it (gradients only). */
  private transposed?: tf.Tensor2D;

  constructor(
    /** [in, out] */
    readonly weight: tf.Tensor2D,
    /** [out] */
    readonly bias: tf.Tensor1D,
  ) {}

  get inFeatures(): number {
    return this.weight.shape[0];
  }

  get outFeatures(): number {
    return this.weight.shape[1];
  }

  /** `w` holds HF's `weight` [out, in] and `bias` [out]. */
  static load(w: Weights, inFeatures: number, outFeatures: number): Linear {
    const weight = transposeRowMajor(w.get('weight', [outFeatures, inFeatures]).data, outFeatures, inFeatures);
    return new Linear(tf.tensor2d(weight, [inFeatures, outFeatures]), tf.tensor1d(w.get('bias', [outFeatures]).data));
  }

  /**
   * Several nn.Linear of the same input side by side as one: `ws[i]` holds HF's `weight` [out, in] and `bias`
   * [out] → weight [in, n·out] (the i-th layer's columns at i·out) and bias [n·out]. Each output column is its
   * layer's, computed from the same input row.
   */
  static loadConcatenated(ws: readonly Weights[], inFeatures: number, outFeatures: number): Linear {
    const width = ws.length * outFeatures;
    const weight = new Float32Array(inFeatures * width);
    const bias = new Float32Array(width);
    ws.forEach((w, i) => {
      const into = { out: weight, stride: width, offset: i * outFeatures };
      transposeRowMajor(w.get('weight', [outFeatures, inFeatures]).data, outFeatures, inFeatures, into);
      bias.set(w.get('bias', [outFeatures]).data, i * outFeatures);
    });
    return new Linear(tf.tensor2d(weight, [inFeatures, width]), tf.tensor1d(bias));
  }

  /** The i-th of `n` equal column blocks as a Linear of its own (new tensors: the caller disposes it). */
  columns(i: number, n: number): Linear {
    const width = this.outFeatures / n;
    // Kept: a lazy caller may run inside a tidy.
    const weight = tf.keep(tf.slice(this.weight, [0, i * width], [this.inFeatures, width]));
    return new Linear(weight, tf.keep(tf.slice(this.bias, [i * width], [width])));
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
      return linearAdd(
        x as tf.Tensor as tf.Tensor2D,
        this.weight,
        this.bias,
        residual as tf.Tensor as tf.Tensor2D,
        this.transposedWeight,
      ) as tf.Tensor as T;
    return tf.tidy(() => {
      const rows = (t: tf.Tensor, n: number) => tf.reshape(t, [t.size / n, n]) as tf.Tensor2D;
      const y = linearAdd(
        rows(x, this.inFeatures),
        this.weight,
        this.bias,
        rows(residual, this.outFeatures),
        this.transposedWeight,
      );
      return tf.reshape(y, residual.shape) as tf.Tensor as T;
    });
  }

  private readonly transposedWeight = () => (this.transposed ??= tf.keep(tf.transpose(this.weight)));

  private forward2d(x: tf.Tensor2D, activation: DenseActivation): tf.Tensor2D {
    return linear(x, this.weight, this.bias, activation, this.transposedWeight);
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
    this.transposed?.dispose();
  }
}
