// Weights packed once into a SharedArrayBuffer, so worker threads view them without copying or re-parsing.
import { Weights, type WeightTensor } from '../loader/weights.js';

export interface SharedWeights {
  buffer: SharedArrayBuffer;
  /** name → [float offset, shape] */
  index: [string, number, number[]][];
}

export function shareWeights(weights: Weights): SharedWeights {
  let total = 0;
  for (const t of weights.tensors.values()) total += t.data.length;
  const buffer = new SharedArrayBuffer(total * 4);
  const all = new Float32Array(buffer);
  const index: SharedWeights['index'] = [];
  let offset = 0;
  for (const [name, t] of weights.tensors) {
    all.set(t.data, offset);
    index.push([name, offset, t.shape]);
    offset += t.data.length;
  }
  return { buffer, index };
}

export function unshareWeights({ buffer, index }: SharedWeights, source: string): Weights {
  const map = new Map<string, WeightTensor>();
  for (const [name, offset, shape] of index) {
    const n = shape.reduce((a, b) => a * b, 1);
    map.set(name, { shape, data: new Float32Array(buffer, offset * 4, n) });
  }
  return new Weights(map, '', source);
}
