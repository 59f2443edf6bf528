// Every checkpoint layout the loader reads (../shared/fixtures/tiny/*) gives HF's outputs through BertModel.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.js';
import { loadModelDir } from '../../src/loader/index.js';
import { BertModel } from '../../src/model/bert.js';
import { pool } from '../../src/model/pooling.js';
import { disposeInputs, inputsFrom, maxAbsDiff, readRefs, ref, useBackend, MAIN_BACKEND } from './helpers.js';

const refs = readRefs(fixture('tiny', 'refs.safetensors'));
const LAYOUTS: [string, string][] = [
  ['hf', ''],
  ['uer-converted', ''],
  ['zip-prefixed', ''],
  ['legacy', ''],
  ['st', 'st.'],
  ['uer', ''],
  ['fp16', 'fp16.'],
  ['bf16', 'bf16.'],
];

describe(`tiny in every layout (${MAIN_BACKEND})`, () => {
  beforeAll(() => useBackend(MAIN_BACKEND));

  for (const [layout, prefix] of LAYOUTS) {
    it(`${layout}: last_hidden_state and mean pool within 1e-5 of ${prefix || 'the float32 '}references`, async () => {
      const n0 = tf.memory().numTensors;
      const loaded = loadModelDir(fixture('tiny', layout));
      const model = BertModel.load(loaded.config, loaded.weights);
      const inputs = inputsFrom(refs);
      const out = model.forward(inputs);
      const mean = pool(out.lastHiddenState, inputs.attentionMask, loaded.pooling?.mode ?? 'mean');
      const hiddenKey = prefix === 'st.' ? 'last_hidden_state' : `${prefix}last_hidden_state`;
      const poolKey = prefix === 'st.' ? 'st.mean' : `${prefix}pool.mean`;
      const e1 = maxAbsDiff(await out.lastHiddenState.data(), ref(refs, hiddenKey), ref(refs, 'attention_mask'));
      const e2 = maxAbsDiff(await mean.data(), ref(refs, poolKey));
      console.log(`[${MAIN_BACKEND}] ${layout}: ${hiddenKey} ${e1}, ${poolKey} ${e2}`);
      expect(e1).toBeLessThanOrEqual(1e-5);
      expect(e2).toBeLessThanOrEqual(1e-5);
      tf.dispose([out.lastHiddenState, mean]);
      disposeInputs(inputs);
      model.dispose();
      expect(tf.memory().numTensors).toBe(n0);
    });
  }

  it('half-precision weights are not the float32 ones (the fp16/bf16 references are distinct)', () => {
    const f32 = ref(refs, 'last_hidden_state').data;
    const f16 = ref(refs, 'bf16.last_hidden_state').data;
    expect(maxAbsDiff(f16, { shape: [], data: f32 })).toBeGreaterThan(1e-3);
  });
});
