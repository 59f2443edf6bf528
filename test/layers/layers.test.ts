// The building blocks against float64 references computed here (wasm and cpu, or SBERT_TEST_BACKENDS).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupBackend } from '../../src/backend/index.js';
import { Weights } from '../../src/loader/weights.js';
import { gelu, geluTanh } from '../../src/ops/activations.js';
import { HookPoint, HookScope, HookSet } from '../../src/layers/hook.js';
import { LayerNorm } from '../../src/layers/layer-norm.js';
import { Linear, transposeRowMajor } from '../../src/layers/linear.js';
import { BACKENDS } from '../model/helpers.js';
import { maxDiff, values } from '../values.js';

/** erf in float64: Maclaurin series below 3, continued fraction for erfc above. */
function erf64(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  if (a < 3) {
    let sum = a;
    let term = a;
    for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  let f = 0;
  for (let k = 60; k >= 1; k--) f = k / 2 / (a + f);
  return s * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f));
}

for (const backend of BACKENDS) {
  describe(`layers (${backend})`, () => {
    it('gelu (erf) and the tanh forms match float64 to float32 rounding', async () => {
      await setupBackend(backend);
      const xs = Float32Array.from({ length: 4001 }, (_, i) => -8 + i * 0.004);
      const x = tf.tensor1d(xs);
      const [g, gt] = [gelu(x), geluTanh(x)];
      const ref = Array.from(xs, (v) => 0.5 * v * (1 + erf64(v / Math.SQRT2)));
      const c = Math.sqrt(2 / Math.PI);
      const refT = Array.from(xs, (v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3))));
      // ≤ a few float32 ulps of values up to 8 (ulp 9.5e-7); cpu's erf is an A&S fit (1.5e-7).
      expect(maxDiff(await g.data(), ref)).toBeLessThan(1.5e-6);
      expect(maxDiff(await gt.data(), refT)).toBeLessThan(1.5e-6);
      // Near 0 the error is relative: gelu(x) ≈ x/2.
      const small = Array.from(xs.keys()).filter((i) => Math.abs(xs[i]!) < 0.5);
      const gd = await g.data();
      expect(Math.max(...small.map((i) => Math.abs(gd[i]! - ref[i]!)))).toBeLessThan(1e-7);
      tf.dispose([x, g, gt]);
    });

    it('LayerNorm: biased variance, eps inside the root, affine after', async () => {
      await setupBackend(backend);
      const [rows, H, eps] = [7, 48, 1e-5];
      const x = values(rows * H, -4, 14, 7);
      const w = values(H, 0.5, 1.5, 8);
      const b = values(H, -0.2, 0.2, 9);
      const ln = LayerNorm.load(
        new Weights(
          new Map([
            ['weight', { shape: [H], data: w }],
            ['bias', { shape: [H], data: b }],
          ]),
        ),
        H,
        eps,
        new HookScope(),
      );
      const y = ln.forward(tf.tensor2d(x, [rows, H]));
      const ref: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = Array.from(x.subarray(r * H, (r + 1) * H));
        const mean = row.reduce((a, v) => a + v, 0) / H;
        const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / H;
        row.forEach((v, i) => ref.push(((v - mean) / Math.sqrt(variance + eps)) * w[i]! + b[i]!));
      }
      expect(maxDiff(await y.data(), ref)).toBeLessThan(2e-6);
      tf.dispose(y);
      ln.dispose();
    });

    it('Linear: HF [out, in] weights pre-transposed, bias fused, relu fused exactly', async () => {
      await setupBackend(backend);
      const [rows, inF, outF] = [5, 24, 40];
      const W = values(outF * inF, -0.5, 0.5, 3);
      const bias = values(outF, -1, 1, 4);
      const x = values(2 * rows * inF, -2, 2, 5);
      const lin = Linear.load(
        new Weights(
          new Map([
            ['weight', { shape: [outF, inF], data: W }],
            ['bias', { shape: [outF], data: bias }],
          ]),
        ),
        inF,
        outF,
      );
      expect(lin.weight.shape).toEqual([inF, outF]);
      const xt = tf.tensor3d(x, [2, rows, inF]);
      const [y, yr] = [lin.forward(xt), lin.forward(xt, 'relu')];
      expect(y.shape).toEqual([2, rows, outF]);
      const ref: number[] = [];
      for (let r = 0; r < 2 * rows; r++) {
        for (let o = 0; o < outF; o++) {
          let s = bias[o]!;
          for (let i = 0; i < inF; i++) s += x[r * inF + i]! * W[o * inF + i]!;
          ref.push(s);
        }
      }
      const yd = await y.data();
      expect(maxDiff(yd, ref)).toBeLessThan(1e-5);
      expect(Array.from(await yr.data())).toEqual(Array.from(yd, (v) => Math.max(v, 0)));
      expect(() =>
        Linear.load(
          new Weights(
            new Map([
              ['weight', { shape: [inF, outF], data: W }],
              ['bias', { shape: [outF], data: bias }],
            ]),
            '',
            'm.bin',
          ),
          inF,
          outF,
        ),
      ).toThrow(/m\.bin: tensor weight has shape \[24,40\], expected \[40,24\]/);
      tf.dispose([xt, y, yr]);
      lin.dispose();
    });

    it('Linear in both layouts ([in, out], HF’s [out, in]): the same forward, residual add, blocks and gradient', async () => {
      await setupBackend(backend);
      const before = tf.memory().numTensors;
      const [rows, inF, outF] = [6, 16, 24];
      const W = values(outF * inF, -0.5, 0.5, 7); // HF's [out, in]
      const bias = values(outF, -1, 1, 8);
      const inOut = new Linear(tf.tensor2d(transposeRowMajor(W, outF, inF), [inF, outF]), tf.tensor1d(bias));
      const outIn = new Linear(tf.tensor2d(W, [outF, inF]), tf.tensor1d(bias), 'out-in');
      expect([outIn.inFeatures, outIn.outFeatures]).toEqual([inF, outF]);
      const x = tf.tensor2d(values(rows * inF, -2, 2, 9), [rows, inF]);
      const r = tf.tensor2d(values(rows * outF, -1, 1, 10), [rows, outF]);
      const same = async (a: tf.Tensor, b: tf.Tensor, what: string) =>
        expect(maxDiff(await a.data(), await b.data()), what).toBeLessThanOrEqual(1e-6);
      const outs = tf.tidy(() => [
        [inOut.forward(x, 'gelu'), outIn.forward(x, 'gelu')],
        [inOut.forwardAdding(x, r), outIn.forwardAdding(x, r)],
        [
          tf.grad((v: tf.Tensor) => tf.sum(tf.square(inOut.forward(v as tf.Tensor2D, 'gelu'))))(x),
          tf.grad((v: tf.Tensor) => tf.sum(tf.square(outIn.forward(v as tf.Tensor2D, 'gelu'))))(x),
        ],
      ]);
      await same(outs[0]![0]!, outs[0]![1]!, 'forward');
      await same(outs[1]![0]!, outs[1]![1]!, 'forward adding the residual');
      await same(outs[2]![0]!, outs[2]![1]!, 'gradient to x');
      // The second of two blocks of outputs, and the [in, out] weight read from the [out, in] one.
      const [a, b] = [inOut.columns(1, 2), outIn.columns(1, 2)];
      expect(b.layout).toBe('out-in');
      const ys = tf.tidy(() => [a.forward(x), b.forward(x)]);
      await same(ys[0]!, ys[1]!, 'a block of outputs');
      expect(await outIn.weight.data()).toEqual(await inOut.weight.data());
      tf.dispose([x, r, ...outs.flat(), ...ys]);
      for (const l of [inOut, outIn, a, b]) l.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('transposeRowMajor', () => {
  it("turns HF's [out, in] into [in, out] for shapes on and off its 32 × 32 tiles", () => {
    for (const [rows, cols] of [
      [1, 1],
      [1, 70],
      [33, 1],
      [32, 64],
      [33, 70],
      [70, 33],
      [97, 31],
    ] as const) {
      const data = Float32Array.from({ length: rows * cols }, (_, i) => i);
      const out = transposeRowMajor(data, rows, cols);
      expect(out).toHaveLength(rows * cols);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) expect(out[c * rows + r], `${rows}×${cols} at ${r}, ${c}`).toBe(r * cols + c);
    }
  });
});

describe('hook points', () => {
  it('scopes compose names and register each point once', () => {
    const hp = new HookScope();
    const block = hp.scope('blocks.3', 3);
    expect(block.scope('attn').point('hook_q')).toMatchObject({ name: 'blocks.3.attn.hook_q', layer: 3 });
    expect(hp.point('hook_full_embed')).toMatchObject({ name: 'hook_full_embed', layer: undefined });
    expect(hp.points.map((p) => p.name)).toEqual(['blocks.3.attn.hook_q', 'hook_full_embed']);
    expect(() => block.scope('attn').point('hook_q')).toThrow(/declared twice/);
  });

  it('with no hooks a point returns the very tensor; a replacement is cloned and checked', async () => {
    await setupBackend('wasm');
    const n0 = tf.memory().numTensors;
    const p = new HookPoint('blocks.0.hook_resid_post', 0);
    const t = tf.tensor2d([[1, 2]]);
    expect(p.run(t, undefined)).toBe(t);
    const mine = tf.tensor2d([[5, 6]]);
    const seen: unknown[] = [];
    const set = new HookSet({ [p.name]: [(_t, ctx) => void seen.push(ctx), () => mine] }, [p]);
    const out = tf.tidy(() => tf.keep(p.run(t, set)));
    expect(seen).toEqual([{ name: 'blocks.0.hook_resid_post', layer: 0 }]);
    expect(out).not.toBe(mine);
    expect(Array.from(await out.data())).toEqual([5, 6]);
    out.dispose();
    expect(mine.isDisposed).toBe(false);
    expect(() => tf.tidy(() => p.run(t, new HookSet({ [p.name]: () => tf.tensor1d([1]) }, [p])))).toThrow(
      /returned a float32 tensor of shape \[1\], expected float32 \[1,2\]/,
    );
    expect(() => new HookSet({ nope: () => undefined }, [p])).toThrow(/unknown hook point "nope"/);
    tf.dispose([t, mine]);
    expect(tf.memory().numTensors).toBe(n0);
  });
});
