// Bad inputs to BertModel.forward fail with one-line InputErrors (exit code 2) and leak nothing.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.js';
import { InputError } from '../../src/errors.js';
import type { BertInputs } from '../../src/model/bert.js';
import { BACKENDS, disposeInputs, loadHfDir, useBackend } from './helpers.js';

for (const backend of BACKENDS) {
  describe(`forward input checks (tiny, ${backend})`, () => {
    it('rejects bad shapes, dtypes and out-of-range ids clearly', async () => {
      await useBackend(backend);
      const model = loadHfDir(fixture('tiny', 'hf'));
      const ids = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
      const cases: [() => BertInputs, RegExp][] = [
        [
          () => ({ inputIds: ids([Array(513).fill(100)]), attentionMask: ids([Array(513).fill(1)]) }),
          /513 tokens exceeds max_position_embeddings 512/,
        ],
        [
          () => ({ inputIds: ids([[101, 102]]), attentionMask: ids([[1, 1, 1]]) }),
          /attention_mask has shape \[1,3\], expected \[1,2\]/,
        ],
        [
          () => ({ inputIds: tf.tensor2d([[101, 102]]), attentionMask: ids([[1, 1]]) }),
          /input_ids must be int32, got float32/,
        ],
        [
          () => ({ inputIds: ids([[101, 21128, 102]]), attentionMask: ids([[1, 1, 1]]) }),
          /input_ids holds 21128, outside \[0, 21127\]/,
        ],
        [
          () => ({ inputIds: ids([[101, 102]]), attentionMask: ids([[1, 1]]), tokenTypeIds: ids([[0, 2]]) }),
          /token_type_ids holds 2, outside \[0, 1\]/,
        ],
      ];
      // WebGPU's gather reads out-of-range rows as zeros without an error; the range check needs the ids on
      // the CPU, which a GPU forward must not wait for (the encoder's own ids are in range by construction).
      const checked = backend === 'webgpu' ? cases.filter(([, msg]) => !/outside/.test(msg.source)) : cases;
      const n0 = tf.memory().numTensors;
      for (const [make, msg] of checked) {
        const inputs = make();
        expect(() => model.forward(inputs)).toThrow(msg);
        expect(() => model.forward(inputs)).toThrow(InputError);
        disposeInputs(inputs);
        expect(tf.memory().numTensors).toBe(n0);
      }
      model.dispose();
    });
  });
}
