// A float32 weight store with a scoped accessor, in the spirit of candle's VarBuilder:
// `w.scope('encoder.layer.3').scope('attention.self').get('query.weight')`, so code spells only
// the checkpoint's own key segments and never a full key.
import { CheckpointError } from '../errors.js';

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

export class Weights {
  constructor(
    readonly tensors: Map<string, WeightTensor>,
    readonly prefix = '',
    readonly source = 'checkpoint',
  ) {}

  scope(name: string): Weights {
    return new Weights(this.tensors, this.key(name) + '.', this.source);
  }

  key(name: string): string {
    return this.prefix + name;
  }

  has(name: string): boolean {
    return this.tensors.has(this.key(name));
  }

  /** The tensor `name` under this scope; its shape is checked when `shape` is given. */
  get(name: string, shape?: readonly number[]): WeightTensor {
    const key = this.key(name);
    const t = this.tensors.get(key);
    if (!t) throw new CheckpointError(`missing tensor ${key}`, this.source);
    if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      throw new CheckpointError(`tensor ${key} has shape [${t.shape}], expected [${shape}]`, this.source);
    }
    return t;
  }
}
