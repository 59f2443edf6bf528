// The tensorflow backend: why a missing or unbuilt tfjs-node is reported as it is, and, where tfjs-node loads
// (npm run build:tensorflow), that our MatMul kernels compute what tfjs-node's own and float64 compute.
import * as tf from '@tensorflow/tfjs-core';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend, tensorflowOnCpu, tensorflowWorkersSafe } from '../../src/backend/index.js';
import {
  fusedOps,
  tensorflowAttention,
  tensorflowAttentionRows,
  tensorflowKernels,
  tensorflowLayerNorm,
  tensorflowLinear,
  tensorflowLinearAdd,
  tensorflowLinearApplies,
  tensorflowQkvAttention,
  UPLOAD_MIN_ELEMENTS,
} from '../../src/backend/tensorflow-kernels.js';
import { runWithHooks } from '../../src/model/hooks.js';
import { preferLinearWeightsOutIn } from '../../src/backend/kernels.js';
import { disposeInputs, inputsFrom, maxAbsDiff, readHfDir, readRefs, ref } from '../model/helpers.js';
import { BertModel } from '../../src/model/bert.js';
import { attentionComposite } from '../../src/ops/attention.js';
import { whyNotLoaded } from '../../src/backend/tensorflow.js';
import { defaultWorkers, SentenceEncoder, TENSORFLOW_POOL_THRESHOLD } from '../../src/encoder/sentence-encoder.js';
import type { WorkerPool } from '../../src/encoder/worker-pool.js';
import { UsageError } from '../../src/errors.js';
import { maxAbsRows, stRefs } from '../encoder/helpers.js';
import { sbert } from '../cli.js';
import { fixture } from '../fixtures.js';
import { erfReference, maxDiff, values } from '../values.js';

/** tfjs-node's backend, as far as these tests call TensorFlow ops on it by name. */
const nodeBackend = () =>
  tf.backend() as unknown as {
    binding: Record<string, number>;
    executeSingleOutput(op: string, attrs: unknown[], inputs: tf.TensorInfo[]): tf.Tensor;
  };

/**
 * The attention tests' mask and tap: HF's additive mask (finfo(float32).min on padding) for 2 sentences of 5
 * tokens, the second 3 long, [2, 1, 1, 5]; a tap that records each tensor it sees, in order.
 */
function attentionProbe() {
  const min = -3.4028234663852886e38;
  const mask = tf.tensor4d([0, 0, 0, 0, 0, 0, 0, 0, min, min], [2, 1, 1, 5]);
  const seen: number[][] = [];
  const tap = (t: tf.Tensor4D) => {
    seen.push(Array.from(t.dataSync()));
    return t;
  };
  return { mask, seen, tap };
}

describe('tensorflow backend: reports', () => {
  it('our ops are optional: the helper that loads them reports a library that does not load, and throws nothing', (ctx) => {
    const req = createRequire(import.meta.url);
    let helper: string;
    try {
      helper = join(dirname(req.resolve('@tensorflow/tfjs-node/package.json')), 'deps', 'sbert-preload.node');
    } catch {
      return ctx.skip();
    }
    if (!existsSync(helper)) ctx.skip();
    const { loadOptional } = req(helper) as { loadOptional(library: string): string | undefined };
    const dir = mkdtempSync(join(tmpdir(), 'sbert-ops-'));
    try {
      expect(loadOptional(join(dir, 'absent.so'))).toMatch(/absent\.so: cannot open shared object file/);
      writeFileSync(join(dir, 'not-a-library.so'), 'text, not ELF');
      expect(loadOptional(join(dir, 'not-a-library.so'))).toMatch(
        /not-a-library\.so: (file too short|invalid ELF header)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

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

/** The tensorflow backend for one describe block (wasm again after it): whether it started, and its report. */
function tensorflowBackendForBlock(): { present: boolean; report: string } {
  const state = { present: false, report: '' };
  beforeAll(async () => {
    const choice = await setupBackend('tensorflow').catch(() => undefined);
    state.present = choice !== undefined;
    state.report = choice?.reason ?? '';
  });
  afterAll(() => setupBackend('wasm'));
  return state;
}

/** torch's exact GELU in float64. */
const gelu64 = (v: number): number => 0.5 * v * (1 + erfReference(v / Math.SQRT2));

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
  const backend = tensorflowBackendForBlock();

  it('2-D products (every transpose), the fused bias and relu, and batched products equal float64', async (ctx) => {
    if (!backend.present) ctx.skip(); // reported as skipped where tfjs-node is absent or unbuilt (npm run build:tensorflow)
    if (!process.env.SBERT_TF_KERNELS) expect(backend.report).toMatch(/; MatMul for 2-D products(;|$)/);
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
    if (!backend.present) ctx.skip();
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
    const [av, wv, bv] = [values(rows * inF, -2, 2, 17), values(inF * outF, -0.5, 0.5, 18), values(outF, -1, 1, 19)];
    const a = tf.tensor2d(av, [rows, inF]);
    const w = tf.tensor2d(wv, [inF, outF]);
    const b = tf.tensor1d(bv);
    const ref = matmul64(av, wv, rows, inF, outF, false, false).map((v, i) => v + bv[i % outF]!);
    const act64 = {
      linear: (v: number) => v,
      relu: (v: number) => Math.max(0, v),
      gelu: gelu64,
      gelu_tanh: (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    };
    for (const act of ['linear', 'relu', 'gelu', 'gelu_tanh'] as const) {
      const got = tensorflowLinear(a, w, b, act);
      expect(got.shape).toEqual([rows, outF]);
      expect(maxDiff(await got.data(), ref.map(act64[act])), act).toBeLessThanOrEqual(2e-6);
      got.dispose();
    }
    tf.dispose([a, w, b]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("sbert encode on tensorflow leaves stderr to us: none of TensorFlow's load-time lines, with worker threads too", async (ctx) => {
    if (!backend.present) ctx.skip();
    for (const workers of availableParallelism() > 1 ? ['1', '2'] : ['1']) {
      const args = ['encode', '--model', fixture('tiny', 'st'), '--backend', 'tensorflow', '--workers', workers];
      const r = await sbert(args, { input: '你好\n那个人很开心\n' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr, `--workers ${workers}`).toBe(''); // SBERT_QUIET=1: not even the backend line
      expect(r.stdout.trim().split('\n')).toHaveLength(2);
    }
  });
});

describe('tensorflow backend: oneDNN fused ops', () => {
  let present = false;
  // The backend sets TF_ENABLE_ONEDNN_OPTS=0 itself when it starts: what the user set is what counts.
  const userOneDnnOpts = process.env.TF_ENABLE_ONEDNN_OPTS;
  beforeAll(async () => {
    present = (await setupBackend('tensorflow').catch(() => undefined)) !== undefined;
  });
  afterAll(() => setupBackend('wasm'));

  // Where build:tensorflow built the addon (CI's stage), every fused op must be found and agree at start-up: a
  // binding without the string-list patch, or a libtensorflow that lost an op, shows here, not as a slow backend.
  const expectAll = () => !process.env.SBERT_TF_KERNELS && !userOneDnnOpts && tensorflowKernels() === 'native';

  it('the patched binding passes a list(string) attribute: _MklNativeFusedMatMul with BiasAdd + GeluExact', async (ctx) => {
    if (!present) ctx.skip();
    if (expectAll())
      expect(fusedOps()).toEqual({
        matMul: true,
        linear: true,
        residual: true,
        outIn: true,
        layerNorm: true,
        scores: true,
        qkv: true,
        sbertAttention: true,
        sbertLayerNorm: true,
        sbertLinear: true,
        constants: true,
      });
    const be = nodeBackend();
    const B = be.binding;
    const [m, k, n] = [6, 10, 7];
    const [av, wv, bv] = [values(m * k, -2, 2, 31), values(k * n, -0.6, 0.6, 32), values(n, -1, 1, 33)];
    const [a, w, b] = [tf.tensor2d(av, [m, k]), tf.tensor2d(wv, [k, n]), tf.tensor1d(bv)];
    const run = (fusedOpsAttr: string[]) =>
      be.executeSingleOutput(
        '_MklNativeFusedMatMul',
        [
          { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
          { name: 'num_args', type: B.TF_ATTR_INT, value: 1 },
          { name: 'fused_ops', type: B.TF_ATTR_STRING, value: fusedOpsAttr },
          { name: '_kernel', type: B.TF_ATTR_STRING, value: 'MklNameChangeOp' },
        ],
        [a, w, b],
      );
    let y: tf.Tensor;
    try {
      y = run(['BiasAdd', 'GeluExact']);
    } catch (e) {
      // tfjs-node's unpatched binding: "Argument is not a string!"; then no fused op may be in use.
      expect(fusedOps().linear, String(e)).toBe(false);
      tf.dispose([a, w, b]);
      return;
    }
    const want = matmul64(av, wv, m, k, n, false, false).map((v, i) => gelu64(v + bv[i % n]!));
    expect(maxDiff(await y.data(), want)).toBeLessThanOrEqual(2e-6);
    // A list of one is a list too (not the single string the unpatched binding takes).
    const biasOnly = run(['BiasAdd']);
    const wantBias = matmul64(av, wv, m, k, n, false, false).map((v, i) => v + bv[i % n]!);
    expect(maxDiff(await biasOnly.data(), wantBias)).toBeLessThanOrEqual(2e-6);
    tf.dispose([a, w, b, y, biasOnly]);
  });

  it('a Linear with its residual add as one op equals float64', async (ctx) => {
    if (!present || !fusedOps().residual) ctx.skip();
    const before = tf.memory().numTensors;
    const [rows, inF, outF] = [11, 32, 24];
    const [av, wv, bv, rv] = [
      values(rows * inF, -2, 2, 61),
      values(inF * outF, -0.5, 0.5, 62),
      values(outF, -1, 1, 63),
      values(rows * outF, -4, 4, 64),
    ];
    const [a, w, b, r] = [
      tf.tensor2d(av, [rows, inF]),
      tf.tensor2d(wv, [inF, outF]),
      tf.tensor1d(bv),
      tf.tensor2d(rv, [rows, outF]),
    ];
    const got = tensorflowLinearAdd(a, w, b, r);
    expect(got.shape).toEqual([rows, outF]);
    const want = matmul64(av, wv, rows, inF, outF, false, false).map((v, i) => v + bv[i % outF]! + rv[i]!);
    expect(maxDiff(await got.data(), want)).toBeLessThanOrEqual(4e-6);
    // As the layers' other path computes it (Linear, then an Add), within float32 rounding of the sum.
    const apart = tf.tidy(() => tf.add(tensorflowLinear(a, w, b, 'linear'), r));
    expect(maxDiff(await got.data(), Array.from(await apart.data()))).toBeLessThanOrEqual(2e-6);
    tf.dispose([a, w, b, r, got, apart]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Reshape, Transpose and Mean with cached shape handles equal tfjs-node’s kernels, past the cache’s bound', async (ctx) => {
    if (!present || !fusedOps().constants) ctx.skip();
    const before = tf.memory().numTensors;
    const xv = values(2 * 3 * 4, -3, 3, 71);
    const x = tf.tensor3d(xv, [2, 3, 4]);
    const xi = tf.tensor3d(Int32Array.from(xv, Math.round), [2, 3, 4], 'int32');
    // Element (i, j, k) of x, row-major.
    const at = (v: ArrayLike<number>, i: number, j: number, k: number) => v[i * 12 + j * 4 + k]!;
    for (const t of [x, xi]) {
      const v = await t.data();
      for (let round = 0; round < 2; round++) {
        const r = tf.reshape(t, [4, -1]);
        expect(r.shape).toEqual([4, 6]);
        expect(r.dtype).toBe(t.dtype);
        expect(Array.from(await r.data())).toEqual(Array.from(v));
        const p = tf.transpose(t, [2, 0, 1]);
        expect(p.shape).toEqual([4, 2, 3]);
        const pv = await p.data();
        for (let i = 0; i < 2; i++)
          for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expect(pv[k * 6 + i * 3 + j]).toBe(at(v, i, j, k));
        tf.dispose([r, p]);
      }
    }
    const m = tf.mean(x, [0, 2]);
    const want = [0, 1, 2].map((j) => {
      let s = 0;
      for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) s += at(xv, i, j, k);
      return s / 8;
    });
    expect(maxDiff(await m.data(), want)).toBeLessThan(1e-6);
    // More distinct shapes than the cache keeps (4 096): it starts over, and every result stays right.
    const big = tf.tensor1d(values(4200, -1, 1, 72));
    const bv = await big.data();
    for (let n = 1; n <= 4200; n++) {
      const s = tf.slice(big, 0, n);
      const r = tf.reshape(s, [1, n]);
      if (n % 700 === 0 || n === 4200) expect(Array.from(await r.data())).toEqual(Array.from(bv.subarray(0, n)));
      tf.dispose([s, r]);
    }
    const again = tf.reshape(x, [4, -1]);
    expect(Array.from(await again.data())).toEqual(Array.from(await x.data()));
    tf.dispose([x, xi, m, big, again]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('float32 tensors of 1 024 elements or more are in TensorFlow when made (weights upload at load)', async (ctx) => {
    if (!present || tensorflowKernels() !== 'native') ctx.skip();
    const tensorMap = (tf.backend() as unknown as { tensorMap: { get(id: object): { values: unknown } } }).tensorMap;
    const big = values(UPLOAD_MIN_ELEMENTS, -1, 1, 81);
    const [t, small, ints] = [
      tf.tensor1d(big),
      tf.tensor1d(big.subarray(0, UPLOAD_MIN_ELEMENTS - 1)),
      tf.tensor1d(Int32Array.from(big, Math.round), 'int32'),
    ];
    expect(tensorMap.get(t.dataId).values).toBeNull(); // uploaded: tfjs-node dropped its JavaScript copy
    expect(tensorMap.get(small.dataId).values).not.toBeNull(); // uploaded on first use, as tfjs-node does
    expect(tensorMap.get(ints.dataId).values).not.toBeNull();
    expect(Array.from(await t.data())).toEqual(Array.from(big));
    const twice = tf.mul(t, 2);
    expect(Array.from(await twice.data())).toEqual(Array.from(big, (v) => v * 2));
    tf.dispose([t, small, ints, twice]);
  });

  it('LayerNorm (with and without the residual) equals torch’s arithmetic in float64', async (ctx) => {
    if (!present || !fusedOps().layerNorm) ctx.skip();
    const before = tf.memory().numTensors;
    const [rows, H] = [6, 48];
    // Rows far from zero mean, as residual streams are: a one-pass variance would lose digits here.
    const xv = values(rows * H, 5, 9, 41);
    const rv = values(rows * H, -1, 1, 42);
    const [gv, bv] = [values(H, 0.5, 1.5, 43), values(H, -0.2, 0.2, 44)];
    const [x, r, g, b] = [tf.tensor3d(xv, [2, 3, H]), tf.tensor3d(rv, [2, 3, H]), tf.tensor1d(gv), tf.tensor1d(bv)];
    const ln64 = (v: ArrayLike<number>) => {
      const out: number[] = [];
      for (let i = 0; i < rows; i++) {
        const row = Array.from({ length: H }, (_, j) => v[i * H + j]!);
        const mean = row.reduce((s, t) => s + t, 0) / H;
        const variance = row.reduce((s, t) => s + (t - mean) ** 2, 0) / H;
        row.forEach((t, j) => out.push(((t - mean) / Math.sqrt(variance + 1e-12)) * gv[j]! + bv[j]!));
      }
      return out;
    };
    const alone = tensorflowLayerNorm(x, undefined, g, b, 1e-12);
    expect(alone.shape).toEqual([2, 3, H]);
    expect(maxDiff(await alone.data(), ln64(xv))).toBeLessThanOrEqual(2e-5);
    const summed = tensorflowLayerNorm(x, r, g, b, 1e-12);
    const sum = Array.from(xv, (v, i) => Math.fround(v + rv[i]!));
    expect(maxDiff(await summed.data(), ln64(sum))).toBeLessThanOrEqual(2e-5);
    tf.dispose([x, r, g, b, alone, summed]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('attention (scores with scale and mask as one op) equals the tfjs composite, taps included', async (ctx) => {
    if (!present || !fusedOps().scores || !fusedOps().matMul) ctx.skip();
    const before = tf.memory().numTensors;
    const [B, L, heads, d] = [2, 5, 3, 8];
    const qkv = [51, 52, 53].map((seed) => tf.tensor4d(values(B * L * heads * d, -2, 2, seed), [B, L, heads, d]));
    const [q, k, v] = qkv as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { mask, seen, tap } = attentionProbe();
    // (the composite leaves a temporary to the caller's tidy)
    const ref = tf.tidy(() => attentionComposite(q, k, v, mask, d ** -0.5, tap, tap));
    const got = tensorflowAttention(q, k, v, mask, d ** -0.5, tap, tap);
    expect(got.z.shape).toEqual([B, L, heads, d]);
    expect(got.probs.shape).toEqual([B, heads, L, L]);
    expect(maxDiff(await got.z.data(), await ref.z.data())).toBeLessThanOrEqual(2e-6);
    expect(maxDiff(await got.probs.data(), await ref.probs.data())).toBeLessThanOrEqual(1e-6);
    // The taps saw the same masked, scaled scores and the same probabilities.
    expect(maxDiff(seen[2]!, seen[0]!)).toBeLessThanOrEqual(4e-6);
    expect(maxDiff(seen[3]!, seen[1]!)).toBeLessThanOrEqual(1e-6);
    // A tap's replacement is what the rest uses: zeroed probabilities give z = 0.
    const zMax = tf.tidy(() => {
      const zeroed = tensorflowAttention(q, k, v, mask, d ** -0.5, undefined, (t) => tf.zerosLike(t));
      return tf.max(tf.abs(zeroed.z));
    });
    expect(await zMax.data()).toEqual(new Float32Array([0]));
    tf.dispose([...qkv, mask, ref.z, ref.probs, got.z, got.probs, zMax]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('tensorflow backend: Q, K, V as one matmul', () => {
  let present = false;
  beforeAll(async () => {
    present = (await setupBackend('tensorflow').catch(() => undefined)) !== undefined;
  });
  afterAll(() => setupBackend('wasm'));

  it('attention from one projection side by side equals the composite on its three parts, taps included', async (ctx) => {
    if (!present || !fusedOps().qkv) ctx.skip();
    const before = tf.memory().numTensors;
    const [B, L, heads, d] = [2, 5, 3, 8];
    const H = heads * d;
    const packed = tf.tensor2d(values(B * L * 3 * H, -2, 2, 61), [B * L, 3 * H]);
    // Q's columns, then K's, then V's, each [B·L, H] → [B, L, heads, d].
    const parts = tf.tidy(() => tf.split(packed, 3, 1).map((t) => tf.reshape(t, [B, L, heads, d]) as tf.Tensor4D));
    const [q, k, v] = parts as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { mask, seen, tap } = attentionProbe();
    const ref = tf.tidy(() => attentionComposite(q, k, v, mask, d ** -0.5, tap, tap));
    const got = tensorflowQkvAttention(packed, [B, L, heads, d], mask, d ** -0.5, tap, tap);
    expect(got.z.shape).toEqual([B, L, heads, d]);
    expect(maxDiff(await got.z.data(), await ref.z.data())).toBeLessThanOrEqual(2e-6);
    expect(maxDiff(await got.probs.data(), await ref.probs.data())).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(seen[2]!, seen[0]!)).toBeLessThanOrEqual(4e-6);
    // The same op sequence as the three projections' path: bit for bit.
    const three = tensorflowAttention(q, k, v, mask, d ** -0.5);
    expect(await got.z.data()).toEqual(await three.z.data());
    tf.dispose([packed, ...parts, mask, ref.z, ref.probs, got.z, got.probs, three.z, three.probs]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a forward runs 4 matmuls a layer, on HF’s [out, in] weights where asked, Q, K, V as one; hooks on them and query/key/value give what three would', async (ctx) => {
    if (!present || !fusedOps().qkv || !fusedOps().outIn) ctx.skip();
    const { config, weights } = readHfDir(fixture('tiny', 'hf'));
    const empty = tf.memory().numTensors;
    // Where our SbertLinear runs every Linear keeps HF's [out, in]; with oneDNN's, only where asked (the pool's
    // workers ask, as here), and in process [in, out].
    const inProcess = BertModel.load(config, weights);
    expect(inProcess.encoder.layers[0]!.intermediate.dense.layout).toBe(fusedOps().sbertLinear ? 'out-in' : 'in-out');
    inProcess.dispose();
    preferLinearWeightsOutIn(true);
    let model: BertModel;
    try {
      model = BertModel.load(config, weights);
    } finally {
      preferLinearWeightsOutIn(false);
    }
    const refs = readRefs(fixture('tiny', 'refs.safetensors'));
    const before = tf.memory().numTensors;
    const inputs = inputsFrom(refs);
    // Each op tfjs-node's binding runs, by name (our kernels call it directly, so tf.profile does not see them).
    const be = tf.backend() as unknown as { binding: { executeOp: (op: string, ...rest: unknown[]) => unknown } };
    const binding = be.binding;
    const ops: string[] = [];
    be.binding = Object.create(binding, {
      executeOp: {
        value: (op: string, ...rest: unknown[]) => {
          ops.push(op);
          return binding.executeOp(op, ...rest);
        },
      },
    });
    let plain: tf.Tensor;
    try {
      plain = model.forward(inputs).lastHiddenState;
    } finally {
      be.binding = binding;
    }
    // HF's own output for these inputs (unpadded positions).
    const refMask = ref(refs, 'attention_mask');
    expect(maxAbsDiff(await plain.data(), ref(refs, 'last_hidden_state'), refMask)).toBeLessThanOrEqual(2e-5);
    const count = (name: string) => ops.filter((o) => o === name).length;
    // Our Linear op where it was built (with the residual add: SbertLinearAdd), else oneDNN's fused matmul.
    const linears = fusedOps().sbertLinear
      ? count('SbertLinear') + count('SbertLinearAdd')
      : count('_MklNativeFusedMatMul');
    expect(linears).toBe(4 * config.numHiddenLayers);
    if (fusedOps().sbertLinear) expect(count('SbertLinearAdd')).toBe(2 * config.numHiddenLayers);
    // Every Linear keeps HF's [out, in] weight (no transpose at load); the op takes it as it is (transpose_w).
    const layer = model.encoder.layers[0]!;
    for (const lin of [layer.intermediate.dense, layer.output.dense, layer.attention.output.dense])
      expect(lin.layout).toBe('out-in');
    // The attention is our one op (scripts/tensorflow-ops.cc) where it was built, else TensorFlow's, heads first.
    expect(count(fusedOps().sbertAttention ? 'SbertAttention' : 'Unpack')).toBe(config.numHiddenLayers);
    // Hooks on Q, K and V see the three cut from the one product, and change nothing (with our attention op, what
    // they return goes back to it side by side).
    const seen = new Map<string, number[]>();
    const names = ['blocks.0.attn.hook_q', 'blocks.0.attn.hook_k', 'blocks.0.attn.hook_v'];
    const hooks = Object.fromEntries(
      names.map((n) => [n, (t: tf.Tensor) => void seen.set(n, Array.from(t.dataSync()))]),
    );
    const hooked = runWithHooks(model, inputs, hooks);
    expect(await hooked.lastHiddenState.data()).toEqual(await plain.data());
    // query, key and value, read, are HF's weights as [in, out] and biases; with them, Q is what the hook saw.
    const self = model.encoder.layers[0]!.attention.self;
    const H = config.hiddenSize;
    const [B, L] = inputs.inputIds.shape;
    for (const [i, name] of (['query', 'key', 'value'] as const).entries()) {
      const hf = weights.scope(`encoder.layer.0.attention.self.${name}`);
      const w = hf.get('weight', [H, H]).data;
      const got = await self[name].weight.data();
      expect(Array.from({ length: H * H }, (_, j) => got[(j % H) * H + Math.floor(j / H)])).toEqual(Array.from(w));
      expect(await self[name].bias.data()).toEqual(hf.get('bias', [H]).data);
      const x = tf.tidy(() => {
        const emb = model.embeddings.forward(inputs.inputIds, inputs.tokenTypeIds!);
        return self[name].forward(tf.reshape(emb, [B * L, H]) as tf.Tensor2D);
      });
      expect(maxDiff(await x.data(), seen.get(names[i]!)!)).toBeLessThanOrEqual(1e-6);
      x.dispose();
    }
    tf.dispose([plain, hooked.lastHiddenState]);
    disposeInputs(inputs);
    // The three Linears read above (weights and biases), each weight made [in, out] when read: the model's now.
    expect(tf.memory().numTensors).toBe(before + 9);
    model.dispose();
    expect(tf.memory().numTensors).toBe(empty);
  });
});

/**
 * BERT's attention in float64 from one projection's output side by side: qkv [B·L, 3·heads·d], the additive mask
 * [B·L] → z [B·L, heads·d]. Scores get the mask added in float32, as torch adds finfo(float32).min (which swallows
 * the score: a sentence with every key masked then has equal scores, and torch's softmax is uniform).
 */
function attention64(qkv: Float32Array, mask: Float32Array, B: number, L: number, heads: number, d: number) {
  const H = heads * d;
  const z = new Float64Array(B * L * H);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < L; i++) {
        const row = (b * L + i) * 3 * H;
        const s = Array.from({ length: L }, (_, j) => {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += qkv[row + h * d + c]! * qkv[(b * L + j) * 3 * H + H + h * d + c]!;
          return Math.fround(Math.fround(dot * d ** -0.5) + mask[b * L + j]!);
        });
        const max = Math.max(...s);
        const e = s.map((x) => Math.exp(x - max));
        const sum = e.reduce((a, x) => a + x, 0);
        for (let c = 0; c < d; c++) {
          let acc = 0;
          for (let j = 0; j < L; j++) acc += (e[j]! / sum) * qkv[(b * L + j) * 3 * H + 2 * H + h * d + c]!;
          z[(b * L + i) * H + h * d + c] = acc;
        }
      }
    }
  }
  return z;
}

describe('tensorflow backend: ops of ours (scripts/tensorflow-ops.cc)', () => {
  const backend = tensorflowBackendForBlock();

  it('the report names them and the kernels the CPU runs, where they were built and checked', (ctx) => {
    if (!backend.present) ctx.skip();
    const { sbertAttention, sbertLayerNorm, sbertLinear } = fusedOps();
    const all = sbertAttention && sbertLayerNorm && sbertLinear;
    const ours =
      /; ops of ours \((AVX-512|AVX2|SSE2|4-float vector) kernels\): SbertLinear \(with its bias, GELU \/ ReLU and residual add\), SbertAttention, SbertLayerNorm(;|$)/;
    expect(ours.test(backend.report), backend.report).toBe(all);
    // With our Linear, oneDNN's fused matmul is not named as what runs the Linear layers.
    if (sbertLinear) expect(backend.report).not.toMatch(/Linear with its bias and GELU/);
  });

  // torch's nn.Linear (+ activation, + residual) in float64: x [m, k] · w ([k, n], or [n, k] as HF keeps it) + b.
  const linear64 = (
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    [m, k, n]: readonly number[],
    outIn: boolean,
    act: (v: number) => number,
    r?: Float32Array,
  ) => matmul64(x, w, m!, k!, n!, false, outIn).map((v, i) => act(v + b[i % n!]!) + (r ? r[i]! : 0));
  const acts64 = {
    linear: (v: number) => v,
    relu: (v: number) => Math.max(0, v),
    gelu: gelu64,
    gelu_tanh: (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  };
  // SbertLinear run directly, with its threads attribute (the model's path sets it to the intra-op count).
  const runLinear = (inputs: tf.TensorInfo[], outIn: boolean, activation: string, threads: number): tf.Tensor => {
    const be = nodeBackend();
    return be.executeSingleOutput(
      inputs.length === 4 ? 'SbertLinearAdd' : 'SbertLinear',
      [
        { name: 'transpose_w', type: be.binding.TF_ATTR_BOOL, value: outIn },
        { name: 'activation', type: be.binding.TF_ATTR_STRING, value: activation },
        { name: 'threads', type: be.binding.TF_ATTR_INT, value: threads },
      ],
      inputs,
    );
  };

  // Rows and columns ending in partial tiles (a tile is 6 rows × 8, 16 or 32 columns, by the CPU), k of one to
  // three slices of 256, rows past a block of 144, one output, BERT-base's widths; large enough to be split.
  const linearShapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 5, 17],
    [13, 300, 70],
    [150, 520, 40],
    [40, 768, 2304],
  ];
  for (const [m, k, n] of linearShapes)
    it(`SbertLinear [${m}, ${k}] · [${k}, ${n}] equals float64: each activation, both weight layouts, the residual; threads alike`, async (ctx) => {
      if (!backend.present || !fusedOps().sbertLinear) ctx.skip();
      const before = tf.memory().numTensors;
      const [xv, wv, bv, rv] = [
        values(m * k, -1, 1, m + k),
        values(k * n, -0.2, 0.2, k + n),
        values(n, -1, 1, n),
        values(m * n, -3, 3, m * n),
      ];
      const x = tf.tensor2d(xv, [m, k]);
      const b = tf.tensor1d(bv);
      const r = tf.tensor2d(rv, [m, n]);
      const wT = Float32Array.from({ length: k * n }, (_, i) => wv[(i % k) * n + Math.floor(i / k)]!);
      for (const outIn of [false, true]) {
        const w = outIn ? tf.tensor2d(wT, [n, k]) : tf.tensor2d(wv, [k, n]);
        for (const [act, f] of Object.entries(acts64)) {
          const want = linear64(xv, wv, bv, [m, k, n], false, f);
          const got = tensorflowLinear(x, w, b, act as keyof typeof acts64, outIn);
          expect(got.shape).toEqual([m, n]);
          const data = await got.data();
          // float32 sums of up to 768 products of magnitude ≤ 0.2 (outputs up to ≈ 10).
          expect(maxDiff(data, want), `${act}, [out, in] ${outIn}`).toBeLessThanOrEqual(1e-5);
          // Each output is one sum in a fixed order, whichever thread computes it.
          const [one, four] = [runLinear([x, w, b], outIn, act, 1), runLinear([x, w, b], outIn, act, 4)];
          expect(await one.data()).toEqual(data);
          expect(await four.data()).toEqual(data);
          tf.dispose([got, one, four]);
        }
        const added = tensorflowLinearAdd(x, w, b, r, outIn);
        expect(
          maxDiff(await added.data(), linear64(xv, wv, bv, [m, k, n], false, acts64.linear, rv)),
        ).toBeLessThanOrEqual(1e-5);
        const geluAdded = runLinear([x, w, b, r], outIn, 'gelu', 2); // activation, then the residual
        expect(maxDiff(await geluAdded.data(), linear64(xv, wv, bv, [m, k, n], false, gelu64, rv))).toBeLessThanOrEqual(
          1e-5,
        );
        tf.dispose([w, added, geluAdded]);
      }
      tf.dispose([x, b, r]);
      expect(tf.memory().numTensors).toBe(before);
    });

  it('SbertLinear on an empty product: no rows gives [0, n]; k = 0 gives the bias through the activation', async (ctx) => {
    if (!backend.present || !fusedOps().sbertLinear) ctx.skip();
    const before = tf.memory().numTensors;
    const [x0, w, b] = [tf.zeros([0, 3]), tf.ones([3, 4]), tf.tensor1d([-1, 0, 0.5, 2])];
    const none = runLinear([x0, w, b], false, 'linear', 2);
    expect(none.shape).toEqual([0, 4]);
    const [xk, wk] = [tf.zeros([2, 0]), tf.zeros([0, 4])];
    const bias = runLinear([xk, wk, b], false, 'relu', 1);
    expect(Array.from(await bias.data())).toEqual([0, 0, 0.5, 2, 0, 0, 0.5, 2]);
    tf.dispose([x0, w, b, none, xk, wk, bias]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('SbertLinear refuses shapes it cannot take, with a message naming the op', (ctx) => {
    if (!backend.present || !fusedOps().sbertLinear) ctx.skip();
    const before = tf.memory().numTensors;
    const [x, w, b, r] = [tf.zeros([3, 4]), tf.zeros([5, 6]), tf.zeros([6]), tf.zeros([3, 5])];
    const message = /SbertLinear: expected float x \[M, K\], w \[K, N\]/;
    expect(() => runLinear([x, w, b], false, 'linear', 1)).toThrow(message); // k 4 ≠ 5
    const [w2, b5, x3] = [tf.zeros([4, 6]), tf.zeros([5]), tf.zeros([2, 3, 4])];
    expect(() => runLinear([x, w2, b5], false, 'linear', 1)).toThrow(message); // bias 5 ≠ 6 columns
    expect(() => runLinear([x, w2, b, r], false, 'linear', 1)).toThrow(message); // residual [3, 5] ≠ [3, 6]
    expect(() => runLinear([x3, w2, b], false, 'linear', 1)).toThrow(message); // x not a matrix
    tf.dispose([x, w, b, r, w2, b5, x3]);
    expect(tf.memory().numTensors).toBe(before);
  });

  // Head widths with and without a tail past whole vectors of 16; sentences of one to more than 16 keys; masked
  // keys, and a sentence whose keys are all masked; the last shape is large enough to be split over threads.
  const shapes: [number, number, number, number][] = [
    [3, 7, 4, 8],
    [2, 17, 2, 24],
    [1, 1, 2, 16],
    [16, 24, 12, 64],
  ];
  for (const [B, L, heads, d] of shapes)
    it(`SbertAttention [B ${B}, L ${L}, heads ${heads}, d ${d}] equals float64, one thread or several alike`, async (ctx) => {
      if (!backend.present || !fusedOps().sbertAttention) ctx.skip();
      const before = tf.memory().numTensors;
      const H = heads * d;
      const qv = values(B * L * 3 * H, -2, 2, B * 100 + L);
      const min = -3.4028234663852886e38;
      const mv = Float32Array.from({ length: B * L }, (_, i) => {
        const [b, j] = [Math.floor(i / L), i % L];
        return (b === 1 && j >= L - 2) || b === 2 ? min : 0; // sentence 1 loses its last two keys, 2 all of them
      });
      const [qkv, mask] = [tf.tensor2d(qv, [B * L, 3 * H]), tf.tensor4d(mv, [B, 1, 1, L])];
      const got = tensorflowAttentionRows(qkv, heads, mask, d ** -0.5);
      expect(got.shape).toEqual([B * L, H]);
      const data = await got.data();
      expect(maxDiff(data, attention64(qv, mv, B, L, heads, d))).toBeLessThanOrEqual(2e-6);
      // Each head is computed whole by one thread: how many run does not change a bit.
      const be = nodeBackend();
      const run = (threads: number) =>
        be.executeSingleOutput(
          'SbertAttention',
          [
            { name: 'heads', type: be.binding.TF_ATTR_INT, value: heads },
            { name: 'scale', type: be.binding.TF_ATTR_FLOAT, value: d ** -0.5 },
            { name: 'threads', type: be.binding.TF_ATTR_INT, value: threads },
          ],
          [qkv, mask],
        );
      const [one, four] = [run(1), run(4)];
      expect(await one.data()).toEqual(data);
      expect(await four.data()).toEqual(data);
      tf.dispose([qkv, mask, got, one, four]);
      expect(tf.memory().numTensors).toBe(before);
    });

  // The kernels are compiled once per instruction set (scripts/tensorflow-kernels.h) and picked by the CPU;
  // SBERT_TF_KERNELS_ISA asks for a narrower one, so each set this CPU runs is checked here, whole models against
  // HF's references: BERT-base's shape (every tensor), and GELU-tanh and ReLU models (the other epilogues).
  const flags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const cpuHas = (flag: string) => new RegExp(`^flags\\s*:.*\\b${flag}\\b`, 'm').test(flags);
  const isas: [string, string, boolean][] = [
    ['baseline', process.arch === 'x64' ? 'SSE2' : '4-float vector', true],
    ['avx2', 'AVX2', process.arch === 'x64' && cpuHas('avx2') && cpuHas('fma')],
    ['avx512', 'AVX-512', process.arch === 'x64' && cpuHas('avx512f') && cpuHas('fma')],
  ];
  // BERT-base's shape with the synthetic weights its references were made with (SYNTHETIC.md), written once.
  let base: Promise<string> | undefined;
  const baseDir = () =>
    (base ??= (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sbert-isa-base-'));
      const run = await sbert(['synth', '--config', fixture('base', 'hf', 'config.json'), '--out', dir]);
      if (run.code !== 0) throw new Error(run.stderr);
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(fixture('base', 'hf', f), join(dir, f));
      return dir;
    })());
  afterAll(async () => {
    if (base) rmSync(await base, { recursive: true, force: true });
  });
  for (const [isa, name, runs] of isas)
    it(`SBERT_TF_KERNELS_ISA=${isa}: the ${name} kernels pass sbert compare on BERT-base's shape, gelu_new and relu`, async (ctx) => {
      if (!backend.present || !fusedOps().sbertLinear) ctx.skip();
      if (!runs) ctx.skip(); // this CPU does not run them
      for (const model of ['base', 'activations/gelu_new', 'activations/relu']) {
        const dir = model === 'base' ? await baseDir() : fixture(model, 'hf');
        const run = await sbert(
          ['compare', '--backend', 'tensorflow', '--model', dir, '--reference', fixture(model, 'refs.safetensors')],
          { env: { SBERT_TF_KERNELS_ISA: isa, SBERT_QUIET: '0' }, timeoutMs: 300_000 },
        );
        expect(run.code, `${model}: ${run.stderr}`).toBe(0);
        expect(run.stderr).toContain(`ops of ours (${name} kernels): SbertLinear`);
      }
    }, 600_000);

  it('SbertAttention refuses shapes it cannot take, with a message naming the op', (ctx) => {
    if (!backend.present || !fusedOps().sbertAttention) ctx.skip();
    const before = tf.memory().numTensors;
    const qkv = tf.zeros([6, 24]) as tf.Tensor2D;
    const wrongRows = tf.zeros([2, 1, 1, 4]) as tf.Tensor4D; // 2 · 4 ≠ 6 rows
    expect(() => tensorflowAttentionRows(qkv, 2, wrongRows, 0.5)).toThrow(/SbertAttention: expected float qkv/);
    const wrongHeads = tf.zeros([2, 1, 1, 3]) as tf.Tensor4D;
    expect(() => tensorflowAttentionRows(qkv, 5, wrongHeads, 0.5)).toThrow(/SbertAttention: expected float qkv/);
    tf.dispose([qkv, wrongRows, wrongHeads]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('SbertLayerNorm equals torch’s arithmetic in float64, any rank, widths with a tail; a constant row gives β', async (ctx) => {
    if (!backend.present || !fusedOps().sbertLayerNorm) ctx.skip();
    const before = tf.memory().numTensors;
    for (const H of [40, 768]) {
      const rows = 6;
      const xv = values(rows * H, 5, 9, H); // far from zero mean, as residual streams are
      xv.fill(0.75, H, 2 * H);
      const [gv, bv] = [values(H, 0.5, 1.5, H + 1), values(H, -0.2, 0.2, H + 2)];
      const want: number[] = [];
      for (let i = 0; i < rows; i++) {
        const row = Array.from(xv.subarray(i * H, (i + 1) * H));
        const mean = row.reduce((s, t) => s + t, 0) / H;
        const variance = row.reduce((s, t) => s + (t - mean) ** 2, 0) / H;
        row.forEach((t, j) => want.push(((t - mean) / Math.sqrt(variance + 1e-12)) * gv[j]! + bv[j]!));
      }
      const [x, g, b] = [tf.tensor3d(xv, [2, 3, H]), tf.tensor1d(gv), tf.tensor1d(bv)];
      const y = tensorflowLayerNorm(x, undefined, g, b, 1e-12);
      expect(y.shape).toEqual([2, 3, H]);
      const got = await y.data();
      expect(maxDiff(got, want)).toBeLessThanOrEqual(2e-5);
      expect(got.subarray(H, 2 * H)).toEqual(bv);
      tf.dispose([x, g, b, y]);
    }
    // Rows split over threads from 64 K values: each row is whole on one thread, so any count gives the same bits.
    const [rows, H] = [100, 768];
    const [x, g, b] = [tf.tensor2d(values(rows * H, -4, 6, 7), [rows, H]), tf.ones([H]), tf.zeros([H])];
    const be = nodeBackend();
    const run = (threads: number) =>
      be.executeSingleOutput(
        'SbertLayerNorm',
        [
          { name: 'epsilon', type: be.binding.TF_ATTR_FLOAT, value: 1e-12 },
          { name: 'threads', type: be.binding.TF_ATTR_INT, value: threads },
        ],
        [x, g, b],
      );
    const [one, three] = [run(1), run(3)];
    expect(await three.data()).toEqual(await one.data());
    tf.dispose([x, g, b, one, three]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('tensorflow backend: a pool of workers', () => {
  let present = false;
  beforeAll(async () => {
    present = (await setupBackend('tensorflow').catch(() => undefined)) !== undefined;
  });
  afterAll(() => setupBackend('wasm'));
  const poolOf = (enc: SentenceEncoder) => (enc as unknown as { pool?: Promise<WorkerPool> }).pool;

  it('by default from 1 024 sentences a call on tfjs-node (CPU), one worker per core; the same vectors', async (ctx) => {
    if (!present) ctx.skip();
    expect(tensorflowOnCpu()).toBe(true); // this project builds tfjs-node, not -gpu
    expect(tensorflowWorkersSafe()).toBe(true); // and with the binding's lock (scripts/build-tensorflow.mjs)
    const cores = availableParallelism();
    expect(TENSORFLOW_POOL_THRESHOLD).toBe(1024);
    expect(defaultWorkers('tensorflow', 1023)).toBe(1);
    expect(defaultWorkers('tensorflow', 1024)).toBe(Math.max(cores, 1));
    if (cores < 2) return;
    const refs = stRefs('tiny');
    const many = Array.from({ length: 1024 }, (_, i) => refs.sentences[(i * 7) % refs.sentences.length]!);
    const enc = await SentenceEncoder.load(fixture('tiny', 'st'), { backend: 'tensorflow' });
    try {
      const few = await enc.encode(refs.sentences); // in process: no pool yet
      expect(poolOf(enc)).toBeUndefined();
      expect(maxAbsRows(few, refs.mean)).toBeLessThanOrEqual(1e-5);
      const before = tf.memory().numTensors;
      const pooled = await enc.encode(many, { batchSize: 16 });
      const pool = await poolOf(enc);
      expect(pool?.threads).toHaveLength(cores);
      expect(
        maxAbsRows(
          pooled,
          many.map((_, i) => refs.mean[(i * 7) % refs.sentences.length]!),
        ),
      ).toBeLessThanOrEqual(1e-5);
      expect(tf.memory().numTensors).toBe(before); // the workers' tensors are theirs; none left here
    } finally {
      await enc.dispose();
    }
  });

  it('workers given to load start there: the pool is up before the first call, and that call uses it', async (ctx) => {
    if (!present || availableParallelism() < 2) ctx.skip();
    const refs = stRefs('tiny');
    const enc = await SentenceEncoder.load(fixture('tiny', 'st'), { backend: 'tensorflow', workers: 2 });
    try {
      const pool = poolOf(enc);
      expect(pool).toBeDefined();
      expect((await pool!).threads).toHaveLength(2);
      const got = await enc.encode(refs.sentences);
      expect(maxAbsRows(got, refs.mean)).toBeLessThanOrEqual(1e-5);
      expect(poolOf(enc)).toBe(pool); // no second pool
    } finally {
      await enc.dispose();
    }
  });
});
