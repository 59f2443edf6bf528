// `explain(encoder, a, b)`: which tokens make two sentences similar. Each sentence is attributed alone (batch 1,
// the model's pooling), with the other's embedding held fixed, so the cosine similarity is a function of one
// sentence's tokens at a time. The result is plain data (JSON as `sbert explain --json` prints it, the shape in
// ../shared/CONTRACT.md), for the CLI, a server route or a browser view alike.
import * as tf from '@tensorflow/tfjs-core';
import type { SentenceEncoder } from '../encoder/sentence-encoder.js';
import { InputError, UsageError } from '../errors.js';
import type { BertModel } from '../model/bert.js';
import type { Encoding } from '../tokenizer/index.js';
import {
  type Attributable,
  attentionRollout,
  DEFAULT_STEPS,
  embeddingGradient,
  integratedGradients,
  rowDots,
  type SentenceIds,
} from './methods.js';
import { type AttributionMethod, checkExplainOptions } from './options.js';
import { checkTarget, type Embedding, type ExplainTarget, embeddings, targetValues } from './target.js';

export { ATTRIBUTION_METHODS, type AttributionMethod, checkExplainOptions, DEFAULT_METHOD } from './options.js';

export interface ExplainOptions {
  /**
   * `integrated_gradients` (default), `gradient_x_input`, `gradient` (‖d f / d E‖₂ per token) or
   * `attention_rollout` (the [CLS] row of the rollout; it does not depend on the other sentence). docs/explain.md.
   */
  method?: AttributionMethod;
  /** Integrated gradients' Riemann steps (default 52). */
  steps?: number;
  /**
   * Stops the work between forward-and-backward passes (the promise rejects with the signal's reason): a server
   * passes its client's disconnect.
   */
  signal?: AbortSignal;
}

/** One sentence's tokens (with [CLS] and [SEP]) and a score for each. */
export interface TokenScores {
  text: string;
  tokens: string[];
  /** [start, end) in Unicode code points of `text`; [0, 0] for special tokens. */
  offsets: [number, number][];
  scores: number[];
}

/** What `explain` returns; field names are `sbert explain --json`'s. */
export interface Explanation {
  /** Cosine similarity of the two sentences' embeddings. */
  similarity: number;
  method: AttributionMethod;
  a: TokenScores;
  b: TokenScores;
  /** Integrated gradients only: Σ scores − (similarity − similarity at the baseline), per sentence. */
  completeness_error?: { a: number; b: number };
  /** Integrated gradients only: the Riemann steps used. */
  steps?: number;
}

/** What `explainSentence` returns. */
export interface SentenceExplanation extends TokenScores {
  method: AttributionMethod;
  /** The target at the sentence. */
  value: number;
  /** Integrated gradients only: the target at the baseline, Σ scores − (value − baseline), and the steps. */
  baseline_value?: number;
  completeness_error?: number;
  steps?: number;
}

/**
 * Token attributions for the cosine similarity of `a` and `b`, each sentence alone with the other's embedding
 * held fixed. Errors: `UsageError` for an unknown method or bad steps, `InputError` for an empty sentence.
 */
export async function explain(
  encoder: SentenceEncoder,
  a: string,
  b: string,
  opts: ExplainOptions = {},
): Promise<Explanation> {
  const method = checkExplainOptions(opts);
  const ctx = contextOf(encoder);
  const [ea, eb] = [sentence(ctx, encoder, a, 'a'), sentence(ctx, encoder, b, 'b')];
  const [va, vb] = [await embeddingOf(ctx, ea, 'a'), await embeddingOf(ctx, eb, 'b')];
  const ra = await attribute(ctx, ea, { cosine: vb }, method, opts.steps, 'a', opts.signal);
  const rb = await attribute(ctx, eb, { cosine: va }, method, opts.steps, 'b', opts.signal);
  const out: Explanation = {
    similarity: cosine(va, vb),
    method,
    a: tokenScores(a, ea, ra.scores),
    b: tokenScores(b, eb, rb.scores),
  };
  if (method === 'integrated_gradients') {
    out.completeness_error = { a: ra.completenessError!, b: rb.completenessError! };
    out.steps = ra.steps;
  }
  return out;
}

/**
 * Token attributions for one scalar of one sentence's embedding: its cosine to a fixed vector, its norm, or one
 * dimension (probing). Same methods and errors as `explain`.
 */
export async function explainSentence(
  encoder: SentenceEncoder,
  text: string,
  target: ExplainTarget,
  opts: ExplainOptions = {},
): Promise<SentenceExplanation> {
  const method = checkExplainOptions(opts);
  const ctx = contextOf(encoder);
  checkTarget(target, ctx.model.config.hiddenSize);
  const enc = sentence(ctx, encoder, text, 'text');
  const r = await attribute(ctx, enc, target, method, opts.steps, 'text', opts.signal);
  const out: SentenceExplanation = { ...tokenScores(text, enc, r.scores), method, value: r.value };
  if (method === 'integrated_gradients') {
    out.baseline_value = r.baselineValue!;
    out.completeness_error = r.completenessError!;
    out.steps = r.steps!;
  }
  return out;
}

/**
 * The model and what attributions need from the tokenizer: which ids the baseline keeps, and its filler; the
 * weights file, which errors about non-finite results name.
 */
interface Context {
  model: BertModel;
  embedding: Embedding;
  keep: ReadonlySet<number>;
  padId: number;
  weightsFile: string;
}

function contextOf(encoder: SentenceEncoder): Context {
  const t = encoder.tokenizer;
  return {
    model: encoder.model,
    embedding: { pooling: encoder.pooling, normalize: encoder.loaded.normalize ?? false },
    keep: new Set([t.clsId, t.sepId]),
    padId: t.padId,
    weightsFile: encoder.loaded.weightsFile,
  };
}

/**
 * Never a NaN or an infinity in a result (JSON.stringify would print it as null): weights loaded with
 * allowNonFinite, or finite ones that overflow, end the explanation with an error naming the weights file,
 * as `encode()` does.
 */
function checkFinite(ctx: Context, what: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new InputError(
        `${what} is not finite (${values[i]} at ${i}): the model's weights overflow or hold NaN/Inf`,
        ctx.weightsFile,
      );
    }
  }
}

function sentence(ctx: Context, encoder: SentenceEncoder, text: string, which: string): Encoding {
  if (typeof text !== 'string') throw new UsageError(`sentence ${which} must be a string, got ${typeof text}`);
  if (text.trim() === '') throw new InputError(`sentence ${which} is empty: nothing to attribute`);
  const e = encoder.tokenize([text])[0]!;
  // Text the tokenizer drops whole (zero-width or control characters): every token is one the baseline keeps,
  // so every method would score only the special tokens.
  if (e.inputIds.every((id) => ctx.keep.has(id))) {
    if (encoder.maxSeqLength < 3) {
      throw new InputError(
        `a max sequence length of ${encoder.maxSeqLength} leaves no room for a token besides ${e.tokens.join(' ')}: nothing to attribute`,
      );
    }
    throw new InputError(
      `sentence ${which} (${shown(text)}) has no tokens but ${e.tokens.join(' ')} once tokenized: nothing to attribute`,
    );
  }
  return e;
}

/** A text in a one-line message: quoted, at most 40 code points, invisible and control characters as \u{…}. */
function shown(text: string): string {
  const cps = [...text];
  const head = cps.slice(0, 40).join('');
  const visible = JSON.stringify(head).replace(/[\p{C}\p{Z}]/gu, (c) =>
    c === ' ' ? c : `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`,
  );
  return cps.length > 40 ? `${visible}…` : visible;
}

/** The sentence's embedding as `encode()` computes it, alone in its batch (checked finite). */
async function embeddingOf(ctx: Context, s: SentenceIds, which: string): Promise<Float32Array> {
  const v = await alone(ctx, s, (hidden, mask) => embeddings(hidden, mask, ctx.embedding));
  checkFinite(ctx, `the embedding of sentence ${which}`, v);
  return v;
}

/** A target at the sentence, alone in its batch. */
async function targetAt(ctx: Context, s: SentenceIds, target: ExplainTarget): Promise<number> {
  return (await alone(ctx, s, (hidden, mask) => targetValues(hidden, mask, ctx.embedding, target)))[0]!;
}

/** One forward of the sentence (batch 1) and `read` of its last hidden state, read back. */
async function alone(
  ctx: Context,
  s: SentenceIds,
  read: (hidden: tf.Tensor3D, mask: tf.Tensor2D) => tf.Tensor,
): Promise<Float32Array> {
  const L = s.inputIds.length;
  const out = tf.tidy(() => {
    const inputIds = tf.tensor2d(Int32Array.from(s.inputIds), [1, L], 'int32');
    const attentionMask = tf.ones([1, L], 'int32') as tf.Tensor2D;
    const tokenTypeIds = tf.tensor2d(Int32Array.from(s.tokenTypeIds ?? new Array<number>(L).fill(0)), [1, L], 'int32');
    return read(ctx.model.forward({ inputIds, attentionMask, tokenTypeIds }).lastHiddenState, attentionMask);
  });
  try {
    return Float32Array.from(await out.data());
  } finally {
    out.dispose();
  }
}

interface Attribution {
  scores: number[];
  value: number;
  baselineValue?: number;
  completenessError?: number;
  steps?: number;
}

async function attribute(
  ctx: Context,
  s: Encoding,
  target: ExplainTarget,
  method: AttributionMethod,
  steps: number | undefined,
  which: string,
  signal?: AbortSignal,
): Promise<Attribution> {
  signal?.throwIfAborted();
  const r = await attributeWith(ctx, s, target, method, steps ?? DEFAULT_STEPS, signal);
  checkFinite(ctx, `the ${method} scores of sentence ${which}`, r.scores);
  const ends = [r.value, r.baselineValue ?? 0, r.completenessError ?? 0];
  checkFinite(ctx, `the target of sentence ${which} (at the sentence, at the baseline, completeness)`, ends);
  return r;
}

async function attributeWith(
  ctx: Context,
  s: Encoding,
  target: ExplainTarget,
  method: AttributionMethod,
  steps: number,
  signal?: AbortSignal,
): Promise<Attribution> {
  const a: Attributable = { model: ctx.model, embedding: ctx.embedding, target };
  const H = ctx.model.config.hiddenSize;
  switch (method) {
    case 'gradient': {
      const g = await embeddingGradient(a, s);
      return { scores: Array.from(rowDots(g.grad, g.grad, H), Math.sqrt), value: g.value };
    }
    case 'gradient_x_input': {
      const g = await embeddingGradient(a, s);
      return { scores: Array.from(rowDots(g.grad, g.rows, H)), value: g.value };
    }
    case 'integrated_gradients': {
      const baselineIds = s.inputIds.map((id) => (ctx.keep.has(id) ? id : ctx.padId));
      const ig = await integratedGradients(a, s, { steps, baselineIds, signal });
      return {
        scores: Array.from(ig.attributions),
        value: ig.value,
        baselineValue: ig.baselineValue,
        completenessError: ig.completenessError,
        steps: ig.steps,
      };
    }
    case 'attention_rollout': {
      // The [CLS] row: how much of each input token reaches position 0 of the last layer. The target plays no part.
      const rollout = await attentionRollout(ctx.model, s);
      return { scores: Array.from(rollout.subarray(0, s.inputIds.length)), value: await targetAt(ctx, s, target) };
    }
  }
}

function tokenScores(text: string, e: Encoding, scores: number[]): TokenScores {
  return { text, tokens: [...e.tokens], offsets: e.offsets.map(([s, t]) => [s, t] as [number, number]), scores };
}

function cosine(x: Float32Array, y: Float32Array): number {
  let [dot, nx, ny] = [0, 0, 0];
  for (let i = 0; i < x.length; i++) {
    dot += x[i]! * y[i]!;
    nx += x[i]! * x[i]!;
    ny += y[i]! * y[i]!;
  }
  return dot / Math.max(Math.sqrt(nx) * Math.sqrt(ny), 1e-8);
}
