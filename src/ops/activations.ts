// The FFN activations HF's ACT2FN maps `hidden_act` to (src/layers/activations.ts), in float32 as torch evaluates
// them, from tfjs ops: the math both the layers and the backend's fused kernels (their device checks) build on.
import * as tf from '@tensorflow/tfjs-core';

/** `gelu`: exact, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (torch's default `F.gelu`). */
export function gelu<T extends tf.Tensor>(x: T): T {
  // Each [tokens, intermediate] temporary is freed as soon as the next exists (200 MB apiece at 32 × 512).
  return tf.tidy(() => {
    const scaled = tf.mul(x, Math.SQRT1_2);
    const erf = tf.erf(scaled);
    scaled.dispose();
    const onePlus = tf.add(erf, 1);
    erf.dispose();
    const half = tf.mul(x, 0.5);
    const out = tf.mul(half, onePlus);
    tf.dispose([half, onePlus]);
    return out as T;
  });
}

/** d gelu / dx = Φ(x) + x·φ(x) = 0.5·(1 + erf(x/√2)) + x·exp(−x²/2)/√(2π). */
export function geluDerivative<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return tf.add(cdf, tf.mul(x, pdf));
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** `gelu_new` / `gelu_pytorch_tanh`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), SQRT_2_OVER_PI);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.relu(x);
}
