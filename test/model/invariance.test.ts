// Padding does not leak into results, and repeated forwards leak no tensors (tiny, wasm and cpu).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.js';
import { pool } from '../../src/model/pooling.js';
import {
  BACKENDS,
  disposeInputs,
  inputsFrom,
  loadHfDir,
  maxAbsDiff,
  readRefs,
  ref,
  useBackend,
  maskLength,
} from './helpers.js';

const refs = readRefs(fixture('tiny', 'refs.safetensors'));
const mask = ref(refs, 'attention_mask');
const [B, L] = mask.shape as [number, number];

for (const backend of BACKENDS) {
  describe(`batch invariance and leaks (tiny, ${backend})`, () => {
    it('each sentence alone equals its row of the padded batch (≤ 1e-5)', async () => {
      await useBackend(backend);
      const n0 = tf.memory().numTensors;
      const model = loadHfDir(fixture('tiny', 'hf'));
      const batch = inputsFrom(refs);
      const full = model.forward(batch);
      const fullData = await full.lastHiddenState.data();
      const fullMean = pool(full.lastHiddenState, batch.attentionMask, 'mean');
      const fullMeanData = await fullMean.data();
      let worst = 0;
      for (let b = 0; b < B; b++) {
        const len = maskLength(mask, b);
        const one = inputsFrom(refs, '', [b, b + 1]);
        const alone = {
          inputIds: tf.slice(one.inputIds, [0, 0], [1, len]),
          attentionMask: tf.slice(one.attentionMask, [0, 0], [1, len]),
          tokenTypeIds: tf.slice(one.tokenTypeIds!, [0, 0], [1, len]),
        };
        const out = model.forward(alone);
        const m = pool(out.lastHiddenState, alone.attentionMask, 'mean');
        const H = model.config.hiddenSize;
        const rowOf = fullData.subarray(b * L * H, b * L * H + len * H);
        worst = Math.max(
          worst,
          maxAbsDiff(await out.lastHiddenState.data(), { shape: [], data: rowOf as Float32Array }),
        );
        worst = Math.max(
          worst,
          maxAbsDiff(await m.data(), { shape: [], data: fullMeanData.subarray(b * H, (b + 1) * H) as Float32Array }),
        );
        tf.dispose([out.lastHiddenState, m]);
        disposeInputs(one);
        disposeInputs(alone);
      }
      console.log(`[${backend}] batch invariance max abs ${worst}`);
      expect(worst).toBeLessThanOrEqual(1e-5);
      tf.dispose([full.lastHiddenState, fullMean]);
      disposeInputs(batch);
      model.dispose();
      expect(tf.memory().numTensors).toBe(n0);
    });

    it('200 forwards leave tf.memory().numTensors unchanged', async () => {
      await useBackend(backend);
      const model = loadHfDir(fixture('tiny', 'hf'));
      const batch = inputsFrom(refs, '', [0, 4]);
      const n0 = tf.memory().numTensors;
      for (let i = 0; i < 200; i++) {
        const out = model.forward(batch, { outputHiddenStates: i % 2 === 0, outputAttentions: i % 3 === 0 });
        tf.dispose(out as unknown as tf.TensorContainer);
      }
      expect(tf.memory().numTensors).toBe(n0);
      disposeInputs(batch);
      model.dispose();
    });
  });
}
