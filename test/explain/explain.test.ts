// `explain(encoder, a, b)` end to end on the tiny sentence-transformers folder (the same weights as tiny/hf, mean
// pooling): its tokens are the fixture's, its scores torch's (grads.safetensors), its result JSON-shaped as
// CONTRACT.md says; `explainSentence` for the probing targets; no tensor outlives 100 explanations.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { cosine } from '../../src/encoder/similarity.js';
import { InputError, UsageError } from '../../src/errors.js';
import { ATTRIBUTION_METHODS, explain, explainSentence } from '../../src/explain/explain.js';
import { fixture } from '../fixtures.js';
import { MAIN_BACKEND, type Ref, readRefs, ref } from '../model/helpers.js';
import { nanModel } from '../nonfinite-model.js';
import { maxDiff } from '../values.js';

const refs = readRefs(fixture('tiny', 'grads.safetensors'));
const { pairs } = JSON.parse(readFileSync(fixture('tiny', 'grads.json'), 'utf8')) as { pairs: [string, string][] };
const H = 32;

/** Row 0 of an [L, L] reference. */
const firstRow = (r: Ref): Float32Array => r.data.subarray(0, r.shape[1]!) as Float32Array;
/** ‖row‖₂ of each row of an [L, H] reference. */
const rowNorms = (r: Ref): number[] =>
  Array.from({ length: r.shape[0]! }, (_, t) => Math.hypot(...r.data.subarray(t * H, (t + 1) * H)));

describe('explain', () => {
  let enc: SentenceEncoder;
  beforeAll(async () => {
    enc = await SentenceEncoder.load(fixture('tiny', 'st'), { backend: MAIN_BACKEND });
  });
  afterAll(async () => {
    await enc.dispose();
  });

  it("every method on every fixture pair: torch's scores, the tokenizer's tokens, the similarity encode() gives", async () => {
    for (const [p, [a, b]] of pairs.entries()) {
      // each alone in its batch, as explain embeds them (tensorflow's matmuls round differently with other rows)
      const [va] = await enc.encode([a]);
      const [vb] = await enc.encode([b]);
      for (const method of ATTRIBUTION_METHODS) {
        const r = await explain(enc, a, b, { method });
        expect(r.method).toBe(method);
        expect(Math.abs(r.similarity - cosine(va!, vb!))).toBeLessThanOrEqual(1e-6);
        expect(Math.abs(r.similarity - ref(refs, `cos.${p}`).data[0]!)).toBeLessThanOrEqual(1e-6);
        for (const [side, text] of [
          ['a', a],
          ['b', b],
        ] as const) {
          const tokens = enc.tokenize([text])[0]!;
          expect(r[side].text).toBe(text);
          expect(r[side].tokens).toEqual(tokens.tokens);
          expect(r[side].offsets).toEqual(tokens.offsets);
          expect(tokens.inputIds).toEqual(Array.from(ref(refs, `ids.${p}.${side}`).data));
          const scores = r[side].scores;
          const want = {
            gradient: rowNorms(ref(refs, `grad.${p}.${side}.word_embeddings`)),
            gradient_x_input: ref(refs, `gxi.${p}.${side}`).data,
            integrated_gradients: ref(refs, `ig.${p}.${side}`).data,
            attention_rollout: firstRow(ref(refs, `rollout.${p}.${side}`)),
          }[method];
          const tol = method === 'integrated_gradients' ? 1e-5 : 1e-6;
          expect(maxDiff(scores, want), `${method} pair ${p} ${side}`).toBeLessThanOrEqual(tol);
        }
        if (method === 'integrated_gradients') {
          expect(r.steps).toBe(52);
          for (const side of ['a', 'b'] as const) {
            expect(Math.abs(r.completeness_error![side])).toBeLessThanOrEqual(1e-4);
            expect(
              Math.abs(r.completeness_error![side] - ref(refs, `ig.${p}.${side}.delta`).data[0]!),
            ).toBeLessThanOrEqual(1e-5);
          }
        } else {
          expect(r.completeness_error).toBeUndefined();
        }
      }
    }
  });

  it("the result is plain JSON with the contract's keys", async () => {
    const r = await explain(enc, pairs[0]![0], pairs[0]![1], { steps: 8 });
    const json = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
    expect(json).toEqual(r);
    expect(Object.keys(json).sort()).toEqual(['a', 'b', 'completeness_error', 'method', 'similarity', 'steps']);
    expect(Object.keys(json.a as object).sort()).toEqual(['offsets', 'scores', 'text', 'tokens']);
    expect(r.method).toBe('integrated_gradients'); // the default
    expect(r.steps).toBe(8);
  });

  it('more steps bring the completeness error down (the midpoint rule converges)', async () => {
    const [a, b] = pairs[1]!;
    const errs = [];
    for (const steps of [4, 16, 64]) errs.push(Math.abs((await explain(enc, a, b, { steps })).completeness_error!.a));
    expect(errs[1]!).toBeLessThan(errs[0]!);
    expect(errs[2]!).toBeLessThan(errs[1]!);
  });

  it("explainSentence: the cosine target is explain's, the norm and one dimension are what encode() gives", async () => {
    const [a, b] = pairs[0]!;
    // each alone in its batch, as explain embeds them (tensorflow's matmuls round differently with other rows)
    const [va] = await enc.encode([a]);
    const [vb] = await enc.encode([b]);
    const pair = await explain(enc, a, b, { method: 'gradient_x_input' });
    const alone = await explainSentence(enc, a, { cosine: vb! }, { method: 'gradient_x_input' });
    expect(alone.scores).toEqual(pair.a.scores);
    expect(alone.value).toBeCloseTo(pair.similarity, 6);

    const norm = await explainSentence(enc, a, 'norm');
    expect(norm.value).toBeCloseTo(Math.hypot(...va!), 4);
    expect(Math.abs(norm.completeness_error!)).toBeLessThanOrEqual(1e-3 * Math.abs(norm.value));
    expect(norm.scores.reduce((s, x) => s + x, 0)).toBeCloseTo(norm.value - norm.baseline_value!, 3);

    const dim = await explainSentence(enc, a, { dimension: 5 }, { method: 'integrated_gradients' });
    expect(dim.value).toBeCloseTo(va![5]!, 5);
    expect(Math.abs(dim.completeness_error!)).toBeLessThanOrEqual(1e-4);
    const rollout = await explainSentence(enc, a, { dimension: 5 }, { method: 'attention_rollout' });
    expect(rollout.value).toBeCloseTo(va![5]!, 5);
    expect(maxDiff(rollout.scores, firstRow(ref(refs, 'rollout.0.a')))).toBeLessThanOrEqual(1e-6);
  });

  it('bad method, steps or target are usage errors; an empty sentence is bad input', async () => {
    const [a, b] = pairs[0]!;
    await expect(explain(enc, a, b, { method: 'saliency' as never })).rejects.toThrow(UsageError);
    await expect(explain(enc, a, b, { method: 'saliency' as never })).rejects.toThrow(
      /unknown method "saliency" \(choose from gradient, gradient_x_input, integrated_gradients, attention_rollout\)/,
    );
    for (const steps of [0, -1, 1.5, Number.NaN, 10_001]) {
      await expect(explain(enc, a, b, { steps })).rejects.toThrow(/steps must be an integer in 1\.\.10000/);
    }
    await expect(explain(enc, '  ', b)).rejects.toThrow(InputError);
    await expect(explain(enc, a, '')).rejects.toThrow(/sentence b is empty/);
    await expect(explainSentence(enc, a, { dimension: 32 })).rejects.toThrow(/dimension must be an integer in 0\.\.31/);
    await expect(explainSentence(enc, a, { cosine: [1, 2] })).rejects.toThrow(/target vector has 2 values/);
  });

  it('text the tokenizer drops whole (zero-width, control characters) is bad input, named visibly', async () => {
    const [a, b] = pairs[0]!;
    for (const text of ['\u200b', '\u0001\u0002', '\u200b \ufeff']) {
      const err = await explain(enc, text, b).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/^sentence a \(".*"\) has no tokens but \[CLS\] \[SEP\] once tokenized/);
      const invisible = [...(err as Error).message].filter((c) => c < ' ' || c === '\u200b' || c === '\ufeff');
      expect(invisible).toEqual([]); // shown as escapes
    }
    await expect(explainSentence(enc, '\u200b', 'norm')).rejects.toThrow(
      /sentence text \("\\u\{200B\}"\) has no tokens/,
    );
    await expect(explain(enc, a, '\u00ad')).rejects.toThrow(/sentence b .* nothing to attribute/); // a soft hyphen
  });

  it('weights holding NaN (loaded with allowNonFinite): an error naming the weights file, never a NaN score', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'sbert-explain-nan-'));
    const nan = await SentenceEncoder.load(nanModel(tmp), { backend: MAIN_BACKEND, allowNonFinite: true });
    try {
      const [a, b] = pairs[0]!;
      const file = join(tmp, 'nan', 'model.safetensors');
      // Round 0 uploads the weights and makes the Linear layers' transposed copies (kept with the model); round 1
      // must leave the tensor count where round 0 did.
      const counts: number[] = [];
      for (const round of [0, 1]) {
        for (const method of ATTRIBUTION_METHODS) {
          const err = await explain(nan, a, b, { method, steps: 4 }).catch((e: unknown) => e);
          expect(err, method).toBeInstanceOf(InputError);
          expect((err as Error).message).toBe(
            `${file}: the embedding of sentence a is not finite (NaN at 0): the model's weights overflow or hold NaN/Inf`,
          );
          // explainSentence has no embedding of its own to check first: the scores' guard catches it
          const one = await explainSentence(nan, a, 'norm', { method, steps: 4 }).catch((e: unknown) => e);
          expect(one, method).toBeInstanceOf(InputError);
          expect((one as Error).message).toMatch(
            new RegExp(`^${file}: the (${method} scores|target) of sentence text`),
          );
        }
        counts[round] = tf.memory().numTensors;
      }
      expect(counts[1]).toBe(counts[0]); // the failed explanations left nothing behind
    } finally {
      await nan.dispose();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('XLM-R (SentencePiece, RoBERTa position ids), mean and CLS pooling: complete, <s> and </s> kept at 0', async () => {
    for (const folder of ['st', 'st-cls']) {
      const x = await SentenceEncoder.load(fixture('xlmr', 'xlmr-tiny', folder), { backend: MAIN_BACKEND });
      const [a, b] = ['The cat sits on the mat.', '一只猫坐在垫子上。'];
      const [va, vb] = await x.encode([a, b]);
      const r = await explain(x, a, b);
      expect(Math.abs(r.similarity - cosine(va!, vb!))).toBeLessThanOrEqual(1e-6);
      for (const side of ['a', 'b'] as const) {
        expect(r[side].tokens[0]).toBe('<s>');
        expect(r[side].tokens.at(-1)).toBe('</s>');
        expect([r[side].scores[0], r[side].scores.at(-1)]).toEqual([0, 0]);
        expect(Math.abs(r.completeness_error![side]), `${folder} ${side}`).toBeLessThanOrEqual(1e-4);
      }
      await x.dispose();
    }
  });

  it('an aborted signal stops integrated gradients between passes: the promise rejects, no tensor is left', async () => {
    // What a server passes for a client that went away (third attack: 256 steps at 512 tokens ran on, 30 s).
    const long = '那个人很开心'.repeat(100);
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    setImmediate(() => ac.abort(new Error('client gone'))); // fires at the first turn the work yields
    await expect(explain(enc, long, '那个人非常开心', { steps: 256, signal: ac.signal })).rejects.toThrow(
      /client gone/,
    );
    await expect(
      explainSentence(enc, long, 'norm', { steps: 256, signal: AbortSignal.abort(new Error('gone before')) }),
    ).rejects.toThrow(/gone before/);
    expect(tf.memory().numTensors).toBe(before);
    // An unaborted signal changes nothing.
    const plain = await explain(enc, '那个人很开心', '那个人非常开心', { steps: 8 });
    const withSignal = await explain(enc, '那个人很开心', '那个人非常开心', {
      steps: 8,
      signal: new AbortController().signal,
    });
    expect(withSignal).toEqual(plain);
  });

  it('no tensor leaks over 100 explanations, every method', async () => {
    // The first gradient uploads the weights and makes the Linear layers' transposed copies, which stay with the
    // model (until enc.dispose()): count from after one explanation, so this holds run alone as in the file.
    await explain(enc, pairs[0]![0], pairs[0]![1], { method: 'gradient' });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const [a, b] = pairs[i % pairs.length]!;
      await explain(enc, a, b, { method: ATTRIBUTION_METHODS[i % ATTRIBUTION_METHODS.length]!, steps: 8 });
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
