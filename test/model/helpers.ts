// Shared by the model tests: fixture models and references, backend switching, unpadded comparisons.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, setupBackend } from '../../src/backend/index.js';
import { parseHfConfig, type BertConfig } from '../../src/loader/config.js';
import { decodeFloat32, decodeInt32 } from '../../src/loader/dtype.js';
import { readSafetensors } from '../../src/loader/safetensors.js';
import { Weights, type WeightTensor } from '../../src/loader/weights.js';
import { BertModel, type BertInputs } from '../../src/model/bert.js';

// SBERT_TEST_BACKENDS (a comma list, e.g. `webgpu` on a GPU machine) runs the model tests on other backends;
// the first one also runs the wasm-only tests (base, hooks, layouts).
const fromEnv = process.env.SBERT_TEST_BACKENDS?.split(',')
  .map((b) => b.trim())
  .filter(Boolean) as BackendName[] | undefined;
export const BACKENDS: readonly BackendName[] = fromEnv?.length ? fromEnv : ['wasm', 'cpu'];
export const MAIN_BACKEND: BackendName = fromEnv?.length ? fromEnv[0]! : 'wasm';

export async function useBackend(name: BackendName): Promise<void> {
  await setupBackend(name);
}

export interface Ref {
  shape: number[];
  data: Float32Array | Int32Array;
}

export function readRefs(file: string): Map<string, Ref> {
  const st = readSafetensors(file);
  const out = new Map<string, Ref>();
  for (const [name, t] of st.tensors) {
    const data =
      t.dtype === 'I32' || t.dtype === 'I64'
        ? decodeInt32(t.bytes, t.dtype, file, name)
        : decodeFloat32(t.bytes, t.dtype, file, name);
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

export function ref(refs: Map<string, Ref>, name: string): Ref {
  const r = refs.get(name);
  if (!r) throw new Error(`reference ${name} missing`);
  return r;
}

/** An HF folder (config.json + model.safetensors, keys without the `bert.` prefix) read directly. */
export function readHfDir(dir: string): { config: BertConfig; weights: Weights } {
  const configFile = join(dir, 'config.json');
  const { config } = parseHfConfig(configFile, JSON.parse(readFileSync(configFile, 'utf8')));
  const file = join(dir, 'model.safetensors');
  const st = readSafetensors(file);
  const tensors = new Map<string, WeightTensor>();
  for (const [name, t] of st.tensors)
    tensors.set(name, { shape: t.shape, data: decodeFloat32(t.bytes, t.dtype, file, name) });
  return { config, weights: new Weights(tensors, '', file) };
}

export function loadHfDir(dir: string): BertModel {
  const { config, weights } = readHfDir(dir);
  return BertModel.load(config, weights);
}

/** int32 tensors from the reference's ids (prefix '' or 'pairs.' or 'long.'), rows [from, to). */
export function inputsFrom(refs: Map<string, Ref>, prefix = '', rows?: [number, number]): BertInputs {
  const ids = ref(refs, `${prefix}input_ids`);
  const [B, L] = ids.shape as [number, number];
  const [from, to] = rows ?? [0, B];
  const take = (name: string, fallback: number): tf.Tensor2D => {
    const r = refs.get(`${prefix}${name}`);
    const data = r ? r.data.subarray(from * L, to * L) : new Int32Array((to - from) * L).fill(fallback);
    return tf.tensor2d(Int32Array.from(data), [to - from, L], 'int32');
  };
  return {
    inputIds: take('input_ids', 0),
    attentionMask: take('attention_mask', 1),
    tokenTypeIds: take('token_type_ids', 0),
  };
}

export function disposeInputs(x: BertInputs): void {
  tf.dispose([x.inputIds, x.attentionMask, ...(x.tokenTypeIds ? [x.tokenTypeIds] : [])]);
}

/**
 * Max |actual − expected| over positions where the mask is 1. `posAxis` is the axis indexed by
 * sequence position (1 for [B, L, ...], 2 for attentions [B, heads, L, L]: query rows); the
 * mask is [B, L]. Without a mask, every element counts.
 */
export function maxAbsDiff(actual: ArrayLike<number>, expected: Ref, mask?: Ref, posAxis = 1): number {
  const { shape, data } = expected;
  if (actual.length !== data.length) throw new Error(`size ${actual.length} vs reference ${data.length} [${shape}]`);
  const L = mask ? mask.shape[1]! : 0;
  const inner = shape.slice(posAxis + 1).reduce((a, b) => a * b, 1);
  const mid = shape.slice(1, posAxis).reduce((a, b) => a * b, 1);
  let worst = 0;
  for (let i = 0; i < data.length; i++) {
    if (mask) {
      const pos = Math.floor(i / inner) % shape[posAxis]!;
      const b = Math.floor(i / (inner * shape[posAxis]! * mid));
      if (mask.data[b * L + pos] === 0) continue;
    }
    const d = Math.abs(actual[i]! - data[i]!);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

/** Rows [from, to) of a reference along axis 0. */
export function rows(r: Ref, from: number, to: number): Ref {
  const per = r.shape.slice(1).reduce((a, b) => a * b, 1);
  return { shape: [to - from, ...r.shape.slice(1)], data: r.data.subarray(from * per, to * per) };
}

/** The number of real tokens in row `b` of a [B, L] attention mask. */
export function maskLength(mask: Ref, b: number): number {
  const L = mask.shape[1]!;
  let n = 0;
  for (let i = b * L; i < (b + 1) * L; i++) n += mask.data[i]!;
  return n;
}
