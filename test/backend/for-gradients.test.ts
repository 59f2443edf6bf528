// The ops kernels.ts runs while a gradient is recorded (Linear, GELU, LayerNorm with their derivatives written
// out) give the same values and the same input gradients as tfjs's composites they stand for.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { layerNormForGradients, linearForGradients } from '../../src/backend/for-gradients.js';
import { gelu } from '../../src/ops/activations.js';
import { layerNormComposite } from '../../src/ops/layer-norm.js';
import { BACKENDS, useBackend } from '../model/helpers.js';
import { maxDiff, values } from '../values.js';

const t = (shape: number[], lo: number, hi: number, seed: number) =>
  tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      lo,
      hi,
      seed,
    ),
    shape,
  );

/** Value and d Σ(w ⊙ f(x)) / dx, read back. */
async function valueAndGrad(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, w: tf.Tensor) {
  const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => tf.sum(tf.mul(f(v), w)))(x);
  const y = tf.tidy(() => f(x));
  const out = { sum: (await value.data())[0]!, y: await y.data(), grad: await grad.data() };
  tf.dispose([value, grad, y]);
  return out;
}

for (const backend of BACKENDS) {
  describe(`gradient-mode ops on ${backend}`, () => {
    for (const activation of ['linear', 'relu', 'gelu'] as const) {
      it(`Linear (${activation}): as matMul + add + the activation, with or without the transposed weight`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const [x, w, b, dy] = [t([5, 6], -2, 2, 1), t([6, 4], -1, 1, 2), t([4], -1, 1, 3), t([5, 4], -1, 1, 4)];
        const wT = tf.transpose(w);
        const act = (y: tf.Tensor) => (activation === 'gelu' ? gelu(y) : activation === 'relu' ? tf.relu(y) : y);
        const want = await valueAndGrad((v) => act(tf.add(tf.matMul(v, w), b)), x, dy);
        for (const kept of [undefined, () => wT as tf.Tensor2D]) {
          const got = await valueAndGrad(
            (v) => linearForGradients(v as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, activation, kept),
            x,
            dy,
          );
          expect(maxDiff(got.y, want.y)).toBeLessThanOrEqual(1e-6);
          expect(maxDiff(got.grad, want.grad)).toBeLessThanOrEqual(1e-6);
        }
        tf.dispose([x, w, b, dy, wT]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    for (const withResidual of [false, true]) {
      it(`LayerNorm${withResidual ? ' of x + residual' : ''}: as the composite, values and gradients`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const [x, r, g, b, dy] = [
          t([2, 3, 8], -3, 3, 5),
          t([2, 3, 8], -1, 1, 6),
          t([8], 0.5, 1.5, 7),
          t([8], -1, 1, 8),
          t([2, 3, 8], -1, 1, 9),
        ];
        const res = withResidual ? r : undefined;
        const want = await valueAndGrad(
          (v) => layerNormComposite(res ? tf.add(v, res) : v, g as tf.Tensor1D, b as tf.Tensor1D, 1e-12),
          x,
          dy,
        );
        const got = await valueAndGrad(
          (v) => layerNormForGradients(v, res, g as tf.Tensor1D, b as tf.Tensor1D, 1e-12),
          x,
          dy,
        );
        expect(maxDiff(got.y, want.y)).toBe(0); // the same ops in the same order
        expect(maxDiff(got.grad, want.grad)).toBeLessThanOrEqual(1e-5);
        tf.dispose([x, r, g, b, dy]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}
