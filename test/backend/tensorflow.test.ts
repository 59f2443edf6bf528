// The tensorflow backend: why a missing or unbuilt tfjs-node is reported as it is, and, where tfjs-node loads
// (npm run build:tensorflow), that our MatMul kernels compute what tfjs-node's own and float64 compute.
import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../src/backend/index.js';
import { tensorflowKernels, tensorflowLinear, tensorflowLinearApplies } from '../../src/backend/tensorflow-kernels.js';
import { gelu } from '../../src/ops/activations.js';
import { whyNotLoaded } from '../../src/backend/tensorflow.js';
import { UsageError } from '../../src/errors.js';
import { sbert } from '../cli.js';
import { fixture } from '../fixtures.js';
import { maxDiff, values } from '../values.js';

describe('tensorflow backend: reports', () => {
  it('tells "not installed" from "addon not built" from a missing libtensorflow', () => {
    const notFound = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node' imported from /x/y.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    expect(whyNotLoaded('@tensorflow/tfjs-node', notFound)).toBe('not installed');
    // A dependency of it missing is a broken install, not an absent package.
    const depMissing = Object.assign(
      new Error("Cannot find package '@tensorflow/tfjs' imported from /x/tfjs-node/dist/index.js"),
      { code: 'ERR_MODULE_NOT_FOUND' },
    );
    expect(whyNotLoaded('@tensorflow/tfjs-node', depMissing)).toMatch(/^Cannot find package '@tensorflow\/tfjs'/);
    const unbuilt = new Error(
      'The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/lib/napi-v8/tfjs_binding.node. \nPlease run command ...',
    );
    expect(whyNotLoaded('@tensorflow/tfjs-node', unbuilt)).toBe(
      'installed, its native addon not built (npm run build:tensorflow)',
    );
    const noLib = new Error('libtensorflow_cc.so.2: cannot open shared object file: No such file or directory');
    expect(whyNotLoaded('@tensorflow/tfjs-node', noLib)).toMatch(
      /^its libtensorflow is missing \(npm run build:tensorflow\): libtensorflow_cc/,
    );
  });

  it('SBERT_TF_KERNELS: native by default, tfjs on request, anything else a usage error', () => {
    const saved = process.env.SBERT_TF_KERNELS;
    try {
      delete process.env.SBERT_TF_KERNELS;
      expect(tensorflowKernels()).toBe('native');
      process.env.SBERT_TF_KERNELS = 'tfjs';
      expect(tensorflowKernels()).toBe('tfjs');
      process.env.SBERT_TF_KERNELS = 'fast';
      expect(() => tensorflowKernels()).toThrow(UsageError);
      expect(() => tensorflowKernels()).toThrow('SBERT_TF_KERNELS="fast" is not one of native, tfjs');
    } finally {
      if (saved === undefined) delete process.env.SBERT_TF_KERNELS;
      else process.env.SBERT_TF_KERNELS = saved;
    }
  });
});

/** a · b in float64 with the transposes asked for; a is [m, k] (or [k, m]), b [k, n] (or [n, k]). */
function matmul64(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  ta: boolean,
  tb: boolean,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ta ? p * m + i : i * k + p]! * b[tb ? j * k + p : p * n + j]!;
      out.push(s);
    }
  }
  return out;
}

describe('tensorflow backend: MatMul kernels', () => {
  let present = false;
  let report = '';
  beforeAll(async () => {
    const choice = await setupBackend('tensorflow').catch(() => undefined);
    present = choice !== undefined;
    report = choice?.reason ?? '';
  });
  afterAll(() => setupBackend('wasm'));

  it('2-D products (every transpose), the fused bias and relu, and batched products equal float64', async (ctx) => {
    if (!present) ctx.skip(); // reported as skipped where tfjs-node is absent or unbuilt (npm run build:tensorflow)
    if (!process.env.SBERT_TF_KERNELS) expect(report).toMatch(/; MatMul for 2-D products$/);
    const [m, k, n] = [37, 70, 53];
    const a = values(m * k, -1, 1, 11);
    const b = values(k * n, -1, 1, 12);
    const bias = values(n, -0.5, 0.5, 13);
    const before = tf.memory().numTensors;
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      const at = tf.tensor2d(a, ta ? [k, m] : [m, k]);
      const bt = tf.tensor2d(b, tb ? [n, k] : [k, n]);
      const ref = matmul64(a, b, m, k, n, ta, tb);
      const y = tf.matMul(at, bt, ta, tb);
      expect(y.shape).toEqual([m, n]);
      expect(maxDiff(await y.data(), ref), `transposeA ${ta} transposeB ${tb}`).toBeLessThan(2e-5);
      const biasT = tf.tensor1d(bias);
      const yb = tf.fused.matMul({ a: at, b: bt, transposeA: ta, transposeB: tb, bias: biasT, activation: 'relu' });
      const refB = ref.map((v, i) => Math.max(0, v + bias[i % n]!));
      expect(maxDiff(await yb.data(), refB), `fused, transposeA ${ta} transposeB ${tb}`).toBeLessThan(2e-5);
      tf.dispose([at, bt, y, yb, biasT]);
    }
    // A batch of one (as tfjs's fused matMul hands its operands over) is a matrix product too.
    const [a1, b1] = [tf.tensor3d(a, [1, m, k]), tf.tensor3d(b, [1, k, n])];
    const y1 = tf.matMul(a1, b1);
    expect(y1.shape).toEqual([1, m, n]);
    expect(maxDiff(await y1.data(), matmul64(a, b, m, k, n, false, false))).toBeLessThan(2e-5);
    tf.dispose([a1, b1, y1]);
    // Batched (3-D) products and a bias that is not one per column keep tfjs-node's own kernels.
    const a3 = tf.tensor3d(values(2 * m * k, -1, 1, 14), [2, m, k]);
    const b3 = tf.tensor3d(values(2 * k * n, -1, 1, 15), [2, k, n]);
    const y3 = tf.matMul(a3, b3);
    expect(y3.shape).toEqual([2, m, n]);
    const first = matmul64((await a3.data()) as Float32Array, (await b3.data()) as Float32Array, m, k, n, false, false);
    expect(maxDiff((await y3.data()).subarray(0, m * n), first)).toBeLessThan(2e-5);
    const [a2, b2, quarter] = [tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n]), tf.scalar(0.25)];
    const scalarBias = tf.fused.matMul({ a: a2, b: b2, bias: quarter });
    expect(
      maxDiff(
        await scalarBias.data(),
        matmul64(a, b, m, k, n, false, false).map((v) => v + 0.25),
      ),
    ).toBeLessThan(2e-5);
    tf.dispose([a3, b3, y3, a2, b2, quarter, scalarBias]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('mean over any axes, and the Linear path (matMul + bias, relu, gelu), equal what tfjs-node computes', async (ctx) => {
    if (!present) ctx.skip();
    const before = tf.memory().numTensors;
    const x = tf.tensor3d(values(2 * 5 * 7, -3, 3, 16), [2, 5, 7]);
    const mean = tf.mean(x, -1, true);
    expect(mean.shape).toEqual([2, 5, 1]);
    const xs = Array.from(await x.data());
    const rowMeans = Array.from({ length: 10 }, (_, r) => xs.slice(r * 7, r * 7 + 7).reduce((a, v) => a + v, 0) / 7);
    expect(maxDiff(await mean.data(), rowMeans)).toBeLessThan(1e-6);
    const all = tf.mean(x);
    expect(maxDiff(await all.data(), [xs.reduce((a, v) => a + v, 0) / xs.length])).toBeLessThan(1e-6);
    const int = tf.tensor1d([1, 2, 4], 'int32');
    const ints = tf.mean(int); // tfjs-node's own kernel (its cast to float32)
    expect(Array.from(await ints.data())).toEqual([Math.fround(7 / 3)]);
    tf.dispose([x, mean, all, int, ints]);

    expect(tensorflowLinearApplies()).toBe(!process.env.SBERT_TF_KERNELS || process.env.SBERT_TF_KERNELS === 'native');
    const [rows, inF, outF] = [9, 24, 40];
    const a = tf.tensor2d(values(rows * inF, -2, 2, 17), [rows, inF]);
    const w = tf.tensor2d(values(inF * outF, -0.5, 0.5, 18), [inF, outF]);
    const b = tf.tensor1d(values(outF, -1, 1, 19));
    const ref = tf.fused.matMul({ a, b: w, bias: b });
    for (const act of ['linear', 'relu', 'gelu'] as const) {
      const want = act === 'relu' ? tf.relu(ref) : act === 'gelu' ? gelu(ref) : tf.clone(ref);
      const got = tensorflowLinear(a, w, b, act);
      expect(got.shape).toEqual([rows, outF]);
      expect(maxDiff(await got.data(), Array.from(await want.data())), act).toBeLessThanOrEqual(1e-6);
      tf.dispose([want, got]);
    }
    tf.dispose([a, w, b, ref]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("sbert encode on tensorflow leaves stderr to us: none of TensorFlow's load-time lines, with worker threads too", async (ctx) => {
    if (!present) ctx.skip();
    for (const workers of availableParallelism() > 1 ? ['1', '2'] : ['1']) {
      const args = ['encode', '--model', fixture('tiny', 'st'), '--backend', 'tensorflow', '--workers', workers];
      const r = await sbert(args, { input: '你好\n那个人很开心\n' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr, `--workers ${workers}`).toBe(''); // SBERT_QUIET=1: not even the backend line
      expect(r.stdout.trim().split('\n')).toHaveLength(2);
    }
  });
});
