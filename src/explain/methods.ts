// The attribution methods, on one sentence (batch 1, no padding) and one scalar target of its embedding:
// gradients with respect to the word-embedding rows (Simonyan et al. 2014), gradient × input (Shrikumar et al.
// 2016), integrated gradients (Sundararajan et al. 2017, midpoint Riemann sum batched over steps) and attention
// rollout (Abnar & Zuidema 2020). Definitions as ../shared/fixtures/tiny/grads.json states them.
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import type { BertInputs, BertModel } from '../model/bert.js';
import { gradients, wordEmbeddingRows } from '../model/gradients.js';
import { type Embedding, type ExplainTarget, targetValues } from './target.js';
import { checkSteps } from './options.js';

/** One tokenized sentence: ids with its special tokens, token types (zeros when absent). */
export interface SentenceIds {
  inputIds: readonly number[];
  tokenTypeIds?: readonly number[];
}

/** What the target is a function of: the model, how it pools, and the target. */
export interface Attributable {
  model: BertModel;
  embedding: Embedding;
  target: ExplainTarget;
}

/** The default number of integrated-gradients steps (grads.json's). */
export const DEFAULT_STEPS = 52;
/**
 * Tokens (steps × length) per forward-and-backward of integrated gradients: a backward pass holds every activation
 * and its gradient at once (docs/explain.md has the memory per token), and time per token hardly depends on it.
 */
const IG_TOKENS_PER_BATCH = 256;

/** S copies of the sentence as int32 [S, L] inputs (the caller disposes them). */
function batchOf(s: SentenceIds, S: number): BertInputs {
  const L = s.inputIds.length;
  const tile = (row: readonly number[]): tf.Tensor2D => {
    const data = new Int32Array(S * L);
    for (let i = 0; i < S; i++) data.set(row, i * L);
    return tf.tensor2d(data, [S, L], 'int32');
  };
  return {
    inputIds: tile(s.inputIds),
    attentionMask: tile(new Array<number>(L).fill(1)),
    tokenTypeIds: tile(s.tokenTypeIds ?? new Array<number>(L).fill(0)),
  };
}

/** The target of each row when the sentence's word-embedding rows are `rows` [S, L, H] → [S]. */
function targetAt(a: Attributable, s: SentenceIds, rows: tf.Tensor3D): tf.Tensor1D {
  const inputs = batchOf(s, rows.shape[0]);
  try {
    const { lastHiddenState } = a.model.forward(inputs, { inputsEmbeds: rows });
    return tf.tidy(() => targetValues(lastHiddenState, inputs.attentionMask, a.embedding, a.target));
  } finally {
    tf.dispose(inputs as unknown as tf.TensorContainerObject);
  }
}

/** The sentence's word-embedding rows [L, H] (float32, to dispose). */
function rowsOf(model: BertModel, ids: readonly number[]): tf.Tensor2D {
  return tf.tidy(() => {
    const t = tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32');
    return tf.squeeze(wordEmbeddingRows(model, t), [0]) as tf.Tensor2D;
  });
}

export interface GradientResult {
  /** The target at the sentence. */
  value: number;
  /** The word-embedding rows E, row-major [L, H]. */
  rows: Float32Array;
  /** d target / d E, row-major [L, H]. */
  grad: Float32Array;
}

/** d target / d (word-embedding rows) at the sentence: one forward and one backward of batch 1. */
export async function embeddingGradient(a: Attributable, s: SentenceIds): Promise<GradientResult> {
  const L = s.inputIds.length;
  const H = a.model.config.hiddenSize;
  const rows = rowsOf(a.model, s.inputIds);
  try {
    const { value, grads } = gradients(
      () => tf.sum(targetAt(a, s, tf.reshape(rows, [1, L, H]) as tf.Tensor3D)),
      [rows],
    );
    const grad = grads[0] ?? tf.zerosLike(rows);
    try {
      return {
        value: (await value.data())[0]!,
        rows: (await rows.data()) as Float32Array,
        grad: (await grad.data()) as Float32Array,
      };
    } finally {
      tf.dispose([value, grad]);
    }
  } finally {
    rows.dispose();
  }
}

/** Per token, Σ over the hidden axis of x · y ([L, H] row-major → [L]). */
export function rowDots(x: Float32Array, y: Float32Array, H: number): Float64Array {
  const out = new Float64Array(x.length / H);
  for (let t = 0; t < out.length; t++) {
    let d = 0;
    for (let h = t * H; h < (t + 1) * H; h++) d += x[h]! * y[h]!;
    out[t] = d;
  }
  return out;
}

function rowSums(x: Float32Array, H: number): Float64Array {
  const out = new Float64Array(x.length / H);
  for (let t = 0; t < out.length; t++) for (let h = t * H; h < (t + 1) * H; h++) out[t]! += x[h]!;
  return out;
}

export interface IntegratedGradientsOptions {
  /** Riemann steps (default 52). */
  steps?: number;
  /** The baseline's ids, the sentence's length: by default each special token kept, every other id `padId`. */
  baselineIds: readonly number[];
  /** Steps per forward-and-backward (default: as many as fit 256 tokens). */
  stepsPerBatch?: number;
  /** Checked after every forward-and-backward: an aborted signal rejects with its reason. */
  signal?: AbortSignal;
}

export interface IntegratedGradientsResult {
  /** Per token: Σ_h (E − E′) · mean over steps of d target / d E at E′ + α_k (E − E′). */
  attributions: Float64Array;
  value: number;
  baselineValue: number;
  /** Σ attributions − (value − baselineValue): how far the Riemann sum is from the integral's exact total. */
  completenessError: number;
  steps: number;
}

/**
 * Integrated gradients from the baseline's word-embedding rows E′ to the sentence's E, the path integral by the
 * midpoint rule (α_k = (k + ½) / steps), the steps batched (rows of a batch are independent, so the gradient of
 * the batch's summed target is each step's gradient).
 */
export async function integratedGradients(
  a: Attributable,
  s: SentenceIds,
  opts: IntegratedGradientsOptions,
): Promise<IntegratedGradientsResult> {
  const steps = opts.steps ?? DEFAULT_STEPS;
  const L = s.inputIds.length;
  const H = a.model.config.hiddenSize;
  checkSteps(steps);
  if (opts.baselineIds.length !== L)
    throw new UsageError(`baseline has ${opts.baselineIds.length} ids, the sentence ${L}`);
  const perBatch = opts.stepsPerBatch ?? Math.max(1, Math.floor(IG_TOKENS_PER_BATCH / L));
  if (!(Number.isInteger(perBatch) && perBatch >= 1))
    throw new UsageError(`stepsPerBatch must be a positive integer, got ${perBatch}`);

  const x = rowsOf(a.model, s.inputIds);
  const base = rowsOf(a.model, opts.baselineIds);
  const diff = tf.sub(x, base) as tf.Tensor2D;
  let total = tf.zeros([L, H]) as tf.Tensor2D;
  try {
    for (let k0 = 0; k0 < steps; k0 += perBatch) {
      const n = Math.min(perBatch, steps - k0);
      const alphas = Float32Array.from({ length: n }, (_, i) => (k0 + i + 0.5) / steps);
      const path = tf.tidy(() =>
        tf.add(tf.expandDims(base, 0), tf.mul(tf.reshape(tf.tensor1d(alphas), [n, 1, 1]), tf.expandDims(diff, 0))),
      ) as tf.Tensor3D;
      const { value, grads } = gradients(() => tf.sum(targetAt(a, s, path)), [path]);
      const next = grads[0] ? (tf.tidy(() => tf.add(total, tf.sum(grads[0]!, 0))) as tf.Tensor2D) : tf.clone(total);
      tf.dispose([path, value, total, ...(grads[0] ? [grads[0]] : [])]);
      total = next;
      await next.data(); // one batch at a time, so a GPU's queue stays short
      // On CPU backends data() resolves at once: without a macrotask turn here a server's event loop waited for
      // all the steps (30 s of 256 steps at 512 tokens on the tiny model, /health unanswered), and a client that
      // left could not stop them.
      await new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate : setTimeout)(resolve));
      opts.signal?.throwIfAborted();
    }
    const attribution = tf.tidy(() => tf.mul(diff, tf.div(total, steps)));
    const ends = tf.tidy(() => targetAt(a, s, tf.stack([x, base]) as tf.Tensor3D));
    const [perToken, endValues] = await Promise.all([attribution.data(), ends.data()]);
    tf.dispose([attribution, ends]);
    const attributions = rowSums(perToken as Float32Array, H);
    const [value, baselineValue] = [endValues[0]!, endValues[1]!];
    const sum = attributions.reduce((acc, v) => acc + v, 0);
    return { attributions, value, baselineValue, completenessError: sum - (value - baselineValue), steps };
  } finally {
    tf.dispose([x, base, diff, total]);
  }
}

/**
 * Attention rollout (Abnar & Zuidema 2020): per layer Â = ½·mean over heads of the attention + ½·I, rows
 * renormalised to sum 1, multiplied from layer 0 up (R = Â_{n−1} ⋯ Â_1 Â_0). Row i says how much of each input
 * token reaches position i of the last layer. → row-major [L, L].
 */
export async function attentionRollout(model: BertModel, s: SentenceIds): Promise<Float32Array> {
  const L = s.inputIds.length;
  const inputs = batchOf(s, 1);
  try {
    const out = model.forward(inputs, { outputAttentions: true });
    const rollout = tf.tidy(() => {
      const eye = tf.eye(L);
      let r: tf.Tensor2D | undefined;
      for (const att of out.attentions!) {
        const mixed = tf.add(tf.mul(tf.mean(tf.squeeze(att, [0]), 0), 0.5), tf.mul(eye, 0.5)) as tf.Tensor2D;
        const a = tf.div(mixed, tf.sum(mixed, 1, true)) as tf.Tensor2D;
        r = r ? tf.matMul(a, r) : a;
      }
      return r!;
    });
    tf.dispose([out.lastHiddenState, ...(out.attentions ?? [])]);
    try {
      return (await rollout.data()) as Float32Array;
    } finally {
      rollout.dispose();
    }
  } finally {
    tf.dispose(inputs as unknown as tf.TensorContainerObject);
  }
}
