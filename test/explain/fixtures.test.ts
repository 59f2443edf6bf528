// Gradients and attributions of the cosine similarity of sentence pairs against torch autograd in float64
// (../shared/fixtures/tiny/grads.json defines every key): the tiny model and the gelu_new one, on every backend.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Attributable,
  attentionRollout,
  embeddingGradient,
  integratedGradients,
  rowDots,
  type SentenceIds,
} from '../../src/explain/methods.js';
import { embeddings, targetValues } from '../../src/explain/target.js';
import type { BertModel } from '../../src/model/bert.js';
import { runWithCache } from '../../src/model/hooks.js';
import { fixture } from '../fixtures.js';
import { BACKENDS, loadHfDir, type Ref, readRefs, ref, useBackend } from '../model/helpers.js';
import { maxDiff } from '../values.js';

const MODELS = [
  { name: 'tiny', dir: fixture('tiny', 'hf'), grads: fixture('tiny', 'grads.safetensors') },
  {
    name: 'gelu_new',
    dir: fixture('activations', 'gelu_new', 'hf'),
    grads: fixture('activations', 'gelu_new', 'grads.safetensors'),
  },
];
const PAIRS = [0, 1, 2, 3];
const SIDES = ['a', 'b'] as const;
const EMBEDDING = { pooling: 'mean', normalize: false } as const;
const [PAD, CLS, SEP] = [0, 101, 102];

/** Max |actual − expected| over every element. */
const maxAbs = (actual: ArrayLike<number>, expected: Ref): number => maxDiff(actual, expected.data);

function maxOf(r: Ref): number {
  let m = 0;
  for (const v of r.data) m = Math.max(m, Math.abs(v));
  return m;
}

/** Within `abs`, or within `rel` of the tensor's largest magnitude (the rule for gradients). */
function gradientOk(err: number, r: Ref, abs = 1e-6, rel = 1e-4): boolean {
  return err <= abs || err <= rel * maxOf(r);
}

async function embeddingOf(model: BertModel, s: SentenceIds): Promise<Float32Array> {
  const L = s.inputIds.length;
  const v = tf.tidy(() => {
    const mask = tf.ones([1, L], 'int32') as tf.Tensor2D;
    const out = model.forward({ inputIds: tf.tensor2d([...s.inputIds], [1, L], 'int32'), attentionMask: mask });
    return embeddings(out.lastHiddenState, mask, EMBEDDING);
  });
  const data = (await v.data()) as Float32Array;
  v.dispose();
  return data;
}

function cosine(x: Float32Array, y: Float32Array): number {
  let [d, a, b] = [0, 0, 0];
  for (let i = 0; i < x.length; i++) [d, a, b] = [d + x[i]! * y[i]!, a + x[i]! ** 2, b + y[i]! ** 2];
  return d / Math.sqrt(a * b);
}

for (const backend of BACKENDS) {
  for (const m of MODELS) {
    describe(`attributions of ${m.name} on ${backend} against torch float64`, () => {
      const refs = readRefs(m.grads);
      let model: BertModel;
      const worst = new Map<string, number>();
      const note = (family: string, err: number): void => void worst.set(family, Math.max(worst.get(family) ?? 0, err));
      const ids = (p: number, side: string): SentenceIds => ({ inputIds: [...ref(refs, `ids.${p}.${side}`).data] });

      beforeAll(async () => {
        await useBackend(backend);
        model = loadHfDir(m.dir);
      });
      afterAll(() => {
        model.dispose();
        console.log(`${m.name} on ${backend}, max abs error per family:`, Object.fromEntries(worst));
      });

      it('cos.*: the similarity of each pair within 1e-6', async () => {
        for (const p of PAIRS) {
          const [va, vb] = [await embeddingOf(model, ids(p, 'a')), await embeddingOf(model, ids(p, 'b'))];
          const err = Math.abs(cosine(va, vb) - ref(refs, `cos.${p}`).data[0]!);
          note('cos', err);
          expect(err).toBeLessThanOrEqual(1e-6);
        }
      });

      it('grad.*.word_embeddings within 1e-6 (or 1e-4 of the largest), gxi.* within 1e-6', async () => {
        for (const p of PAIRS) {
          for (const [i, side] of SIDES.entries()) {
            const other = await embeddingOf(model, ids(p, SIDES[1 - i]!));
            const a: Attributable = { model, embedding: EMBEDDING, target: { cosine: other } };
            const g = await embeddingGradient(a, ids(p, side));
            const want = ref(refs, `grad.${p}.${side}.word_embeddings`);
            const err = maxAbs(g.grad, want);
            note('grad.word_embeddings', err);
            expect(gradientOk(err, want), `pair ${p} ${side}: ${err}`).toBe(true);
            const gxi = maxAbs(rowDots(g.grad, g.rows, model.config.hiddenSize), ref(refs, `gxi.${p}.${side}`));
            note('gxi', gxi);
            expect(gxi, `pair ${p} ${side}`).toBeLessThanOrEqual(1e-6);
            expect(Math.abs(g.value - ref(refs, `cos.${p}`).data[0]!)).toBeLessThanOrEqual(1e-6);
          }
        }
      });

      it('grad.*.hidden_states.*: the backward hooks at hook_full_embed and each block output', async () => {
        const n = model.config.numHiddenLayers;
        const points = [
          'hook_full_embed',
          ...Array.from({ length: n }, (_, i) => `blocks.${i}.hook_normalized_resid_post`),
        ];
        for (const p of PAIRS) {
          for (const [i, side] of SIDES.entries()) {
            const other = tf.tensor1d(await embeddingOf(model, ids(p, SIDES[1 - i]!)));
            const s = ids(p, side);
            const L = s.inputIds.length;
            const inputs = {
              inputIds: tf.tensor2d([...s.inputIds], [1, L], 'int32'),
              attentionMask: tf.ones([1, L], 'int32') as tf.Tensor2D,
            };
            const run = runWithCache(model, inputs, {
              names: points,
              gradients: (out) =>
                tf.sum(
                  targetValues(out.lastHiddenState, inputs.attentionMask, EMBEDDING, { cosine: other.dataSync() }),
                ),
            });
            for (const [h, point] of points.entries()) {
              const want = ref(refs, `grad.${p}.${side}.hidden_states.${h}`);
              const err = maxAbs(await run.grads.get(point).data(), want);
              note('grad.hidden_states', err);
              expect(gradientOk(err, want), `pair ${p} ${side} hidden_states.${h}: ${err}`).toBe(true);
            }
            expect(Math.abs((await run.value.data())[0]! - ref(refs, `cos.${p}`).data[0]!)).toBeLessThanOrEqual(1e-6);
            run.cache.dispose();
            run.grads.dispose();
            tf.dispose([run.value, run.output.lastHiddenState, other, inputs.inputIds, inputs.attentionMask]);
          }
        }
      });

      it("ig.* within 1e-5, the baseline's cosine within 1e-6, completeness error ≤ 1e-4 (and as torch's)", async () => {
        for (const p of PAIRS) {
          for (const [i, side] of SIDES.entries()) {
            const other = await embeddingOf(model, ids(p, SIDES[1 - i]!));
            const s = ids(p, side);
            const baselineIds = s.inputIds.map((id) => (id === CLS || id === SEP ? id : PAD));
            const a: Attributable = { model, embedding: EMBEDDING, target: { cosine: other } };
            const ig = await integratedGradients(a, s, { steps: 52, baselineIds });
            const err = maxAbs(ig.attributions, ref(refs, `ig.${p}.${side}`));
            note('ig', err);
            expect(err, `pair ${p} ${side}`).toBeLessThanOrEqual(1e-5);
            const base = Math.abs(ig.baselineValue - ref(refs, `cos.${p}.${side}.baseline`).data[0]!);
            note('cos.baseline', base);
            expect(base).toBeLessThanOrEqual(1e-6);
            note('ig.completeness', Math.abs(ig.completenessError));
            expect(Math.abs(ig.completenessError)).toBeLessThanOrEqual(1e-4);
            const delta = Math.abs(ig.completenessError - ref(refs, `ig.${p}.${side}.delta`).data[0]!);
            note('ig.delta vs torch', delta);
            expect(delta).toBeLessThanOrEqual(1e-5);
          }
        }
      });

      it('rollout.* within 1e-6', async () => {
        for (const p of PAIRS) {
          for (const side of SIDES) {
            const err = maxAbs(await attentionRollout(model, ids(p, side)), ref(refs, `rollout.${p}.${side}`));
            note('rollout', err);
            expect(err, `pair ${p} ${side}`).toBeLessThanOrEqual(1e-6);
          }
        }
      });
    });
  }
}
