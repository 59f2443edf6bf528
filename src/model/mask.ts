// The attention mask as float32 1/0, computed rather than cast (src/backend/kernels.ts, maskFloats, says why).
import type * as tf from '@tensorflow/tfjs-core';
import { maskFloats } from '../backend/kernels.js';

/** int32 [..] 1 = token, 0 = padding → float32 [..] 1/0 */
export function floatMask<T extends tf.Tensor>(mask: T): T {
  return maskFloats(mask, 1, 0);
}
