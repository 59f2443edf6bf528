// The heavy ops of a BERT forward as the layers call them: Linear, LayerNorm (with its residual add) and
// attention. Each picks its kernel here, per call: our WGSL program (src/backend/webgpu/) where the webgpu backend
// runs, our kernels are allowed (SBERT_WEBGPU_MATMUL not `tfjs`) and the program passed its check on this device;
// our BLAS and SIMD kernels (src/backend/blas/) where the wasm backend runs on a system BLAS; on tfjs-node, tfjs
// ops shaped for it (src/backend/tensorflow-kernels.ts); else tfjs ops (src/ops). While a gradient is recorded,
// always tfjs's plain ops (for-gradients.ts): only they have gradients. Model code never chooses a kernel.
import * as tf from '@tensorflow/tfjs-core';
import { gelu as geluOps, geluTanh } from '../ops/activations.js';
import { type AttentionTap, attentionComposite } from '../ops/attention.js';
import { layerNormComposite } from '../ops/layer-norm.js';
import { blasAttention, blasAttentionApplies, blasAttentionKeeping } from './blas/wasm-attention.js';
import { wasmElementwiseApplies, wasmGelu, wasmLayerNorm, wasmLayerNormKeepingSum } from './blas/wasm-elementwise.js';
import { blasLinear, blasLinearApplies } from './blas/wasm-matmul.js';
import { layerNormForGradients, linearForGradients } from './for-gradients.js';
import { registerGradients } from './gradients.js';
import {
  fusedOps,
  tensorflowAttention,
  tensorflowAttentionApplies,
  tensorflowLayerNorm,
  tensorflowLayerNormApplies,
  tensorflowLinear,
  tensorflowLinearAdd,
  tensorflowLinearAddApplies,
  tensorflowLinearApplies,
  tensorflowAttentionRows,
  tensorflowAttentionRowsApplies,
  tensorflowQkvApplies,
  tensorflowQkvAttention,
} from './tensorflow-kernels.js';
import { fusedAttention, fusedAttentionApplies, fusedQkvAttention } from './webgpu/attention.js';
import { fusedLayerNorm, fusedLayerNormApplies } from './webgpu/layer-norm.js';
import { tiledLinear } from './webgpu/linear.js';
import { maskValues, maskValuesApply } from './webgpu/mask.js';
import type { LinearActivation } from './webgpu/linear-wgsl.js';
import { tiledLinearApplies } from './webgpu/matmul-choice.js';

export type { AttentionTap, LinearActivation };

/**
 * What a Linear layer may apply after its bias: LinearActivation (every backend's epilogues), or `gelu_tanh`
 * (HF's gelu_new / gelu_pytorch_tanh), in the epilogue on tensorflow with oneDNN's ops, else tfjs ops after it.
 */
export type DenseActivation = LinearActivation | 'gelu_tanh';

// tfjs-core's Node build has no gradient functions; the model's kernels get theirs wherever a model can run.
registerGradients();

/**
 * True while tfjs records a gradient (inside `tf.grad`, `tf.valueAndGrad`, `tf.variableGrads`, ...). Our WGSL
 * programs, BLAS and SIMD kernels have no gradient functions, and tfjs's fused matmul has them only for some
 * epilogues, so then every op here runs as plain tfjs ops (matMul, add, erf, ...) with known gradients.
 */
export function recordingGradients(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

/**
 * activation(x · w + b), HF's nn.Linear (+ ACT2FN for ReLU / exact GELU / tanh GELU). x: [rows, in]; w: [in, out] (HF's weight
 * transposed); b: [out] → [rows, out]. On the tiled webgpu program and on the wasm backend's BLAS the activation
 * runs in the epilogue; elsewhere ReLU rides in tfjs's fused matmul (exact: it only clamps) and GELU follows as
 * tfjs ops. `transposedWeight` gives w as [out, in] for the backward pass while a gradient is recorded.
 */
export function linear(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: DenseActivation = 'linear',
  transposedWeight?: () => tf.Tensor2D,
): tf.Tensor2D {
  if (activation === 'gelu_tanh') {
    if (!recordingGradients() && tensorflowLinearApplies() && fusedOps().linear)
      return tensorflowLinear(x, w, b, activation);
    return tf.tidy(() => geluTanh(linear(x, w, b, 'linear', transposedWeight)));
  }
  const [inFeatures, outFeatures] = w.shape;
  if (recordingGradients()) return linearForGradients(x, w, b, activation, transposedWeight);
  if (tiledLinearApplies(inFeatures, outFeatures)) return tiledLinear(x, w, b, activation);
  if (blasLinearApplies()) return blasLinear(x, w, b, activation);
  if (tensorflowLinearApplies()) return tensorflowLinear(x, w, b, activation);
  if (activation === 'gelu') return tf.tidy(() => geluOps(tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D));
  return tf.fused.matMul({ a: x, b: w, bias: b, activation }) as tf.Tensor2D;
}

let outInAsked = false;

/**
 * Asks Linear layers loaded from now on in this thread to keep HF's [out, in] weights where the backend takes them
 * as they are (`linearWeightsOutIn`). The encoder's pool workers ask: they then load without a transpose (a pool
 * of 2 starts 0.3–0.7 s sooner). Where our SbertLinear op runs, every thread keeps them, asked or not: it packs
 * either layout as fast, and the load skips ≈ 0.7 s of transposes on BERT-base (docs/tensorflow.md). oneDNN's
 * fused matmul alone ran a forward on two threads 0–5 % slower with them, so there only the workers ask.
 */
export function preferLinearWeightsOutIn(on: boolean): void {
  outInAsked = on;
}

/**
 * Whether a Linear layer loaded now keeps HF's [out, in] weight and calls `linearOutIn` / `linearAddOutIn`: on
 * tensorflow with our kernels, where our SbertLinear op runs, or where asked for (`preferLinearWeightsOutIn`) and
 * oneDNN's fused matmuls with transpose_b were checked at start-up (`fusedOps().outIn`).
 */
export function linearWeightsOutIn(): boolean {
  const ops = fusedOps();
  return tensorflowLinearApplies() && (ops.sbertLinear || (outInAsked && ops.outIn));
}

/**
 * `linear` with the weight as HF keeps it: x [rows, in]; wOutIn [out, in]; b [out] → [rows, out]. Where
 * `linearWeightsOutIn` no longer holds (a gradient recorded, another backend since load), `linear` on the
 * [in, out] weight that `weightInOut` gives.
 */
export function linearOutIn(
  x: tf.Tensor2D,
  wOutIn: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: DenseActivation,
  weightInOut: () => tf.Tensor2D,
): tf.Tensor2D {
  if (!recordingGradients() && tensorflowLinearApplies()) return tensorflowLinear(x, wOutIn, b, activation, true);
  return linear(x, weightInOut(), b, activation, () => wOutIn);
}

/** `linearAdd` with the weight as HF keeps it ([out, in]; `linearOutIn`). */
export function linearAddOutIn(
  x: tf.Tensor2D,
  wOutIn: tf.Tensor2D,
  b: tf.Tensor1D,
  residual: tf.Tensor2D,
  weightInOut: () => tf.Tensor2D,
): tf.Tensor2D {
  if (linearAddIsOneKernel()) return tensorflowLinearAdd(x, wOutIn, b, residual, true);
  return tf.tidy(() => tf.add(linearOutIn(x, wOutIn, b, 'linear', weightInOut), residual));
}

/**
 * Whether `linearAdd` is one kernel (tensorflow's oneDNN matmul with the add in its epilogue). Elsewhere a layer
 * does better to leave the residual add to `layerNorm`, which fuses it on wasm + BLAS and webgpu.
 */
export function linearAddIsOneKernel(): boolean {
  return !recordingGradients() && tensorflowLinearAddApplies();
}

/**
 * x · w + b + residual (HF's nn.Linear, then the residual add of BertSelfOutput / BertOutput): one kernel where
 * `linearAddIsOneKernel`, else `linear` then an add. x: [rows, in]; w: [in, out]; b: [out]; residual: [rows, out].
 */
export function linearAdd(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  residual: tf.Tensor2D,
  transposedWeight?: () => tf.Tensor2D,
): tf.Tensor2D {
  if (linearAddIsOneKernel()) return tensorflowLinearAdd(x, w, b, residual);
  return tf.tidy(() => tf.add(linear(x, w, b, 'linear', transposedWeight), residual));
}

/** torch's LayerNorm(x + residual) over the last axis (x alone without a residual); any rank, same shape out. */
export function layerNorm<R extends tf.Rank>(
  x: tf.Tensor<R>,
  residual: tf.Tensor<R> | undefined,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
): tf.Tensor<R> {
  if (recordingGradients()) return layerNormForGradients(x, residual, weight, bias, eps);
  if (fusedLayerNormApplies()) {
    const size = weight.shape[0];
    return tf.tidy(() => {
      // Rows pass as they are (a reshape is an op of its own, with its host cost, even to the same shape).
      const flat = (t: tf.Tensor) => (t.rank === 2 ? t : tf.reshape(t, [-1, size])) as tf.Tensor2D;
      const y = fusedLayerNorm(flat(x), residual && flat(residual), weight, bias, eps);
      return (x.rank === 2 ? y : tf.reshape(y, x.shape)) as tf.Tensor<R>;
    });
  }
  if (wasmElementwiseApplies()) return wasmLayerNorm(x, residual, weight, bias, eps);
  if (tensorflowLayerNormApplies()) return tensorflowLayerNorm(x, residual, weight, bias, eps);
  if (!residual) return layerNormComposite(x, weight, bias, eps);
  return tf.tidy(() => layerNormComposite(tf.add(x, residual) as tf.Tensor<R>, weight, bias, eps));
}

/** Whether layerNorm runs as one kernel (a fused program, ours on wasm + BLAS, oneDNN's) rather than as tfjs ops. */
export function layerNormIsOneKernel(): boolean {
  return !recordingGradients() && (fusedLayerNormApplies() || wasmElementwiseApplies() || tensorflowLayerNormApplies());
}

/**
 * Whether `linear` applies an activation inside a kernel whose arithmetic differs in the last bits from the
 * activation run on its own (`gelu` below, or src/ops): tensorflow's oneDNN epilogues. A hook on the
 * pre-activation then changes the result by float32 rounding (the activation runs apart).
 */
export function linearEpilogueIsOneKernel(): boolean {
  return !recordingGradients() && tensorflowLinearApplies() && fusedOps().linear;
}

/**
 * [x + residual, LayerNorm(x + residual)], for a hook that reads the sum: where the norm is our wasm kernel, that
 * one kernel gives both, so reading the sum costs no kernel; elsewhere the add, then layerNorm.
 */
export function layerNormKeepingSum<R extends tf.Rank>(
  x: tf.Tensor<R>,
  residual: tf.Tensor<R>,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
): [tf.Tensor<R>, tf.Tensor<R>] {
  if (wasmElementwiseApplies()) return wasmLayerNormKeepingSum(x, residual, weight, bias, eps);
  const sum = tf.add(x, residual) as tf.Tensor<R>;
  return [sum, layerNorm(sum, undefined, weight, bias, eps)];
}

/** torch's exact GELU (x·Φ(x)): on wasm + BLAS the same kernel as the Linear's epilogue, else tfjs ops. */
export function gelu<T extends tf.Tensor>(x: T): T {
  return wasmElementwiseApplies() ? wasmGelu(x) : geluOps(x);
}

export interface AttentionOptions {
  /** Multiplies Q·Kᵀ (HF: d_head^-½). */
  scale: number;
  /** The caller needs the scores or probabilities (returned, and passed to the taps); false lets a fused program run. */
  needProbs: boolean;
  /** Called on the masked, scaled scores [B, heads, L, L] before softmax when the probabilities are made. */
  onScores?: AttentionTap;
  /** Called on the probabilities [B, heads, L, L] when they are made. */
  onProbs?: AttentionTap;
}

/**
 * softmax(q·kᵀ · scale + mask) · v per head (HF's eager attention). q, k, v: [B, L, heads, d]; mask: additive
 * [B, 1, 1, L] (0, or float32's min on padding) → z [B, L, heads, d], and the probabilities [B, heads, L, L] when
 * `needProbs`. Without `needProbs` it runs as one fused program where that applies (webgpu, heads of 4·n ≤ 128; the
 * wasm backend on a BLAS).
 */
export function attention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor4D,
  opts: AttentionOptions,
): { z: tf.Tensor4D; probs?: tf.Tensor4D } {
  const [, , heads, d] = q.shape;
  if (!opts.needProbs && !recordingGradients() && fusedAttentionApplies(d)) {
    return tf.tidy(() => ({
      z: splitHeads(fusedAttention(...mergedHeads(q, k, v, mask), heads, opts.scale), q.shape),
    }));
  }
  if (blasAttentionApplies()) return blasAttentionTapped(q, k, v, mask, opts);
  if (!recordingGradients() && tensorflowAttentionApplies())
    return tensorflowAttention(q, k, v, mask, opts.scale, opts.onScores, opts.onProbs);
  return attentionComposite(q, k, v, mask, opts.scale, opts.onScores, opts.onProbs);
}

/**
 * An int32 attention mask (1 = token, 0 = padding; any shape) as float32 of the same shape: `on` where mask > 0,
 * else `off` (pooling's 1/0, BertModel's additive 0/float32 min). One program on webgpu (src/backend/webgpu/mask.ts),
 * else tfjs's where (never a cast: tfjs-webgpu's int32 → float32 cast only relabels the buffer).
 */
export function maskFloats<T extends tf.Tensor>(mask: T, on: number, off: number): T {
  if (!recordingGradients() && maskValuesApply()) return maskValues(mask, on, off);
  return tf.tidy(
    () => tf.where(tf.greater(mask, 0), tf.fill(mask.shape, on, 'float32'), tf.fill(mask.shape, off, 'float32')) as T,
  );
}

/**
 * Whether a self-attention with heads `headDim` wide does better with Q, K and V from one Linear of the three
 * weights side by side ([H, 3H]): tensorflow with our kernels (one matmul and one transpose where the separate
 * projections take three of each), and webgpu with our programs (one dispatch instead of three, and a product
 * three times as wide, which fills a big GPU at small batches; the fused attention reads Q, K, V in place). A
 * backend state, asked once at load; each call still asks `qkvAttentionRowsApplies` / `qkvAttentionApplies`.
 */
export function qkvProjectionIsOneKernel(headDim: number): boolean {
  return tensorflowQkvApplies() || fusedAttentionApplies(headDim);
}

/**
 * Whether `qkvAttentionRows` runs now for heads `headDim` wide, no gradient recorded: tensorflow with our
 * SbertAttention op (which leaves `needProbs` to the caller: TensorFlow's ops make the probabilities beside it),
 * or webgpu's fused program where nothing needs the probabilities (`needProbs` false).
 */
export function qkvAttentionRowsApplies(headDim: number, needProbs: boolean): boolean {
  if (recordingGradients()) return false;
  return tensorflowAttentionRowsApplies(headDim) || (!needProbs && fusedAttentionApplies(headDim));
}

/**
 * `qkvAttention` to the heads merged, as one kernel: qkv [B·L, 3·heads·d], mask [B, 1, 1, L] → z as rows
 * [B·L, heads·d]. No probabilities. Only where `qkvAttentionRowsApplies`.
 */
export function qkvAttentionRows(qkv: tf.Tensor2D, heads: number, mask: tf.Tensor4D, scale: number): tf.Tensor2D {
  if (tensorflowAttentionRowsApplies(qkv.shape[1] / 3 / heads)) return tensorflowAttentionRows(qkv, heads, mask, scale);
  return fusedQkvAttention(qkv, mask, heads, scale);
}

/** Whether `qkvAttention` runs now (not while a gradient is recorded). */
export function qkvAttentionApplies(): boolean {
  return !recordingGradients() && tensorflowQkvApplies();
}

/**
 * `attention` from one projection's Q, K, V side by side: qkv [B·L, 3·heads·d] (Q's columns, K's, V's), `shape`
 * [B, L, heads, d] → z [B, L, heads, d] and the probabilities [B, heads, L, L] (always made; the taps as
 * `attention`'s). Only where `qkvAttentionApplies`.
 */
export function qkvAttention(
  qkv: tf.Tensor2D,
  shape: readonly [number, number, number, number],
  mask: tf.Tensor4D,
  opts: AttentionOptions,
): { z: tf.Tensor4D; probs?: tf.Tensor4D } {
  return tensorflowQkvAttention(qkv, shape, mask, opts.scale, opts.onScores, opts.onProbs);
}

/**
 * q, k, v [B, L, heads, d] and the mask [B, 1, 1, L] as the one-kernel attention programs take them: [B·L,
 * heads·d] (heads side by side; a view) and [B, L].
 */
function mergedHeads(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor4D,
): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const [B, L, heads, d] = q.shape;
  const flat = (t: tf.Tensor4D) => tf.reshape(t, [B * L, heads * d]) as tf.Tensor2D;
  return [flat(q), flat(k), flat(v), tf.reshape(mask, [B, L]) as tf.Tensor2D];
}

/** A one-kernel attention's z [B·L, heads·d] back as [B, L, heads, d] (`shape`). */
const splitHeads = (z: tf.Tensor2D, shape: [number, number, number, number]): tf.Tensor4D =>
  tf.reshape(z, shape) as tf.Tensor4D;

/**
 * attention() on the wasm backend's BLAS: one kernel; where the probabilities are wanted, the same kernel keeps
 * the scores and probabilities it computed, so a hook that only reads them leaves z bit for bit as without it.
 * A tap that replaces one continues from the replacement with tfjs ops (softmax, P·V); each tap runs once.
 */
function blasAttentionTapped(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor4D,
  opts: AttentionOptions,
): { z: tf.Tensor4D; probs?: tf.Tensor4D } {
  const heads = q.shape[2];
  if (!opts.needProbs)
    return tf.tidy(() => ({ z: splitHeads(blasAttention(...mergedHeads(q, k, v, mask), heads, opts.scale), q.shape) }));
  const kept = tf.tidy(() => {
    const r = blasAttentionKeeping(...mergedHeads(q, k, v, mask), heads, opts.scale);
    return { ...r, z: splitHeads(r.z, q.shape) };
  });
  const scores = opts.onScores ? opts.onScores(kept.scores) : kept.scores;
  const softmaxed = scores === kept.scores ? kept.probs : (tf.softmax(scores) as tf.Tensor4D);
  const probs = opts.onProbs ? opts.onProbs(softmaxed) : softmaxed;
  const drop = (ts: tf.Tensor[]) => {
    for (const t of new Set(ts)) if (t !== probs && !t.isDisposed) t.dispose();
  };
  if (probs === kept.probs) {
    drop([kept.scores, scores]);
    return { z: kept.z, probs };
  }
  // A replacement: P·V from it, as attentionComposite computes it.
  const z = tf.tidy(() => tf.transpose(tf.matMul(probs, tf.transpose(v, [0, 2, 1, 3])), [0, 2, 1, 3])) as tf.Tensor4D;
  drop([kept.z, kept.scores, kept.probs, scores, softmaxed]);
  return { z, probs };
}
