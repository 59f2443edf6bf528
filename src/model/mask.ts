// The attention mask as float32 1/0, computed rather than cast: tfjs-webgpu's int32 → float32 cast only
// relabels the int32 buffer, and its transpose / reduce kernels then read that buffer with the wrong
// type (a WGSL validation error, and garbage pools). A `where` writes a real float32 buffer everywhere.
import * as tf from '@tensorflow/tfjs-core';

/** int32 [..] 1 = token, 0 = padding → float32 [..] 1/0 */
export function floatMask<T extends tf.Tensor>(mask: T): T {
  return tf.tidy(
    () => tf.where(tf.greater(mask, 0), tf.ones(mask.shape, 'float32'), tf.zeros(mask.shape, 'float32')) as T,
  );
}
