// One padded batch through the model and the pooling, read back asynchronously (safe on WebGPU).
import * as tf from '@tensorflow/tfjs-core';
import { trimGpuBufferPool } from '../backend/webgpu/buffer-pool.js';
import type { BertModel } from '../model/bert.js';
import { l2Normalize, pool, type PoolingMode } from '../model/pooling.js';
import type { BatchJob } from './batches.js';

export type OutputMode = PoolingMode | 'none';

export interface BatchSettings {
  pooling: OutputMode;
  normalize: boolean;
}

/** → [batch, hidden] pooled vectors, or with pooling `none` the [batch, length, hidden] last hidden state. */
export async function runBatch(model: BertModel, job: Omit<BatchJob, 'rows'>, s: BatchSettings): Promise<Float32Array> {
  const out = tf.tidy(() => {
    const shape: [number, number] = [job.batch, job.length];
    const attentionMask = tf.tensor2d(job.mask, shape, 'int32');
    const { lastHiddenState } = model.forward({
      inputIds: tf.tensor2d(job.ids, shape, 'int32'),
      attentionMask,
      tokenTypeIds: tf.tensor2d(job.types, shape, 'int32'),
    });
    if (s.pooling === 'none') return lastHiddenState;
    const pooled = pool(lastHiddenState, attentionMask, s.pooling);
    return s.normalize ? l2Normalize(pooled) : pooled;
  });
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
    trimGpuBufferPool();
  }
}
