// torch's nn.LayerNorm over the last axis from tfjs ops: biased variance, eps inside the square root. The layers
// run it where no fused program applies; the backend checks its fused LayerNorm against it on the device.
import * as tf from '@tensorflow/tfjs-core';

/** torch's LayerNorm from tfjs ops (the fused program is checked against this). */
export function layerNormComposite<R extends tf.Rank>(
  x: tf.Tensor<R>,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
): tf.Tensor<R> {
  // A tidy of its own: the four [tokens, hidden] temporaries go as soon as the output exists.
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const mean = tf.mean(x, axis, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), axis, true);
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, weight), bias);
  });
}
