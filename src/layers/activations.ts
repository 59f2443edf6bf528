// The FFN activations HF's ACT2FN maps `hidden_act` to, in float32 as torch evaluates them.
import * as tf from '@tensorflow/tfjs-core';
import type { HiddenAct } from '../loader/config.js';

/** `gelu`: exact, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (torch's default `F.gelu`). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** `gelu_new` / `gelu_pytorch_tanh`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.relu(x);
}

export function activation(name: HiddenAct): <T extends tf.Tensor>(x: T) => T {
  switch (name) {
    case 'gelu':
      return gelu;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh;
    case 'relu':
      return relu;
  }
}
