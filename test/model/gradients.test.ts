// Gradients through BertModel: the plain-op path while a gradient is recorded, `inputsEmbeds`, and the backward
// hooks of runWithCache (d f / d every hook point, checked against central differences of a patched forward).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fusedOps } from '../../src/backend/tensorflow-kernels.js';
import { UsageError } from '../../src/errors.js';
import type { BertInputs, BertModel } from '../../src/model/bert.js';
import { wordEmbeddingRows } from '../../src/model/gradients.js';
import { runWithCache, runWithHooks } from '../../src/model/hooks.js';
import { fixture } from '../fixtures.js';
import { values } from '../values.js';
import { BACKENDS, disposeInputs, loadHfDir, useBackend } from './helpers.js';

const IDS = [101, 6929, 702, 782, 2523, 2458, 2552, 102]; // [CLS] 那个人很开心 [SEP]
const L = IDS.length;

function inputsOf(ids: number[]): BertInputs {
  return {
    inputIds: tf.tensor2d(ids, [1, ids.length], 'int32'),
    attentionMask: tf.ones([1, ids.length], 'int32') as tf.Tensor2D,
  };
}

/** A fixed random weighting of the last hidden state: f = Σ w ⊙ last_hidden_state. */
function weighted(model: BertModel): { w: tf.Tensor3D; f: (o: { lastHiddenState: tf.Tensor3D }) => tf.Scalar } {
  const H = model.config.hiddenSize;
  const w = tf.tensor3d(values(L * H, -1, 1, 5), [1, L, H]);
  return { w, f: (o) => tf.sum(tf.mul(o.lastHiddenState, w)) as tf.Scalar };
}

for (const backend of BACKENDS) {
  describe(`gradients through BertModel on ${backend}`, () => {
    let model: BertModel;
    beforeAll(async () => {
      await useBackend(backend);
      model = loadHfDir(fixture('tiny', 'hf'));
      // The first backward makes the Linear layers' transposed weights, kept with the model: make them here, so the
      // tests that count tensors hold run alone (-t) as in the file.
      const inputs = inputsOf(IDS);
      const { w, f } = weighted(model);
      const run = runWithCache(model, inputs, { names: ['hook_full_embed'], gradients: f });
      run.cache.dispose();
      run.grads.dispose();
      tf.dispose([run.value, run.output.lastHiddenState, w]);
      disposeInputs(inputs);
    });
    afterAll(() => model.dispose());

    it('while a gradient is recorded every kernel has a gradient; otherwise faster kernels without one run', async () => {
      const inputs = inputsOf(IDS);
      let taped: string[] = [];
      const rows = wordEmbeddingRows(model, inputs.inputIds);
      const g = tf.grad((r: tf.Tensor) => {
        const y = tf.sum(model.forward(inputs, { inputsEmbeds: r as tf.Tensor3D }).lastHiddenState);
        taped = (tf.engine().state.activeTape ?? []).map((n) => n.kernelName);
        return y;
      })(rows);
      // Kernels without a gradient: tfjs's fused matmul, and ours (WGSL programs, wasm + BLAS kernels).
      const fast = (k: string) => k === '_FusedMatMul' || k.startsWith('Sbert');
      expect(taped).toContain('BatchMatMul');
      expect(taped.filter(fast)).toEqual([]);
      const info = await tf.profile(() => model.forward(inputs).lastHiddenState);
      if (backend === 'tensorflow') {
        // tfjs-node's fast Linear path (backend/tensorflow-kernels.ts) is never tfjs's fused matMul, whose reshapes
        // are ops of their own there; it is oneDNN's fused ops, called outside tfjs's kernels (no BatchMatMul in
        // the profile), where they run here, else tf.matMul + add
        expect(info.kernelNames.filter(fast)).toEqual([]);
        const { linear, scores, matMul } = fusedOps();
        if (linear && scores && matMul) expect(info.kernelNames).not.toContain('BatchMatMul');
        else expect(info.kernelNames).toContain('BatchMatMul');
      } else {
        // unrecorded, one of them runs the Linear layers
        expect(info.kernelNames.filter(fast).length).toBeGreaterThan(0);
      }
      tf.dispose([g, rows, info.result as tf.Tensor]);
      disposeInputs(inputs);
    });

    it('inputsEmbeds equal to the gathered rows gives the same forward; other rows change it', async () => {
      const inputs = inputsOf(IDS);
      const rows = wordEmbeddingRows(model, inputs.inputIds);
      const plain = model.forward(inputs).lastHiddenState;
      const same = model.forward(inputs, { inputsEmbeds: rows }).lastHiddenState;
      const other = tf.mul(rows, 1.5) as tf.Tensor3D;
      const changed = model.forward(inputs, { inputsEmbeds: other }).lastHiddenState;
      const diff = async (a: tf.Tensor, b: tf.Tensor) => (await tf.max(tf.abs(tf.sub(a, b))).data())[0]!;
      expect(await diff(plain, same)).toBe(0);
      expect(await diff(plain, changed)).toBeGreaterThan(1e-2);
      expect(() => model.forward(inputs, { inputsEmbeds: tf.zeros([1, L, 5]) as tf.Tensor3D })).toThrow(
        /inputs_embeds has shape \[1,8,5\], expected \[1,8,32\]/,
      );
      tf.dispose([rows, plain, same, other, changed]);
      disposeInputs(inputs);
    });

    it('runWithCache({ gradients }) caches d f / d every hook point, each the shape of its activation', async () => {
      const before = tf.memory().numTensors;
      const inputs = inputsOf(IDS);
      const { w, f } = weighted(model);
      const run = runWithCache(model, inputs, { gradients: f });
      expect(run.grads.keys().sort()).toEqual(model.hookNames().sort());
      for (const name of model.hookNames()) expect(run.grads.get(name).shape, name).toEqual(run.cache.get(name).shape);
      // f = Σ w ⊙ last hidden state: its gradient there is w itself.
      const last = await run.grads.get('blocks.1.hook_normalized_resid_post').data();
      expect(Array.from(last)).toEqual(Array.from(await w.data()));
      // The same tensor under two names has one gradient (TransformerLens: resid_pre of block 1 is block 0's output).
      const eq = async (a: string, b: string) =>
        expect(Array.from(await run.grads.get(a).data())).toEqual(Array.from(await run.grads.get(b).data()));
      await eq('blocks.1.hook_resid_pre', 'blocks.0.hook_normalized_resid_post');
      await eq('hook_full_embed', 'blocks.0.hook_resid_pre');
      await eq('blocks.0.ln2.hook_out', 'blocks.0.hook_normalized_resid_post');
      // The summed embeddings: word, position and token-type rows share the gradient of their sum.
      await eq('embed.hook_embed', 'embed.hook_pos_embed');
      await eq('embed.hook_embed', 'embed.hook_token_type_embed');
      const direct = tf.tidy(() => f(run.output));
      expect((await run.value.data())[0]).toBeCloseTo((await direct.data())[0]!, 4);
      direct.dispose();
      run.cache.dispose();
      run.grads.dispose();
      tf.dispose([run.value, run.output.lastHiddenState, w]);
      disposeInputs(inputs);
      expect(tf.memory().numTensors).toBe(before);
    });

    it("every hook point's gradient is the derivative of f when that activation is patched", async () => {
      const inputs = inputsOf(IDS);
      const { w, f } = weighted(model);
      const run = runWithCache(model, inputs, { gradients: f });
      // float32 forwards: a step large enough that rounding (~1e-6 of f) stays far below the difference.
      const h = 1e-2;
      const names = model.hookNames();
      expect(names.length).toBeGreaterThan(30);
      for (const [k, point] of names.entries()) {
        const g = run.grads.get(point);
        const v = tf.tensor(values(g.size, -1, 1, 9 + k), g.shape);
        const at = async (s: number) => {
          const out = runWithHooks(model, inputs, { [point]: (t) => tf.add(t, tf.mul(v, s)) });
          const y = tf.tidy(() => f(out));
          const value = (await y.data())[0]!;
          tf.dispose([y, out.lastHiddenState]);
          return value;
        };
        const numeric = ((await at(h)) - (await at(-h))) / (2 * h);
        const dot = tf.tidy(() => tf.sum(tf.mul(g, v)));
        const analytic = (await dot.data())[0]!;
        tf.dispose([dot, v]);
        expect(Math.abs(analytic - numeric), `${point}: ${analytic} vs ${numeric}`).toBeLessThanOrEqual(
          2e-3 * Math.max(1, Math.abs(numeric)),
        );
        expect(Math.abs(analytic), point).toBeGreaterThan(1e-3); // a real dependence, not two zeros
      }
      run.cache.dispose();
      run.grads.dispose();
      tf.dispose([run.value, run.output.lastHiddenState, w]);
      disposeInputs(inputs);
    });

    it('points f does not depend on get zeros; a hook that cuts the graph leaves the points after it right', async () => {
      const inputs = inputsOf(IDS);
      // f reads only block 0's output at position 0.
      const H = model.config.hiddenSize;
      const run = runWithCache(model, inputs, {
        outputHiddenStates: true,
        gradients: (o) => tf.sum(tf.slice(o.hiddenStates![1]!, [0, 0, 0], [1, 1, H])) as tf.Scalar,
      });
      const sum = async (name: string) => (await tf.sum(tf.abs(run.grads.get(name))).data())[0]!;
      expect(await sum('blocks.1.hook_attn_out')).toBe(0);
      expect(await sum('blocks.1.hook_normalized_resid_post')).toBe(0);
      const out0 = await run.grads.get('blocks.0.hook_normalized_resid_post').data();
      expect(Array.from(out0.subarray(0, H))).toEqual(new Array(H).fill(1));
      expect(Array.from(out0.subarray(H))).toEqual(new Array((L - 1) * H).fill(0));
      run.cache.dispose();
      run.grads.dispose();
      tf.dispose([run.value, run.output.lastHiddenState, ...run.output.hiddenStates!]);

      // Block 1's input replaced by a constant: nothing before it reaches f, everything after it still does.
      const { w, f } = weighted(model);
      const constant = tf.fill([1, L, H], 0.5) as tf.Tensor3D;
      const cut = runWithCache(model, inputs, { hooks: { 'blocks.1.hook_resid_pre': () => constant }, gradients: f });
      const cutSum = async (name: string) => (await tf.sum(tf.abs(cut.grads.get(name))).data())[0]!;
      expect(await cutSum('blocks.0.hook_attn_out')).toBe(0);
      expect(await cutSum('embed.hook_embed')).toBe(0);
      expect(await cutSum('blocks.1.hook_resid_pre')).toBeGreaterThan(0);
      expect(await cutSum('blocks.1.attn.hook_pattern')).toBeGreaterThan(0);
      cut.cache.dispose();
      cut.grads.dispose();
      tf.dispose([cut.value, cut.output.lastHiddenState, w, constant]);
      disposeInputs(inputs);
    });

    it('a target that is not a scalar is a usage error, and nothing leaks', () => {
      const inputs = inputsOf(IDS);
      const before = tf.memory().numTensors;
      expect(() =>
        runWithCache(model, inputs, { gradients: (o) => o.lastHiddenState as unknown as tf.Scalar }),
      ).toThrow(UsageError);
      expect(() =>
        runWithCache(model, inputs, { gradients: (o) => o.lastHiddenState as unknown as tf.Scalar }),
      ).toThrow(/must return a scalar tensor, got a tensor of shape \[1,8,32\]/);
      expect(tf.memory().numTensors).toBe(before);
      disposeInputs(inputs);
    });
  });
}
