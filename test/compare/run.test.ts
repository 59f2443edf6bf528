// runComparison in-process: every tensor within tolerance on the tiny model, none leaked.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../src/backend/index.js';
import { loadReference } from '../../src/compare/reference.js';
import { bertSource, runComparison } from '../../src/compare/run.js';
import { loadModelDir } from '../../src/loader/index.js';
import { BertModel } from '../../src/model/bert.js';
import { BertTokenizer } from '../../src/tokenizer/index.js';
import { fixture } from '../fixtures.js';
import { BACKENDS } from '../model/helpers.js';

describe.each(BACKENDS)('runComparison on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it('matches tiny/refs.safetensors and leaves no tensor behind', async () => {
    const loaded = loadModelDir(fixture('tiny', 'hf'));
    const tokenizer = BertTokenizer.fromDir(loaded.tokenizerDir);
    const before = tf.memory().numTensors;
    const model = BertModel.load(loaded.config, loaded.weights);
    const afterLoad = tf.memory().numTensors;
    const report = await runComparison(model, tokenizer, fixture('tiny', 'refs.safetensors'));
    expect(tf.memory().numTensors).toBe(afterLoad);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);

    expect(report.ok).toBe(true);
    expect(report.results).toHaveLength(21);
    const byKey = new Map(report.results.map((r) => [r.key, r]));
    for (const key of [
      'hidden_states.2',
      'attentions.1',
      'layer.1.query',
      'layer.1.intermediate',
      'pool.max',
      'pairs.pool.mean',
    ]) {
      expect(byKey.get(key)!.maxAbs, key).toBeLessThanOrEqual(1e-5);
      expect(byKey.get(key)!.count, key).toBeGreaterThan(0);
    }
    // Only unpadded positions: sentence 0 ("那个人很开心", 8 tokens) of [14, 18, 32] contributes 8 × 32.
    const mask = loadReference(fixture('tiny', 'refs.safetensors')).groups[0]!.inputs.attentionMask;
    const real = mask.reduce((a, m) => a + m, 0);
    expect(byKey.get('hidden_states.0')!.count).toBe(real * 32);
    expect(byKey.get('layer.0.intermediate')!.count).toBe(real * 64);
  });

  it('runs big batches in slices of rows, with the same result as one forward', async () => {
    const loaded = loadModelDir(fixture('tiny', 'hf'));
    const model = BertModel.load(loaded.config, loaded.weights);
    try {
      const main = loadReference(fixture('tiny', 'refs.safetensors')).groups[0]!.inputs;
      const names = ['last_hidden_state', 'layer.0.query', 'attentions.1', 'pool.mean'];
      const whole = await bertSource(model)(main, names);
      const sliced = await bertSource(model, 'ref', 4)(main, names); // 4 + 4 + 4 + 2 rows
      for (const name of names) {
        const a = whole.get(name)!;
        const b = sliced.get(name)!;
        expect(b.shape, name).toEqual(a.shape);
        let max = 0;
        for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
        expect(max, name).toBeLessThan(1e-5);
      }
      expect(whole.get('layer.0.query')!.shape).toEqual([14, 18, 32]);
    } finally {
      model.dispose();
    }
  });
});
