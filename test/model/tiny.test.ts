// The tiny fixture (2 layers, 4 heads, hidden 32, wide random weights) and the activation variants,
// against HF transformers: every reference tensor within 1e-5 on unpadded positions, on wasm and cpu.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.js';
import type { BertModel } from '../../src/model/bert.js';
import { runWithCache } from '../../src/model/hooks.js';
import { l2Normalize, pool, type PoolingMode } from '../../src/model/pooling.js';
import {
  BACKENDS,
  disposeInputs,
  inputsFrom,
  loadHfDir,
  maxAbsDiff,
  readRefs,
  ref,
  type Ref,
  useBackend,
} from './helpers.js';

const TOL = 1e-5;

/** Runs the model on the refs' batch and returns every comparable tensor by reference name. */
async function outputsFor(model: BertModel, refs: Map<string, Ref>, prefix = ''): Promise<Map<string, Float32Array>> {
  const inputs = inputsFrom(refs, prefix);
  const n = model.config.numHiddenLayers;
  const names = (name: string): boolean => /attn\.hook_q$|ln1\.hook_out$|mlp\.hook_post$/.test(name);
  const { output, cache } = runWithCache(model, inputs, { names, outputHiddenStates: true, outputAttentions: true });
  const out = new Map<string, Float32Array>();
  const put = async (name: string, t: tf.Tensor): Promise<void> => {
    out.set(prefix + name, (await t.data()) as Float32Array);
  };
  await put('last_hidden_state', output.lastHiddenState);
  for (let i = 0; i <= n; i++) await put(`hidden_states.${i}`, output.hiddenStates![i]!);
  for (let i = 0; i < n; i++) {
    await put(`attentions.${i}`, output.attentions![i]!);
    await put(`layer.${i}.query`, cache.get('q', i)); // [B, L, heads, d] = [B, L, H] merged
    await put(`layer.${i}.attention_output`, cache.get('ln1.hook_out', i));
    await put(`layer.${i}.intermediate`, cache.get('post', i));
  }
  for (const mode of ['mean', 'cls', 'max', 'mean_sqrt_len'] as PoolingMode[]) {
    const p = pool(output.lastHiddenState, inputs.attentionMask, mode);
    await put(`pool.${mode}`, p);
    if (mode === 'mean') {
      const normed = l2Normalize(p);
      await put('pool.mean_normalized', normed);
      normed.dispose();
    }
    p.dispose();
  }
  cache.dispose();
  tf.dispose(output as unknown as tf.TensorContainer);
  disposeInputs(inputs);
  return out;
}

function compareAll(refs: Map<string, Ref>, got: Map<string, Float32Array>, prefix = ''): Record<string, number> {
  const mask = ref(refs, `${prefix}attention_mask`);
  const errs: Record<string, number> = {};
  for (const [name, r] of refs) {
    if (!name.startsWith(prefix) || r.data instanceof Int32Array) continue;
    const key = name.slice(prefix.length);
    if (prefix === '' && /^(pairs|fp16|bf16|long)\./.test(name)) continue;
    // st.* is sentence-transformers' own output: the same mean pooling.
    const ours = got.get(name) ?? got.get(prefix + key.replace(/^st\.mean/, 'pool.mean'));
    if (!ours) continue;
    const pooled = /(^|\.)(pool|st)\./.test(name);
    errs[name] = maxAbsDiff(ours, r, pooled ? undefined : mask, name.includes('attentions.') ? 2 : 1);
  }
  return errs;
}

for (const backend of BACKENDS) {
  describe(`tiny BERT vs HF transformers (${backend})`, () => {
    let model: BertModel;
    const refs = readRefs(fixture('tiny', 'refs.safetensors'));
    let before = 0;

    beforeAll(async () => {
      await useBackend(backend);
      before = tf.memory().numTensors;
      model = loadHfDir(fixture('tiny', 'hf'));
    });
    afterAll(() => {
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it('matches every tensor of refs.safetensors within 1e-5', async () => {
      const before = tf.memory().numTensors;
      const errs = compareAll(refs, await outputsFor(model, refs));
      console.log(`[${backend}] tiny max abs:`, JSON.stringify(errs));
      const expected = [
        'last_hidden_state',
        'hidden_states.0',
        'hidden_states.2',
        'attentions.0',
        'attentions.1',
        'layer.0.query',
        'layer.1.attention_output',
        'layer.1.intermediate',
        'pool.mean',
        'pool.cls',
        'pool.max',
        'pool.mean_sqrt_len',
        'pool.mean_normalized',
        'st.mean',
        'st.mean_normalized',
      ];
      for (const k of expected) expect(errs, k).toHaveProperty(k);
      for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThanOrEqual(TOL);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('matches the pairs batch (token_type_ids 1 on the second segment)', async () => {
      const errs = compareAll(refs, await outputsFor(model, refs, 'pairs.'), 'pairs.');
      console.log(`[${backend}] pairs max abs:`, JSON.stringify(errs));
      expect(Object.keys(errs)).toEqual(expect.arrayContaining(['pairs.last_hidden_state', 'pairs.pool.mean']));
      for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThanOrEqual(TOL);
    });

    it('matches the 512-token text of refs_long', async () => {
      const long = readRefs(fixture('tiny', 'refs_long.safetensors'));
      const inputs = inputsFrom(long, 'long.');
      const out = model.forward(inputs);
      const mean = pool(out.lastHiddenState, inputs.attentionMask, 'mean');
      const e1 = maxAbsDiff(await out.lastHiddenState.data(), ref(long, 'long.last_hidden_state'));
      const e2 = maxAbsDiff(await mean.data(), ref(long, 'long.pool.mean'));
      console.log(`[${backend}] long max abs: last_hidden_state ${e1}, pool.mean ${e2}`);
      expect(e1).toBeLessThanOrEqual(TOL);
      expect(e2).toBeLessThanOrEqual(TOL);
      tf.dispose([out.lastHiddenState, mean]);
      disposeInputs(inputs);
    });
  });

  describe(`hidden_act variants (${backend})`, () => {
    for (const act of ['gelu_new', 'gelu_pytorch_tanh', 'relu']) {
      it(`${act}: every tensor within 1e-5`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const refs = readRefs(fixture('activations', act, 'refs.safetensors'));
        const model = loadHfDir(fixture('activations', act, 'hf'));
        expect(model.config.hiddenAct).toBe(act);
        const errs = {
          ...compareAll(refs, await outputsFor(model, refs)),
          ...compareAll(refs, await outputsFor(model, refs, 'pairs.'), 'pairs.'),
        };
        console.log(`[${backend}] ${act} max abs:`, JSON.stringify(errs));
        expect(Object.keys(errs).length).toBeGreaterThan(20);
        for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThanOrEqual(TOL);
        model.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}
