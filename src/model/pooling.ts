// Sentence-transformers' Pooling module (sentence_transformers/models/Pooling.py) and F.normalize.
import * as tf from '@tensorflow/tfjs-core';
import { POOLING_MODES, type PoolingMode } from '../loader/pooling-config.js';
import { floatMask } from './mask.js';

// One definition of the modes (the loader's, which reads them from 1_Pooling/config.json).
export { POOLING_MODES, type PoolingMode };

/** hidden: [B, L, H]; mask: [B, L] (1 = token) → [B, H] */
export function pool(hidden: tf.Tensor3D, mask: tf.Tensor2D, mode: PoolingMode): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, L, H] = hidden.shape;
    if (mode === 'cls') return tf.reshape(tf.slice(hidden, [0, 0, 0], [B, 1, H]), [B, H]);
    const m = tf.reshape(floatMask(mask), [B, L, 1]);
    if (mode === 'max') {
      // ST sets padded positions to -1e9 before the max.
      return tf.max(tf.where(tf.greater(m, 0), hidden, tf.scalar(-1e9) as tf.Tensor as tf.Tensor3D), 1) as tf.Tensor2D;
    }
    const sum = tf.sum(tf.mul(hidden, m), 1);
    const count = tf.maximum(tf.sum(m, 1), 1e-9); // [B, 1]; ST's clamp(min=1e-9)
    return tf.div(sum, mode === 'mean' ? count : tf.sqrt(count)) as tf.Tensor2D;
  });
}

/** torch.nn.functional.normalize(x, p=2, dim=1, eps=1e-12): x / max(‖x‖, eps). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)));
}
