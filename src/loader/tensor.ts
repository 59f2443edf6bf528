// A checkpoint tensor whose values are read and decoded to float32 only when asked for.
import type { DType } from './dtype.js';

export type CheckpointFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Row-major float32 values (F16/BF16 decoded exactly); integer tensors throw CheckpointError. */
  float32(): Float32Array;
}

export interface Checkpoint {
  file: string;
  format: CheckpointFormat;
  /** In file order. */
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  close(): void;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
