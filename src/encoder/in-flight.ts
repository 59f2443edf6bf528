// How many batches SentenceEncoder keeps queued on a GPU backend before it waits for the first one's result.
import { UsageError } from '../errors.js';

/** Default: 4 (docs/gpu.md has what other values measured on an H200). */
export const GPU_BATCHES_IN_FLIGHT = 4;

/**
 * SBERT_GPU_IN_FLIGHT (an integer from 1 to 64), else GPU_BATCHES_IN_FLIGHT. A tuning knob for benchmarks;
 * a bad value is a usage error naming the variable.
 */
export function gpuBatchesInFlight(): number {
  const v = process.env.SBERT_GPU_IN_FLIGHT;
  if (v === undefined || v === '') return GPU_BATCHES_IN_FLIGHT;
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 1 && n <= 64)) {
    throw new UsageError(`SBERT_GPU_IN_FLIGHT="${v}" is not an integer from 1 to 64`);
  }
  return n;
}
