// On wasm, tf.clone (the Identity kernel) shares its input's data instead of copying it, as on cpu: the copies made
// gradients keep a second copy of every saved activation.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupBackend } from '../../src/backend/index.js';

describe('Identity on wasm', () => {
  it('a clone shares the data: no new buffer, the same values, and each outlives the other', async () => {
    await setupBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const { numDataBuffers } = tf.memory();
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(numDataBuffers);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4]);
    const z = tf.clone(y);
    y.dispose();
    const sum = tf.add(z, 1);
    expect(Array.from(await sum.data())).toEqual([2, 3, 4, 5]);
    tf.dispose([z, sum]);
    expect(tf.memory().numDataBuffers).toBe(numDataBuffers - 1);
  });
});
