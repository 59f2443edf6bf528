// Deterministic synthetic BERT weights (../shared/fixtures/SYNTHETIC.md): a hash of (tensor name, flat index)
// mapped to a per-tensor range. Full-size tests and benchmarks need no 400 MB download.
import type { BertConfig } from './config.js';
import { type DType, toBFloat16Bits, toFloat16Bits } from './dtype.js';
import { bertShapes } from './keys.js';
import type { TensorToWrite } from './safetensors.js';
import { Weights, type WeightTensor } from './weights.js';

export function fnv1a32(name: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(name)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** [scale, offset] for a tensor name; rules tried top to bottom, as in SYNTHETIC.md. */
export function synthRange(name: string): [number, number] {
  if (name.endsWith('LayerNorm.weight')) return [0.25, 1.0];
  if (name.endsWith('LayerNorm.bias')) return [0.125, 0];
  if (name === 'embeddings.word_embeddings.weight') return [0.75, 0];
  if (name === 'embeddings.position_embeddings.weight' || name === 'embeddings.token_type_embeddings.weight')
    return [0.375, 0];
  if (name.endsWith('.bias')) return [0.0625, 0];
  if (name.endsWith('attention.self.query.weight') || name.endsWith('attention.self.key.weight')) return [0.078125, 0];
  if (name.endsWith('output.dense.weight') && !name.endsWith('attention.output.dense.weight')) return [0.03125, 0];
  return [0.0625, 0];
}

/** Element `i` of tensor `name` (float32-rounded). */
export function synthValue(name: string, i: number): number {
  const [scale, offset] = synthRange(name);
  return Math.fround(offset + scale * (2 * ((mix(i, fnv1a32(name)) + 0.5) / 4294967296) - 1));
}

function mix(i: number, seed: number): number {
  let x = (Math.imul(i, 0x9e3779b1) + seed) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export function synthTensor(name: string, shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const [scale, offset] = synthRange(name);
  const seed = fnv1a32(name);
  // value = offset + scale·(2u − 1) with u = (x + 0.5)/2³², folded into one multiply-add in float64
  // (exact: the scales are powers of two), then one rounding to float32 on store.
  const a = (2 * scale) / 4294967296;
  const b = offset - scale + scale / 4294967296;
  for (let i = 0; i < n; i++) {
    let x = (Math.imul(i, 0x9e3779b1) + seed) | 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    x ^= x >>> 16;
    out[i] = (x >>> 0) * a + b;
  }
  return out;
}

/** Every tensor of SYNTHETIC.md for `config` (no pooler), in bertShapes order. */
export function synthesize(config: BertConfig): Weights {
  const tensors = new Map<string, WeightTensor>();
  for (const [name, shape] of bertShapes(config)) tensors.set(name, { shape, data: synthTensor(name, shape) });
  return new Weights(tensors, '', 'synthetic');
}

export type SynthDType = 'f32' | 'f16' | 'bf16';

/** float32 values → little-endian bytes of `dtype` (f16/bf16 rounded to nearest even). */
export function encodeFloats(data: Float32Array, dtype: SynthDType): Uint8Array {
  if (dtype === 'f32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint16Array(data.length);
  const enc = dtype === 'f16' ? toFloat16Bits : toBFloat16Bits;
  for (let i = 0; i < data.length; i++) out[i] = enc(data[i]!);
  return new Uint8Array(out.buffer);
}

/** Streaming writer input for `writeSafetensors`: each tensor is generated when the writer reaches it. */
export function synthTensorsToWrite(config: BertConfig, dtype: SynthDType = 'f32'): TensorToWrite[] {
  const st: DType = dtype === 'f32' ? 'F32' : dtype === 'f16' ? 'F16' : 'BF16';
  return [...bertShapes(config)].map(([name, shape]) => ({
    name,
    dtype: st,
    shape,
    bytes: () => encodeFloats(synthTensor(name, shape), dtype),
  }));
}
