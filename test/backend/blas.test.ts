// The wasm backend's BLAS provider (src/backend/blas): where it looks, what it refuses and how it says so (one
// clause of the backend's line, never a crash), and, where a BLAS loads here, that the kernels run on it, in
// place, and agree with a float64 reference and with tfjs-wasm's own kernels. CI installs OpenBLAS and sets
// SBERT_TEST_BLAS=required, so there the BLAS half cannot quietly skip.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { activeBlas, blasMatmulCalls, setupWasmBlas, wasmBlasActive } from '../../src/backend/blas/index.js';
import { BlasLoadError, type Cblas, type Koffi, loadCblas, sgemmSelfCheck } from '../../src/backend/blas/cblas.js';
import { blasCandidates, blasSetting, unloadablePath } from '../../src/backend/blas/find.js';
import {
  attendHeads,
  BLAS_ATTENTION_KERNEL,
  blasAttention,
  blasAttentionApplies,
  softmaxRows,
} from '../../src/backend/blas/wasm-attention.js';
import { wasmGelu, wasmLayerNorm, wasmLayerNormKeepingSum } from '../../src/backend/blas/wasm-elementwise.js';
import { heapOffset, heapView, type WasmBackend } from '../../src/backend/blas/wasm-heap.js';
import { simdKernels } from '../../src/backend/blas/wasm-simd.js';
import { attention } from '../../src/backend/kernels.js';
import { type AttentionTap, attentionComposite } from '../../src/ops/attention.js';
import { attentionReference } from '../../src/backend/webgpu/attention.js';
import { blasLinear, erf } from '../../src/backend/blas/wasm-matmul.js';
import { setupBackend } from '../../src/backend/index.js';
import { encodeJobs, WASM_BLAS_BATCHING } from '../../src/encoder/batches.js';
import { batchingKey, POOL_THRESHOLD, SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { fixture, ROOT } from '../fixtures.js';
import { erfReference, maxDiff, values } from '../values.js';

const REQUIRED = process.env.SBERT_TEST_BLAS === 'required';
const saved = process.env.SBERT_BLAS;
const restoreEnv = () => {
  if (saved === undefined) delete process.env.SBERT_BLAS;
  else process.env.SBERT_BLAS = saved;
};

/** Row-major sgemm in float64, honouring leading dimensions and transposes: what cblas_sgemm must compute. */
const referenceSgemm: Cblas['sgemm'] = (tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[tA ? p * lda + i : i * lda + p]! * b[tB ? j * ldb + p : p * ldb + j]!;
      c[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * ldc + j]!);
    }
  }
};

const ROW_MAJOR = 101;
const TRANS = 112;

/**
 * A koffi whose library exports what `behaviour` says, to reach every refusal without a real broken library:
 * a CBLAS (`sgemm`), or oneDNN (`onednn`: dnnl_sgemm and dnnl_version, with libgomp's thread calls beside it).
 */
function fakeKoffi(behaviour: {
  load?: string;
  sgemm?: 'missing' | 'right' | 'wrong';
  onednn?: 'right' | 'wrong' | 'failing';
}): Koffi & { ompThreads: number } {
  const fake = {
    ompThreads: 4,
    decode(ptr: unknown, type: string, count: number) {
      expect([ptr, type, count]).toEqual(['dnnl_version_t', 'int', 3]);
      return [2, 6, 3];
    },
    load(path: string) {
      if (behaviour.load) throw new Error(`Failed to load shared library: ${path}: ${behaviour.load}`);
      const missing = () => {
        throw new Error(`Cannot find function in ${path}`);
      };
      if (path === 'libgomp.so.1')
        return {
          func: (definition: string) =>
            definition.includes('omp_get_max_threads')
              ? () => fake.ompThreads
              : (n: unknown) => {
                  fake.ompThreads = Number(n);
                },
        };
      return {
        func(definition: string) {
          if (behaviour.onednn) {
            if (definition.includes('dnnl_version')) return () => 'dnnl_version_t';
            if (!definition.includes('dnnl_sgemm')) return missing();
            return (...args: unknown[]) => {
              const [ta, tb, ...rest] = args as [
                number,
                number,
                ...(Parameters<Cblas['sgemm']> extends [boolean, boolean, ...infer R] ? R : never),
              ];
              const [m, n, k, alpha, a, lda, b, ldb, beta, c, ldc] = rest;
              const T = 'T'.charCodeAt(0);
              expect([ta, tb].every((t) => t === T || t === 'N'.charCodeAt(0))).toBe(true);
              if (behaviour.onednn === 'failing') return 2; // dnnl_invalid_arguments
              referenceSgemm(ta === T, tb === T, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
              if (behaviour.onednn === 'wrong') c[0] = c[0]! + 1;
              return 0;
            };
          }
          if (!definition.includes('cblas_sgemm') || behaviour.sgemm === 'missing') return missing();
          return (...args: unknown[]) => {
            const [order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc] = args as [
              number,
              number,
              number,
              number,
              number,
              number,
              number,
              Float32Array,
              number,
              Float32Array,
              number,
              number,
              Float32Array,
              number,
            ];
            expect(order).toBe(ROW_MAJOR);
            referenceSgemm(ta === TRANS, tb === TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            if (behaviour.sgemm === 'wrong') c[0] = c[0]! + 1;
          };
        },
      };
    },
  };
  return fake;
}

describe('where the BLAS is looked for', () => {
  it('SBERT_BLAS: unset, empty or auto searches; off (and 0/false/none/no) turns it off; anything else is a path', () => {
    for (const v of [undefined, '', ' ', 'auto']) expect(blasSetting(v)).toEqual({ kind: 'search' });
    for (const v of ['off', 'OFF', '0', 'false', 'none', 'no']) expect(blasSetting(v)).toEqual({ kind: 'off' });
    expect(blasSetting('/opt/lib/libopenblas.so.0')).toEqual({ kind: 'path', path: '/opt/lib/libopenblas.so.0' });
    expect(blasSetting('libmkl_rt.so.2')).toEqual({ kind: 'path', path: 'libmkl_rt.so.2' });
  });

  it('per platform: oneDNN, then pthreads OpenBLAS on Linux; Accelerate first on macOS; never the reference BLAS', () => {
    const linux = blasCandidates('linux', 'x64');
    expect(linux.slice(0, 3)).toEqual([
      'libdnnl.so.3',
      'libdnnl.so.2',
      '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
    ]);
    expect(linux).toEqual(expect.arrayContaining(['libopenblasp.so.0', 'libopenblas.so.0', 'libmkl_rt.so.2']));
    expect(linux.indexOf('libopenblasp.so.0')).toBeLessThan(linux.indexOf('libopenblas.so.0')); // Fedora's serial build last
    expect(blasCandidates('linux', 'arm64')[2]).toBe('/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0');
    expect(blasCandidates('win32', 'x64')[0]).toBe('dnnl.dll');
    expect(blasCandidates('darwin', 'arm64')[0]).toBe('/System/Library/Frameworks/Accelerate.framework/Accelerate');
    expect(blasCandidates('win32', 'x64')).toContain('libopenblas.dll');
    for (const p of ['linux', 'darwin', 'win32'])
      expect(blasCandidates(p, 'x64').some((c) => /libblas\.so|libcblas/.test(c))).toBe(false);
  });

  it('only regular files reach dlopen: a missing path, a directory or a FIFO is refused by name first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbert-blas-'));
    try {
      expect(unloadablePath(join(dir, 'nope.so'))).toBe('no such file');
      expect(unloadablePath(dir)).toBe('a directory, not a library');
      const fifo = join(dir, 'fifo.so');
      if (spawnSync('mkfifo', [fifo]).status === 0) expect(unloadablePath(fifo)).toBe('not a regular file');
      writeFileSync(join(dir, 'lib.so'), 'x');
      expect(unloadablePath(join(dir, 'lib.so'))).toBeUndefined();
      expect(unloadablePath('libopenblas.so.0')).toBeUndefined(); // a bare name: the loader's search decides
      expect(unloadablePath('/System/Library/Frameworks/Accelerate.framework/Accelerate', 'darwin')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('loadCblas refuses what cannot serve, in one line naming the file', () => {
  it('a library that does not load, one without cblas_sgemm, and one whose sgemm is wrong', () => {
    const refuse = (k: Koffi, path: string) => {
      const e = (() => {
        try {
          loadCblas(k, path);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(BlasLoadError);
      const msg = (e as Error).message;
      expect(msg).not.toMatch(/\n/);
      expect(msg).toContain(path);
      return msg;
    };
    expect(refuse(fakeKoffi({ load: 'invalid ELF header' }), 'libbad.so')).toMatch(/^libbad\.so: invalid ELF header$/);
    expect(refuse(fakeKoffi({ sgemm: 'missing' }), 'libz.so.1')).toMatch(/no cblas_sgemm in this library/);
    expect(refuse(fakeKoffi({ sgemm: 'wrong' }), 'libwrong.so')).toMatch(
      /computed a wrong product \(off by 1\); not used/,
    );
  });

  it("oneDNN: dnnl_sgemm with 'N'/'T', named by dnnl_version, threads through OpenMP; a failing or wrong one is refused", () => {
    const k = fakeKoffi({ onednn: 'right' });
    const lib = loadCblas(k, 'libdnnl.so.2');
    expect(lib.name).toBe('oneDNN 2.6.3');
    expect(lib.threads()).toBe(4);
    expect(lib.setThreads(1)).toBe(true);
    expect([lib.threads(), k.ompThreads]).toEqual([1, 1]);
    for (const [b, msg] of [
      [
        'failing',
        /^libdnnl\.so\.2: its sgemm failed on a small product \(libdnnl\.so\.2: dnnl_sgemm failed \(status 2\)/,
      ],
      ['wrong', /^libdnnl\.so\.2: dnnl_sgemm computed a wrong product \(off by 1\); not used$/],
    ] as const)
      expect(() => loadCblas(fakeKoffi({ onednn: b }), 'libdnnl.so.2')).toThrow(msg);
  });

  it('a right one loads, named by its file when it does not say what it is', () => {
    const lib = loadCblas(fakeKoffi({ sgemm: 'right' }), 'libsomeblas.so.3');
    expect(lib.name).toBe('libsomeblas.so.3');
    expect(lib.threads()).toBeUndefined();
    expect(lib.setThreads(2)).toBe(false);
  });

  it('the self-check sees a wrong transpose, a wrong leading dimension and NaN', () => {
    expect(sgemmSelfCheck(referenceSgemm)).toBeLessThan(1e-9);
    const swapped: Cblas['sgemm'] = (tA, tB, ...rest) => referenceSgemm(!tA, tB, ...rest);
    expect(sgemmSelfCheck(swapped)).toBeGreaterThan(1);
    const packed: Cblas['sgemm'] = (tA, tB, m, n, k, al, a, _lda, b, ldb, be, c, ldc) =>
      referenceSgemm(tA, tB, m, n, k, al, a, tA ? m : k, b, ldb, be, c, ldc);
    expect(sgemmSelfCheck(packed)).toBeGreaterThan(1);
    const nan: Cblas['sgemm'] = (...args) => {
      referenceSgemm(...args);
      args[11][0] = Number.NaN;
    };
    expect(sgemmSelfCheck(nan)).toBe(Infinity);
  });
});

describe('a BLAS that cannot be loaded: the wasm backend as it was, and one line that says why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbert-blas-bad-'));
  afterEach(restoreEnv);
  afterAll(async () => {
    restoreEnv();
    rmSync(dir, { recursive: true, force: true });
    await setupBackend('wasm');
  });

  const text = join(dir, 'libtext.so');
  writeFileSync(text, 'not a library\n');
  const folder = join(dir, 'libdir.so');
  mkdirSync(folder);
  const fifo = join(dir, 'libfifo.so');
  const haveFifo = spawnSync('mkfifo', [fifo]).status === 0;
  const cases: [string, string, RegExp][] = [
    ['a missing file', join(dir, 'missing', 'libopenblas.so.0'), /no such file/],
    ['a text file', text, /invalid ELF header|not a mach-o|file too short|not a valid|cannot open/i],
    ['a directory', folder, /a directory, not a library/],
    ...(haveFifo ? [['a FIFO (dlopen would block)', fifo, /not a regular file/] as [string, string, RegExp]] : []),
    [
      'an executable, not a library',
      process.execPath,
      /cannot dynamically load|cannot open|no cblas_sgemm|not a|executable/i,
    ],
    ...(process.platform === 'linux'
      ? [['a library without cblas_sgemm', 'libm.so.6', /no cblas_sgemm in this library/] as [string, string, RegExp]]
      : []),
    ['a bare name that is nowhere', 'libnoblas-here.so.9', /cannot open shared object file|not found|no such file/i],
  ];

  for (const [what, path, why] of cases) {
    it(`${what}`, async () => {
      process.env.SBERT_BLAS = path;
      const calls = blasMatmulCalls();
      const choice = await setupBackend('wasm');
      expect(choice.reason).not.toMatch(/\n/);
      expect(choice.reason).toContain(`matmuls on XNNPACK (SBERT_BLAS not used: ${path}`);
      expect(choice.reason).toMatch(why);
      expect(wasmBlasActive()).toBe(false);
      const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
      expect(await y.data()).toEqual(new Float32Array([11]));
      y.dispose();
      expect(blasMatmulCalls()).toBe(calls); // tfjs-wasm's own kernel ran
    });
  }

  it('SBERT_BLAS=off says so and keeps XNNPACK', async () => {
    process.env.SBERT_BLAS = 'off';
    const choice = await setupBackend('wasm');
    expect(choice.reason).toMatch(/; matmuls on XNNPACK \(SBERT_BLAS=off\)$/);
    expect(wasmBlasActive()).toBe(false);
    expect(await setupWasmBlas()).toBe('matmuls on XNNPACK (SBERT_BLAS=off)');
    expect(batchingKey('wasm')).toBe('wasm'); // XNNPACK's forward price
  });

  it('the CLI runs on and prints the one line (exit 0, the same vectors as with SBERT_BLAS=off)', () => {
    const run = (blas: string) =>
      spawnSync(
        process.execPath,
        [join(ROOT, 'bin', 'sbert.js'), 'encode', '--model', fixture('tiny', 'st'), '--backend', 'wasm'],
        {
          input: '那个人很开心\n',
          encoding: 'utf8',
          env: { ...process.env, SBERT_BLAS: blas, SBERT_PROGRESS: '0', SBERT_QUIET: '0' },
        },
      );
    const bad = run(text);
    expect(bad.status).toBe(0);
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^sbert: backend wasm \(WebAssembly .*; matmuls on XNNPACK \(SBERT_BLAS not used: .*libtext\.so: .*\)\)$/,
    );
    expect(bad.stdout).toBe(run('off').stdout);
  });
});

// --- with a BLAS ---------------------------------------------------------------------------------------

delete process.env.SBERT_BLAS;
const found = await setupBackend('wasm');
const blasHere = wasmBlasActive();
restoreEnv();

describe.skipIf(!blasHere && !REQUIRED)('the wasm kernels on a BLAS', () => {
  let before = 0;
  beforeAll(async () => {
    delete process.env.SBERT_BLAS;
    await setupBackend('wasm');
    before = tf.memory().numTensors;
  });
  afterAll(() => {
    restoreEnv();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the backend line names it', () => {
    expect(blasHere).toBe(true); // fails here under SBERT_TEST_BLAS=required when no BLAS loaded
    expect(found.reason).toMatch(
      /; matmuls on (OpenBLAS|Intel MKL|Accelerate|BLIS|\S+) [^;]*\(\S+(, \d+ threads?)?\)$/,
    );
    expect(found.reason).toContain(activeBlas()!.path);
  });

  /** op(A)·op(B) in float64 for [batch, m, k]-shaped data (batch 1 broadcasts). */
  function product(
    a: Float32Array,
    b: Float32Array,
    sa: number[],
    sb: number[],
    tA: boolean,
    tB: boolean,
  ): Float64Array {
    const [ba, ra, ca] =
      sa.length === 2 ? [1, sa[0]!, sa[1]!] : [sa.slice(0, -2).reduce((x, y) => x * y, 1), sa.at(-2)!, sa.at(-1)!];
    const [bb, rb, cb] =
      sb.length === 2 ? [1, sb[0]!, sb[1]!] : [sb.slice(0, -2).reduce((x, y) => x * y, 1), sb.at(-2)!, sb.at(-1)!];
    const [m, k] = tA ? [ca, ra] : [ra, ca];
    const n = tB ? rb : cb;
    const batch = Math.max(ba, bb);
    const out = new Float64Array(batch * m * n);
    for (let i = 0; i < batch; i++) {
      const A = a.subarray((ba === 1 ? 0 : i) * ra * ca);
      const B = b.subarray((bb === 1 ? 0 : i) * rb * cb);
      const C = new Float32Array(m * n);
      referenceSgemm(tA, tB, m, n, k, 1, A, ca, B, cb, 0, C, n);
      out.set(C, i * m * n);
    }
    return out;
  }

  const cases: { name: string; a: number[]; b: number[]; tA?: boolean; tB?: boolean }[] = [
    { name: '2-D', a: [7, 5], b: [5, 3] },
    { name: 'transposed A', a: [5, 7], b: [5, 3], tA: true },
    { name: 'transposed B (attention scores)', a: [7, 5], b: [3, 5], tB: true },
    { name: 'both transposed', a: [5, 7], b: [3, 5], tA: true, tB: true },
    { name: 'a batch', a: [4, 7, 5], b: [4, 5, 3] },
    { name: 'a batch against one matrix', a: [4, 7, 5], b: [1, 5, 3] },
    { name: 'one matrix against a batch', a: [1, 7, 5], b: [4, 5, 3] },
    { name: 'heads: [B, h, L, d] · [B, h, L, d]ᵀ', a: [2, 3, 6, 8], b: [2, 3, 6, 8], tB: true },
    { name: 'a batch, transposed A, against one matrix', a: [3, 5, 7], b: [1, 5, 3], tA: true },
  ];

  for (const c of cases) {
    it(`BatchMatMul, ${c.name}: on the BLAS, as a float64 product`, async () => {
      const av = values(
        c.a.reduce((x, y) => x * y, 1),
        -1,
        1,
        3,
      );
      const bv = values(
        c.b.reduce((x, y) => x * y, 1),
        -1,
        1,
        5,
      );
      const calls = blasMatmulCalls();
      const [a, b] = [tf.tensor(av, c.a), tf.tensor(bv, c.b)];
      const y = tf.matMul(a, b, c.tA, c.tB);
      expect(blasMatmulCalls()).toBe(calls + 1);
      expect(maxDiff(await y.data(), product(av, bv, c.a, c.b, c.tA ?? false, c.tB ?? false))).toBeLessThan(1e-5);
      tf.dispose([a, b, y]);
    });
  }

  it('fused: bias and ReLU in the epilogue; K = 0 gives the bias; no rows gives an empty tensor', async () => {
    const av = values(6 * 4, -1, 1, 7);
    const bv = values(4 * 5, -1, 1, 8);
    const bias = values(5, -1, 1, 9);
    const ref = product(av, bv, [6, 4], [4, 5], false, false).map((v, i) => v + bias[i % 5]!);
    const calls = blasMatmulCalls();
    const [a, b, bi] = [tf.tensor2d(av, [6, 4]), tf.tensor2d(bv, [4, 5]), tf.tensor1d(bias)];
    const lin = tf.fused.matMul({ a, b, bias: bi });
    const relu = tf.fused.matMul({ a, b, bias: bi, activation: 'relu' });
    expect(maxDiff(await lin.data(), ref)).toBeLessThan(1e-5);
    expect(
      maxDiff(
        await relu.data(),
        ref.map((v) => Math.max(v, 0)),
      ),
    ).toBeLessThan(1e-5);
    const [z30, z05, z04] = [tf.zeros([3, 0]), tf.zeros([0, 5]), tf.zeros([0, 4])];
    const empty = tf.fused.matMul({ a: z30, b: z05, bias: bi });
    expect(Array.from(await empty.data())).toEqual(Array.from({ length: 15 }, (_, i) => bias[i % 5]!));
    const none = tf.matMul(z04, b);
    expect(none.shape).toEqual([0, 5]);
    expect(blasMatmulCalls()).toBeGreaterThanOrEqual(calls + 3);
    tf.dispose([a, b, bi, lin, relu, empty, none, z30, z05, z04]);
  });

  it("what it does not cover goes to tfjs-wasm's kernel: PReLU, a broadcast of two batches", async () => {
    const a = tf.tensor2d(values(6, -1, 1, 1), [2, 3]);
    const b = tf.tensor2d(values(6, -1, 1, 2), [3, 2]);
    const alpha = tf.tensor1d([0.5, 0.25]);
    const calls = blasMatmulCalls();
    const prelu = tf.fused.matMul({ a, b, activation: 'prelu', preluActivationWeights: alpha });
    const ref = product(
      (await a.data()) as Float32Array,
      (await b.data()) as Float32Array,
      [2, 3],
      [3, 2],
      false,
      false,
    ).map((v, i) => (v < 0 ? v * [0.5, 0.25][i % 2]! : v));
    expect(maxDiff(await prelu.data(), ref)).toBeLessThan(1e-6);
    expect(blasMatmulCalls()).toBe(calls);
    tf.dispose([a, b, alpha, prelu]);
  });

  it('gradients flow through the BLAS kernels (tfjs records them as matmuls)', async () => {
    const a = tf.tensor2d(values(6, -1, 1, 1), [2, 3]);
    const b = tf.tensor2d(values(12, -1, 1, 2), [3, 4]);
    const dy = tf.ones([2, 4]);
    const g = tf.grad((x: tf.Tensor) => tf.matMul(x, b))(a, dy);
    const bv = await b.data();
    const want = Array.from({ length: 6 }, (_, i) => [0, 1, 2, 3].reduce((s, j) => s + bv[(i % 3) * 4 + j]!, 0));
    expect(maxDiff(await g.data(), want)).toBeLessThan(1e-5);
    tf.dispose([a, b, g, dy]);
  });

  it('Linear with GELU in its epilogue, and the standalone GELU, are exact GELU to float32', async () => {
    const x = values(33 * 16, -6, 6, 4);
    const w = values(16 * 12, -0.5, 0.5, 5);
    const bias = values(12, -1, 1, 6);
    const pre = product(x, w, [33, 16], [16, 12], false, false).map((v, i) => v + bias[i % 12]!);
    const gelu = (v: number) => 0.5 * v * (1 + erfReference(v / Math.SQRT2));
    const [xt, wt, bt] = [tf.tensor2d(x, [33, 16]), tf.tensor2d(w, [16, 12]), tf.tensor1d(bias)];
    const y = blasLinear(xt, wt, bt, 'gelu');
    expect(maxDiff(await y.data(), pre.map(gelu))).toBeLessThan(2e-6);
    const [all, most] = [tf.tensor1d(x), tf.tensor1d(x.subarray(0, 527))];
    const direct = wasmGelu(all); // 528 floats: the SIMD loop and no tail; 527: a tail of 3
    const tail = wasmGelu(most);
    expect(maxDiff(await direct.data(), Array.from(x, gelu))).toBeLessThan(1e-6);
    expect(maxDiff(await tail.data(), Array.from(x.subarray(0, 527), gelu))).toBeLessThan(1e-6);
    tf.dispose([xt, wt, bt, y, direct, tail, all, most]);
  });

  it("erf (the epilogue's, in JavaScript) is within 1e-7 of erf", () => {
    let worst = 0;
    for (let v = -3; v <= 3; v += 0.001) worst = Math.max(worst, Math.abs(erf(v) - erfReference(v)));
    expect(worst).toBeLessThan(1e-7);
    expect(erf(9)).toBeCloseTo(1, 7);
    expect(Number.isNaN(erf(Number.NaN))).toBe(true);
  });

  it('LayerNorm(x + residual) as one kernel, with the sum kept when asked: as torch computes them', async () => {
    const [rows, h] = [5, 24];
    const x = values(rows * h, -3, 3, 11);
    const r = values(rows * h, -3, 3, 12);
    const w = values(h, 0.5, 1.5, 13);
    const b = values(h, -0.5, 0.5, 14);
    const sum = x.map((v, i) => Math.fround(v + r[i]!));
    const want = new Float64Array(rows * h);
    for (let i = 0; i < rows; i++) {
      const row = Array.from(sum.subarray(i * h, (i + 1) * h));
      const mean = row.reduce((s, v) => s + v, 0) / h;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / h;
      row.forEach((v, j) => (want[i * h + j] = ((v - mean) / Math.sqrt(variance + 1e-12)) * w[j]! + b[j]!));
    }
    const t = (a: Float32Array, s: number[]) => tf.tensor(a, s);
    const [xt, rt, wt, bt] = [t(x, [rows, h]), t(r, [rows, h]), tf.tensor1d(w), tf.tensor1d(b)];
    const y = wasmLayerNorm(xt, rt, wt, bt, 1e-12);
    const [s, y2] = wasmLayerNormKeepingSum(xt, rt, wt, bt, 1e-12);
    const narrow = [
      t(sum.subarray(0, rows * 6), [rows, 6]),
      tf.tensor1d(w.subarray(0, 6)),
      tf.tensor1d(b.subarray(0, 6)),
    ] as const;
    const odd = wasmLayerNorm(narrow[0], undefined, narrow[1], narrow[2], 1e-12);
    expect(maxDiff(await y.data(), want)).toBeLessThan(2e-6);
    expect(await s.data()).toEqual(sum);
    expect(await y2.data()).toEqual(await y.data());
    expect(odd.shape).toEqual([rows, 6]); // a width that is no multiple of 4: the JavaScript loop
    tf.dispose([xt, rt, wt, bt, y, s, y2, odd, ...narrow]);
  });

  it("transposes that swap the two axes before the last (attention's heads) are row copies; others are tfjs's", async () => {
    const cases: [number[], number[]][] = [
      [
        [2, 5, 3, 8],
        [0, 2, 1, 3],
      ], // [B, L, h, d] → [B, h, L, d], ours
      [
        [2, 3, 5, 8],
        [0, 2, 1, 3],
      ], // and back
      [
        [5, 3, 12],
        [1, 0, 2],
      ], // rank 3, ours
      [
        [2, 2, 3, 4, 4],
        [0, 1, 3, 2, 4],
      ], // rank 5, ours
      [
        [2, 3, 4, 6],
        [0, 2, 1, 3],
      ], // rows of 6 floats: tfjs's
      [
        [2, 3, 4, 8],
        [0, 1, 3, 2],
      ], // the last axis moves: tfjs's
      [
        [0, 3, 4, 8],
        [0, 2, 1, 3],
      ], // empty
    ];
    for (const [shape, perm] of cases) {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(
        Float32Array.from({ length: size }, (_, i) => i * 0.5 - 7),
        shape,
      );
      const y = tf.transpose(x, perm);
      // Expected: index arithmetic on the flat data.
      const outShape = perm.map((p) => shape[p]!);
      const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
      const want = new Float32Array(size);
      const idx = new Array(outShape.length).fill(0);
      for (let o = 0; o < size; o++) {
        let src = 0;
        for (let a = 0; a < outShape.length; a++) src += idx[a]! * strides[perm[a]!]!;
        want[o] = src * 0.5 - 7;
        for (let a = outShape.length - 1; a >= 0 && ++idx[a]! === outShape[a]; a--) idx[a] = 0;
      }
      expect(y.shape).toEqual(outShape);
      expect(await y.data(), `${shape} by ${perm}`).toEqual(want);
      tf.dispose([x, y]);
    }
  });

  /** softmax(q·kᵀ · scale + mask) · v per sequence and head, in float64 (the webgpu program's reference). */
  const attentionOf = (
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    mask: Float32Array,
    B: number,
    L: number,
    heads: number,
    scale: number,
  ): Float64Array => attentionReference(q, k, v, mask, B, L, heads, q.length / (B * L * heads), scale);

  const FLOAT32_MIN = -3.4028234663852886e38;
  /** Right padding per sequence (what the tokenizer gives), and one masked key inside a sequence. */
  function paddingMask(B: number, L: number): Float32Array {
    const mask = new Float32Array(B * L);
    for (let b = 0; b < B; b++) for (let j = L - b; j < L; j++) if (j >= 1) mask[b * L + j] = FLOAT32_MIN;
    if (L > 2) mask[1] = FLOAT32_MIN;
    return mask;
  }

  it('attention as one kernel: softmax(q·kᵀ·scale + mask)·v per head, as float64, at lengths on and off 4 floats', async () => {
    for (const [B, L, heads, d] of [
      [3, 7, 2, 4],
      [2, 8, 3, 8],
      [2, 1, 2, 4],
      [4, 13, 12, 64],
    ] as const) {
      const H = heads * d;
      const [q, k, v] = [31, 32, 33].map((seed) => values(B * L * H, -2, 2, seed + L));
      const mask = paddingMask(B, L);
      const scale = d ** -0.5;
      const calls = blasMatmulCalls();
      const threads = activeBlas()!.threads();
      const t = [q, k, v].map((x) => tf.tensor2d(x!, [B * L, H]));
      const m = tf.tensor2d(mask, [B, L]);
      const z = blasAttention(t[0]! as tf.Tensor2D, t[1]! as tf.Tensor2D, t[2]! as tf.Tensor2D, m, heads, scale);
      expect(blasMatmulCalls()).toBe(calls + 1);
      expect(activeBlas()!.threads()).toBe(threads); // one thread for the heads, then back
      const want = attentionOf(q!, k!, v!, mask, B, L, heads, scale);
      expect(maxDiff(await z.data(), want), `[${B}, ${L}], ${heads} × ${d}`).toBeLessThan(2e-6);
      tf.dispose([...t, m, z]);
    }
  });

  it('the layers reach it through attention() unless the probabilities are wanted or a gradient is recorded', async () => {
    const [B, L, heads, d] = [2, 6, 2, 4];
    const H = heads * d;
    const [q, k, v] = [41, 42, 43].map((seed) => tf.tensor4d(values(B * L * H, -2, 2, seed), [B, L, heads, d]));
    const mask = tf.tensor4d(paddingMask(B, L), [B, 1, 1, L]);
    const calls = blasMatmulCalls();
    const n0 = tf.memory().numTensors;
    const fused = attention(q!, k!, v!, mask, { scale: 0.5, needProbs: false });
    expect(blasMatmulCalls()).toBe(calls + 1); // one kernel: no per-head products of tfjs's BatchMatMul
    expect(fused.probs).toBeUndefined();
    expect(fused.z.shape).toEqual([B, L, heads, d]);
    // Probabilities wanted (hooks, output_attentions): the same kernel, z the same bits; taps that read only.
    const seen: tf.Tensor4D[] = [];
    const read = (t: tf.Tensor4D) => {
      seen.push(t);
      return t;
    };
    const kept = attention(q!, k!, v!, mask, { scale: 0.5, needProbs: true, onScores: read, onProbs: read });
    expect(blasMatmulCalls()).toBe(calls + 2);
    expect(await kept.z.data()).toEqual(await fused.z.data());
    expect(seen.map((t) => t.shape)).toEqual([
      [B, heads, L, L],
      [B, heads, L, L],
    ]);
    expect(seen[1]).toBe(kept.probs);
    // tfjs's composite, the reference for the probabilities and for taps that replace them
    const composite = (onScores?: AttentionTap, onProbs?: AttentionTap) =>
      tf.tidy(() => {
        const r = attentionComposite(q!, k!, v!, mask, 0.5, onScores, onProbs);
        return [r.z, r.probs];
      });
    const [zc, pc] = composite();
    expect(maxDiff(await kept.probs!.data(), await pc!.data())).toBeLessThan(1e-6);
    expect(maxDiff(await kept.z.data(), await zc!.data())).toBeLessThan(1e-6);
    // A tap that replaces the scores (uniform attention), or the probabilities (their square): z follows it.
    const flat = (t: tf.Tensor4D) => tf.zerosLike(t) as tf.Tensor4D;
    const square = (t: tf.Tensor4D) => tf.square(t) as tf.Tensor4D;
    for (const [onScores, onProbs] of [
      [flat, undefined],
      [undefined, square],
    ] as const) {
      const got = attention(q!, k!, v!, mask, { scale: 0.5, needProbs: true, onScores, onProbs });
      const [zw, pw] = composite(onScores, onProbs);
      expect(maxDiff(await got.z.data(), await zw!.data())).toBeLessThan(1e-6);
      expect(maxDiff(await got.probs!.data(), await pw!.data())).toBeLessThan(1e-6);
      tf.dispose([got.z, got.probs!, zw!, pw!]);
    }
    tf.dispose([fused.z, kept.z, kept.probs!, zc!, pc!]);
    expect(tf.memory().numTensors).toBe(n0);
    let inside = true;
    const g = tf.grad((x: tf.Tensor) => {
      inside = blasAttentionApplies();
      return attention(x as tf.Tensor4D, k!, v!, mask, { scale: 0.5, needProbs: false }).z;
    })(q!);
    expect(inside).toBe(false);
    expect(g.shape).toEqual([B, L, heads, d]);
    expect(() =>
      tf.tidy(() => blasAttention(tf.zeros([3, 8]), tf.zeros([3, 8]), tf.zeros([3, 8]), tf.zeros([2, 2]), 2, 1)),
    ).toThrow(new RegExp(`${BLAS_ATTENTION_KERNEL}: q \\[3,8\\]`));
    tf.dispose([q!, k!, v!, mask, g]);
  });

  it("softmax: the SIMD kernel and the JavaScript one agree with float64 across exp's range, masked lanes 0, NaN kept", () => {
    const n = 11; // two vectors and a tail of 3 lanes, padded to 12
    const stride = 12;
    const rows: number[][] = [
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [-80, -60, -40, -20, 0, 20, 40, 60, 80, 87, 88],
      [3.4e38, -3.4e38, 1e-30, -1e-30, 0.5, 0.25, -0.125, 1e3, -1e3, 50, -50],
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, Number.NaN],
    ];
    const mask = values(n, -1, 1, 51);
    mask[4] = FLOAT32_MIN;
    const reference = (row: number[]): number[] => {
      const x = row.map((v, j) => Math.fround(v + mask[j]!));
      const max = Math.max(...x);
      const e = x.map((v) => Math.exp(v - max));
      const sum = e.reduce((a, v) => a + v, 0);
      return e.map((v) => v / sum);
    };
    const be = tf.backend() as unknown as WasmBackend;
    const simd = simdKernels(be)!;
    const block = tf.zeros([rows.length * stride + stride]);
    const S = heapView(be, block, rows.length * stride + stride);
    rows.forEach((r, i) => S.set(r, i * stride));
    S.set(mask, rows.length * stride);
    S.fill(-Infinity, rows.length * stride + n);
    const js = new Float32Array(rows.length * stride);
    rows.forEach((r, i) => js.set(r, i * stride));
    simd.softmax_rows(heapOffset(be, block), heapOffset(be, block) + rows.length * stride * 4, rows.length, stride / 4);
    softmaxRows(js, mask, rows.length, n, stride);
    for (const [name, got] of [
      ['simd', S],
      ['js', js],
    ] as const) {
      rows.forEach((r, i) => {
        const row = Array.from(got.subarray(i * stride, i * stride + n));
        if (i === 3) expect(row.every(Number.isNaN), `${name}: a NaN score`).toBe(true);
        else {
          const want = reference(r);
          expect(maxDiff(row, want), `${name}, row ${i}`).toBeLessThan(3e-7);
          // relative error where the probability is small but not zero
          row.forEach((p, j) => want[j]! > 1e-30 && expect(Math.abs(p - want[j]!) / want[j]!).toBeLessThan(1e-6));
          expect(row[4], `${name}: a masked key`).toBe(0);
        }
      });
      if (name === 'simd') expect(S[stride + n]).toBe(0); // the padding lane past the row's length
    }
    tf.dispose(block);
  });

  it('attendHeads with the JavaScript softmax (where our wasm module cannot load) as the kernel computes', () => {
    const [B, L, heads, d] = [2, 5, 3, 4];
    const H = heads * d;
    const [Q, K, V] = [61, 62, 63].map((seed) => values(B * L * H, -2, 2, seed)) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const mask = paddingMask(B, L);
    const Z = new Float32Array(B * L * H);
    const S = new Float32Array(L * L + L);
    attendHeads(
      activeBlas()!,
      { Q, K, V, Z, mask },
      { S: S.subarray(0, L * L), maskRow: S.subarray(L * L) },
      { B, L, heads, d, stride: L },
      0.5,
    );
    expect(maxDiff(Z, attentionOf(Q, K, V, mask, B, L, heads, 0.5))).toBeLessThan(2e-6);
  });

  it("the embedding gather copies rows; a bad index still gets tfjs-wasm's error", async () => {
    const table = tf.tensor2d(values(50 * 8, -1, 1, 21), [50, 8]);
    const ids = tf.tensor2d(
      [
        [3, 49, 0],
        [7, 7, 1],
      ],
      [2, 3],
      'int32',
    );
    const got = tf.gather(table, ids);
    const tv = await table.data();
    const want = [3, 49, 0, 7, 7, 1].flatMap((i) => Array.from(tv.subarray(i * 8, i * 8 + 8)));
    expect(got.shape).toEqual([2, 3, 8]);
    expect(Array.from(await got.data())).toEqual(want);
    const bad = tf.tensor1d([50], 'int32');
    expect(() => tf.gather(table, bad)).toThrow(/not in \[0, 49\]/);
    tf.dispose([table, ids, got, bad]);
  });

  it('SentenceEncoder keeps 256 sentences in process (no worker pool) and cuts batches at the BLAS forward price', async () => {
    const enc = await SentenceEncoder.load(fixture('tiny', 'st'), { backend: 'wasm', quiet: true });
    try {
      // Lengths spread within each batch of 64, so the two prices cut them differently.
      const sentences = Array.from({ length: POOL_THRESHOLD }, (_, i) => `那个人很开心${'好'.repeat(i % 23)} ${i}`);
      const forwards: number[] = [];
      const out = await enc.encode(sentences, { batchSize: 64, onProgress: (done) => forwards.push(done) });
      expect(out).toHaveLength(POOL_THRESHOLD);
      expect((enc as unknown as { pool?: unknown }).pool).toBeUndefined();
      expect(batchingKey('wasm')).toBe(WASM_BLAS_BATCHING);
      expect(enc.batching).toBe(WASM_BLAS_BATCHING);
      const encodings = enc.tokenize(sentences);
      const priced = encodeJobs(encodings, 64, enc.tokenizer.padId, WASM_BLAS_BATCHING);
      expect(forwards).toHaveLength(priced.length); // one progress call per forward run
      expect(priced.length).toBeLessThan(encodeJobs(encodings, 64, enc.tokenizer.padId, 'wasm').length);
    } finally {
      await enc.dispose();
    }
  });

  it('SBERT_BLAS=PATH loads that library by name', async () => {
    process.env.SBERT_BLAS = activeBlas()!.path;
    const choice = await setupBackend('wasm');
    expect(choice.reason).toContain(`(${activeBlas()!.path}`);
    expect(wasmBlasActive()).toBe(true);
    restoreEnv();
  });
});

/** The first of `paths` that loads as a BLAS here, or undefined. */
async function firstLoadable(paths: string[]): Promise<Cblas | undefined> {
  const koffi = ((await import('koffi').catch(() => undefined)) as unknown as { default: Koffi } | undefined)?.default;
  for (const path of koffi ? paths : []) {
    try {
      return loadCblas(koffi!, path);
    } catch {}
  }
  return undefined;
}
const onednnHere = await firstLoadable(['libdnnl.so.3', 'libdnnl.so.2']);
const openblasHere = await firstLoadable(blasCandidates().filter((p) => /openblas/.test(p)));

// CI installs both (.ci/run) and sets SBERT_TEST_ONEDNN=required, so there this cannot quietly skip.
const ONEDNN_REQUIRED = process.env.SBERT_TEST_ONEDNN === 'required';
describe.skipIf(!(onednnHere && openblasHere) && !ONEDNN_REQUIRED)('oneDNN and OpenBLAS, the same products', () => {
  it("oneDNN under the user's OMP_WAIT_POLICY=active: two threads compute, exit is clean, the variable is put back", () => {
    // The provider loads OpenMP with passive waiting whatever the variable says (docs/blas.md: spinning threads
    // crashed Node at exit in a script on the wasm backend); the user's value is restored for later children.
    const script = `
      import koffi from 'koffi';
      import { loadCblas } from ${JSON.stringify(join(ROOT, 'dist', 'src', 'backend', 'blas', 'cblas.js'))};
      const lib = loadCblas(koffi, ${JSON.stringify(onednnHere?.path ?? 'libdnnl.so.2')});
      lib.setThreads(2);
      const [m, k, n] = [352, 768, 3072];
      const a = new Float32Array(m * k).fill(0.25), b = new Float32Array(k * n).fill(0.5), c = new Float32Array(m * n);
      for (let i = 0; i < 5; i++) lib.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
      console.log(c[0], process.env.OMP_WAIT_POLICY);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, OMP_WAIT_POLICY: 'active', OMP_NUM_THREADS: '2' },
      timeout: 60_000,
    });
    expect([r.status, r.signal, r.stderr]).toEqual([0, null, '']);
    expect(r.stdout.trim()).toBe(`${768 * 0.125} active`); // the product, and the user's variable put back
  });

  it("dnnl_sgemm's products at BERT-base shapes match OpenBLAS's and a float64 reference, every transpose", () => {
    expect(onednnHere?.name).toMatch(/^oneDNN \d+\.\d+\.\d+$/);
    expect(openblasHere?.name).toMatch(/^OpenBLAS /);
    let seed = 7;
    const rand = (n: number) =>
      Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
    // [m, n, k]: Linears of short batches (768 → 3072, 3072 → 768) as the model calls them, and one head's scores
    // and context in every transpose case.
    const all = [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const;
    for (const [m, n, k, cases] of [
      [9, 3072, 768, all.slice(0, 2)],
      [8, 768, 3072, all.slice(0, 2)],
      [14, 14, 64, all],
      [14, 64, 14, all],
    ] as const) {
      for (const [tA, tB] of cases) {
        const a = rand(m * k);
        const b = rand(k * n);
        const [lda, ldb] = [tA ? m : k, tB ? k : n];
        const out = (lib: Cblas) => {
          const c = new Float32Array(m * n).fill(0.5);
          lib.sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 1, c, n); // beta 1: C's 0.5 is kept and added
          return c;
        };
        const ref = new Float32Array(m * n).fill(0.5);
        referenceSgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 1, ref, n);
        const [d, o] = [out(onednnHere!), out(openblasHere!)];
        const tol = 2e-6 * Math.sqrt(k) * 4; // float32 sums of k terms of |x| ≤ 1, in two different orders
        expect(maxDiff(d, ref), `oneDNN ${m}×${k}·${k}×${n} ${tA} ${tB}`).toBeLessThan(tol);
        expect(maxDiff(o, ref), `OpenBLAS ${m}×${k}·${k}×${n} ${tA} ${tB}`).toBeLessThan(tol);
        expect(maxDiff(d, o)).toBeLessThan(tol);
      }
    }
  });
});

it('kernels.wat and the module built into kernels-wasm.ts agree (npm run build:wasm)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-wasm.mjs'), '--check'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
