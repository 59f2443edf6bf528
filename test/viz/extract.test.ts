import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupBackend } from '../../src/backend/index.js';
import { loadModelDir } from '../../src/loader/index.js';
import { BertModel } from '../../src/model/bert.js';
import { BertTokenizer } from '../../src/tokenizer/index.js';
import { attentionMaps } from '../../src/viz/extract.js';
import { fixture } from '../fixtures.js';
import { referenceMaps } from './helpers.js';

describe('attentionMaps', () => {
  it("gives PyTorch's attention of one sentence, without padding, leaking no tensor", async () => {
    await setupBackend('wasm');
    const loaded = loadModelDir(fixture('tiny', 'hf'));
    const tokenizer = BertTokenizer.fromDir(loaded.tokenizerDir);
    const model = BertModel.load(loaded.config, loaded.weights);
    try {
      const before = tf.memory().numTensors;
      const maps = await attentionMaps(model, tokenizer, 'Hello World! 你好，世界。');
      expect(tf.memory().numTensors).toBe(before);
      const ref = referenceMaps(11);
      expect(maps.tokens).toEqual(ref.tokens);
      expect(maps.heads).toBe(4);
      let worst = 0;
      for (let l = 0; l < 2; l++)
        for (let i = 0; i < ref.layers[l]!.length; i++)
          worst = Math.max(worst, Math.abs(maps.layers[l]![i]! - ref.layers[l]![i]!));
      expect(worst).toBeLessThan(1e-5);
      await expect(attentionMaps(model, tokenizer, ' \n')).rejects.toThrow('TEXT is empty');
    } finally {
      model.dispose();
    }
  });
});
