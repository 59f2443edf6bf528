// The checks of docs/explain.md's examples (test/docs/examples.test.ts runs them): each asserts what the text
// around its example claims, against torch's attributions (../shared/fixtures/tiny/grads.safetensors: the tiny
// model, whose sentence-transformers folder the examples load) or against a direct computation.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { explainSentence, type Explanation, type SentenceExplanation } from '../../src/explain/index.js';
import type { BertInputs } from '../../src/model/bert.js';
import type { ActivationCache } from '../../src/model/hooks.js';
import { runWithHooks } from '../../src/model/hooks.js';
import { pool } from '../../src/model/pooling.js';
import { fixture } from '../fixtures.js';
import { readRefs, ref } from '../model/helpers.js';
import { maxDiff } from '../values.js';

type Scope = Record<string, unknown>;
const grads = readRefs(fixture('tiny', 'grads.safetensors'));
const TOKENS = ['[CLS]', '那', '个', '人', '很', '开', '心', '[SEP]'];

const scalar = async (t: unknown): Promise<number> => (await (t as tf.Tensor).data())[0]!;

export const EXPLAIN_CHECKS: Record<string, (scope: Scope) => Promise<void>> = {
  'readme-explain': async ({ r }) => {
    const e = r as Explanation;
    // the defaults: integrated gradients, 52 steps; torch's attributions of pair 0 of grads.json
    expect([e.method, e.steps]).toEqual(['integrated_gradients', 52]);
    expect(e.a.tokens).toEqual(TOKENS);
    expect(maxDiff(e.a.scores, ref(grads, 'ig.0.a').data)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(e.b.scores, ref(grads, 'ig.0.b').data)).toBeLessThanOrEqual(1e-5);
    for (const side of ['a', 'b'] as const) expect(Math.abs(e.completeness_error![side])).toBeLessThanOrEqual(1e-4);
  },
  'explain-library': async ({ r, total, json }) => {
    const e = r as Explanation;
    // pair 0 of grads.json: torch's integrated gradients (52 steps) of exactly these sentences
    expect(e.a.tokens).toEqual(TOKENS);
    expect(e.a.offsets).toEqual([
      [0, 0],
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
      [5, 6],
      [0, 0],
    ]);
    expect(maxDiff(e.a.scores, ref(grads, 'ig.0.a').data)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(e.b.scores, ref(grads, 'ig.0.b').data)).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(e.similarity - ref(grads, 'cos.0').data[0]!)).toBeLessThanOrEqual(1e-6);
    // the scores add up to similarity − similarity at the baseline, up to the completeness error
    const change = e.similarity - ref(grads, 'cos.0.a.baseline').data[0]!;
    expect(Math.abs((total as number) - change - e.completeness_error!.a)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(e.completeness_error!.a)).toBeLessThanOrEqual(1e-4);
    expect(JSON.parse(json as string)).toEqual(e);
  },
  'explain-probing': async ({ enc, norm, dim }) => {
    const n = norm as SentenceExplanation;
    const d = dim as SentenceExplanation;
    // reloaded (the example disposed its encoder): the values are the embedding's norm and component 5
    const { SentenceEncoder } = await import('../../src/encoder/sentence-encoder.js');
    const again = await SentenceEncoder.load(fixture('tiny', 'st'));
    const [v] = await again.encode(['那个人很开心']);
    expect(n.tokens).toEqual(TOKENS);
    expect(n.value).toBeCloseTo(Math.hypot(...v!), 5);
    expect(n.method).toBe('integrated_gradients');
    expect(Math.abs(n.completeness_error!)).toBeLessThanOrEqual(1e-4 * Math.max(1, n.value));
    expect(d.value).toBeCloseTo(v![5]!, 5);
    // gradient × input of component 5, computed here with tf.grad directly
    const inputs = again.inputs(['那个人很开心']);
    const rows = tf.gather(again.model.embeddings.wordEmbeddings, inputs.inputIds) as tf.Tensor as tf.Tensor3D;
    const g = tf.grad((e) => {
      const { lastHiddenState } = again.model.forward(inputs, { inputsEmbeds: e as tf.Tensor3D });
      return tf.sum(tf.slice(pool(lastHiddenState, inputs.attentionMask, 'mean'), [0, 5], [1, 1]));
    })(rows);
    const gxi = tf.sum(tf.mul(g, rows), 2);
    expect(maxDiff(d.scores, await gxi.data())).toBeLessThanOrEqual(1e-6);
    tf.dispose([rows, g, gxi, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds!]);
    await again.dispose();
    void enc;
  },
  'explain-grad': async ({ enc, grad, inputs }) => {
    const e = enc as SentenceEncoder;
    const H = e.dimension;
    const g = grad as tf.Tensor;
    expect(g.shape).toEqual([1, 8, H]);
    // its per-token norms are the `gradient` method's scores for the 'norm' target
    const data = await g.data();
    const norms = Array.from({ length: 8 }, (_, t) => Math.hypot(...data.subarray(t * H, (t + 1) * H)));
    const want = await explainSentence(e, '那个人很开心', 'norm', { method: 'gradient' });
    expect(maxDiff(norms, want.scores)).toBeLessThanOrEqual(1e-6);
    const x = inputs as BertInputs;
    tf.dispose([x.inputIds, x.attentionMask, x.tokenTypeIds!]);
    await e.dispose();
  },
  'explain-backward-hooks': async (s) => {
    const e = s.enc as SentenceEncoder;
    const inputs = s.inputs as BertInputs;
    const grads = s.grads as ActivationCache;
    const cache = s.cache as ActivationCache;
    const [B, L] = inputs.inputIds.shape;
    expect((s.dPattern as tf.Tensor).shape).toEqual([B, 4, L, L]);
    // resid_pre of block 1 is block 0's output: one tensor, one gradient
    expect(Array.from(await (s.dResid as tf.Tensor).data())).toEqual(
      Array.from(await grads.get('blocks.0.hook_normalized_resid_post').data()),
    );
    // every hook point has its gradient, shaped like its activation
    for (const name of e.model.hookNames()) expect(grads.get(name).shape).toEqual(cache.get(name).shape);
    // the first-order estimate is close to the change a patched forward really gives
    const v = s.v as tf.Tensor1D;
    const f = (last: tf.Tensor3D) => tf.sum(tf.mul(pool(last, inputs.attentionMask, 'mean'), v));
    const delta = s.delta as tf.Tensor;
    const patched = runWithHooks(e.model, inputs, { 'blocks.1.attn.hook_pattern': (p) => tf.add(p, delta) });
    const actual = (await scalar(f(patched.lastHiddenState))) - (await scalar(s.value));
    const estimate = await scalar(s.estimate);
    expect(Math.abs(estimate)).toBeGreaterThan(1e-4);
    expect(Math.abs(actual - estimate)).toBeLessThanOrEqual(0.05 * Math.abs(actual));
    cache.dispose();
    grads.dispose();
    await e.dispose();
  },
};
