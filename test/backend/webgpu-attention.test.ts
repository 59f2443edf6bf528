// The fused WGSL attention (src/backend/webgpu/attention.ts) against a float64 attention, at lengths below,
// at and past one workgroup's query rows (32 or 64) and key blocks (16, or 8 for heads of 128) up to 512, with
// padding, from three projections and from one [B·L, 3H] product; and when BertSelfAttention takes it. Needs a WebGPU
// adapter (a GPU, or lavapipe: `eval "$(scripts/lavapipe.sh)"`); skipped, and says so, without one.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  ATTENTION_KERNEL,
  attentionReference,
  checkFusedAttention,
  fusedAttention,
  fusedAttentionApplies,
  fusedQkvAttention,
} from '../../src/backend/webgpu/attention.js';
import { setWebgpuMatmul } from '../../src/backend/webgpu/settings.js';
import { FLOAT32_MIN } from '../../src/model/bert.js';
import { fixture } from '../fixtures.js';
import { loadHfDir } from '../model/helpers.js';
import { maxDiff, values } from '../values.js';
import { onWebgpu, webgpuUnavailable } from './webgpu.js';

const adapter = await webgpuUnavailable('webgpu attention');

const reference = (
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  mask: Float32Array,
  B: number,
  L: number,
  n: number,
  d: number,
) => attentionReference(q, k, v, mask, B, L, n, d, d ** -0.5);

it("the float64 reference equals tfjs's own attention ops (wasm), padding included", async () => {
  const [B, L, n, d] = [2, 9, 3, 8];
  const size = B * L * n * d;
  const [qs, ks, vs] = [values(size, -2, 2, 1), values(size, -2, 2, 2), values(size, -1, 1, 3)];
  const ms = Float32Array.from({ length: B * L }, (_, i) => (i >= L + 6 ? FLOAT32_MIN : 0));
  const heads = (a: Float32Array) => tf.transpose(tf.tensor4d(a, [B, L, n, d]), [0, 2, 1, 3]);
  const y = tf.tidy(() => {
    const scores = tf.add(
      tf.mul(tf.matMul(heads(qs), heads(ks), false, true), d ** -0.5),
      tf.tensor4d(ms, [B, 1, 1, L]),
    );
    return tf.transpose(tf.matMul(tf.softmax(scores), heads(vs)), [0, 2, 1, 3]);
  });
  expect(maxDiff((await y.data()) as Float32Array, reference(qs, ks, vs, ms, B, L, n, d))).toBeLessThanOrEqual(1e-6);
  y.dispose();
});

describe.skipIf(adapter !== null)('fused attention on webgpu', () => {
  onWebgpu();

  // [B, L, heads, d, real tokens of the last sentence]: one token; 32 rows (one 32-row workgroup) and 33 (one
  // 64-row one), ragged sizes; past 64 queries; heads of 128 (8-key blocks); BERT-base heads at 512.
  const CASES: [number, number, number, number, number][] = [
    [3, 1, 2, 8, 1],
    [2, 32, 3, 4, 17],
    [2, 33, 2, 12, 33],
    [2, 37, 3, 20, 30],
    [2, 130, 4, 64, 77],
    [2, 45, 2, 128, 3],
    [1, 512, 2, 64, 512],
  ];

  it('equals a float64 attention (≤ 1e-5, every query row), padding masked as BertModel masks it', async () => {
    const n0 = tf.memory().numTensors;
    for (const [B, L, n, d, real] of CASES) {
      const size = B * L * n * d;
      const [qs, ks, vs] = [values(size, -2, 2, L), values(size, -2, 2, L + 1), values(size, -1, 1, L + 2)];
      const ms = Float32Array.from({ length: B * L }, (_, i) => (i >= (B - 1) * L + real ? FLOAT32_MIN : 0));
      const [q, k, v] = [qs, ks, vs].map((a) => tf.tensor2d(a, [B * L, n * d]));
      const mask = tf.tensor2d(ms, [B, L]);
      const qkv = tf.concat([q!, k!, v!], 1);
      const want = reference(qs, ks, vs, ms, B, L, n, d);
      for (const [how, y] of [
        ['three projections', fusedAttention(q!, k!, v!, mask, n, d ** -0.5)],
        ['one [B·L, 3H]', fusedQkvAttention(qkv, mask, n, d ** -0.5)],
      ] as const) {
        expect(y.shape).toEqual([B * L, n * d]);
        const got = (await y.data()) as Float32Array;
        expect(maxDiff(got, want), `${B}×${L}, ${n} heads of ${d}, ${how}`).toBeLessThanOrEqual(1e-5);
        y.dispose();
      }
      tf.dispose([q!, k!, v!, qkv, mask]);
    }
    expect(tf.memory().numTensors).toBe(n0);
  });

  it("a mask whose sentences × tokens are not Q, K, V's rows is an error naming the kernel, and nothing leaks", () => {
    const n0 = tf.memory().numTensors;
    const qkv = tf.zeros([2 * 5, 3 * 8]) as tf.Tensor2D;
    const broadcast = tf.zeros([1, 1, 1, 5]) as tf.Tensor4D; // one mask row for two sentences
    expect(() => fusedQkvAttention(qkv, broadcast, 2, 0.5)).toThrow(
      'SbertAttention: 10 rows of Q, K, V for a mask of 1 × 5',
    );
    tf.dispose([qkv, broadcast]);
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('BertSelfAttention takes it only when nothing asks for the probabilities or an attention hook', async () => {
    expect((await checkFusedAttention()).error).toBeNull();
    expect(fusedAttentionApplies(64)).toBe(true);
    expect(fusedAttentionApplies(128)).toBe(true);
    expect(fusedAttentionApplies(62)).toBe(false); // not vec4s
    expect(fusedAttentionApplies(256)).toBe(false);
    const model = loadHfDir(fixture('tiny', 'hf'));
    const inputIds = tf.tensor2d([[101, 800, 702, 782, 102, 0]], [1, 6], 'int32');
    const attentionMask = tf.tensor2d([[1, 1, 1, 1, 1, 0]], [1, 6], 'int32');
    const run = async (f: () => tf.Tensor) => {
      const p = await tf.profile(f);
      const fused = p.kernels.filter((k) => k.name === ATTENTION_KERNEL).length; // read now: tf.profile reuses its object
      const products = p.kernels.filter((k) => ['SbertLinear', '_FusedMatMul'].includes(k.name)).length;
      const out = p.result as tf.Tensor;
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return { fused, products, data };
    };
    const plain = await run(() => model.forward({ inputIds, attentionMask }).lastHiddenState);
    expect(plain.fused).toBe(2); // both layers
    expect(plain.products).toBe(2 * 4); // per layer: Q, K and V as one [H, 3H] product, then three Linears
    const withProbs = await run(() => {
      const o = model.forward({ inputIds, attentionMask }, { outputAttentions: true });
      tf.dispose(o.attentions);
      return o.lastHiddenState;
    });
    expect(withProbs.fused).toBe(0);
    const hooked = await run(
      () =>
        model.forward({ inputIds, attentionMask }, { hooks: { 'blocks.1.attn.hook_pattern': (t) => t } })
          .lastHiddenState,
    );
    expect(hooked.fused).toBe(1); // layer 0 still fused
    setWebgpuMatmul('tfjs');
    const tfjs = await run(() => model.forward({ inputIds, attentionMask }).lastHiddenState);
    expect(tfjs.fused).toBe(0);
    setWebgpuMatmul('auto');
    for (const other of [withProbs, hooked, tfjs])
      expect(maxDiff(plain.data.subarray(0, 5 * 32), other.data.subarray(0, 5 * 32))).toBeLessThanOrEqual(2e-6);
    tf.dispose([inputIds, attentionMask]);
    model.dispose();
  });
});
