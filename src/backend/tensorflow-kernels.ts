// Faster paths for tfjs-node's `tensorflow` backend, swapped into tfjs's kernel registry once per process (only
// for that backend), and the Linear layer's path on it. Each runs the same float32 arithmetic; what changes is
// which TensorFlow op runs it and how many ops a forward dispatches (each a call into libtensorflow plus tfjs's
// bookkeeping, ~30–50 µs):
// - tfjs-node sends every matMul, 2-D ones included, to BatchMatMulV2; with oneDNN (on by default on x86) that op
//   multiplies [rows, 768] · [768, 3072] at half the rate of the plain MatMul op, and the Linear layers are ~70%
//   of a BERT forward. Here matrix products run as MatMul (a fused bias as one BiasAdd).
// - tfjs's fused matMul reshapes its operands to 3-D and back, and on tfjs-node a reshape is an op (and a shape
//   tensor uploaded): `tensorflowLinear` multiplies the 2-D operands with tf.matMul and adds the bias instead.
// - tfjs-node's Mean casts its float32 input to float32 (an op) before reducing; here it does not.
// - oneDNN's fused ops, which TensorFlow's CPU build carries for its graph rewrites, called directly where a
//   start-up check finds they run and agree with tfjs ops (`fusedOps`): the Linear layer as one op with its bias
//   and exact GELU / ReLU in the matmul's epilogue (_MklNativeFusedMatMul; its `fused_ops` is a list of strings,
//   which tfjs-node's binding passes only with the patch scripts/build-tensorflow.mjs applies), LayerNorm as one
//   op (_MklLayerNorm), and the attention scores q·kᵀ · scale + mask as one op (_MklFusedBatchMatMulV2). In eager
//   mode the last two run only with TensorFlow's automatic oneDNN rewrites off (TF_ENABLE_ONEDNN_OPTS=0, which
//   src/backend/tensorflow.ts sets unless told otherwise); the matmuls then run on oneDNN by name (_MklMatMul).
// - Two ops of ours (scripts/tensorflow-ops.cc, built by build:tensorflow, checked the same way): a layer's whole
//   attention from its Q, K, V projection to the heads merged (SbertAttention: no transposes, one dispatch where
//   TensorFlow's ops take six) and LayerNorm without _MklLayerNorm's per-call primitive (SbertLayerNorm).
// Measured in docs/tensorflow.md. SBERT_TF_KERNELS=tfjs keeps tfjs-node's kernels and tfjs's fused matMul.
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import { gelu, geluTanh } from '../ops/activations.js';
import { type AttentionTap, attentionComposite } from '../ops/attention.js';
import { layerNormComposite } from '../ops/layer-norm.js';

/** An op attribute as tfjs-node's binding takes it. */
interface OpAttr {
  name: string;
  type: number;
  /** A string list needs the patched binding (scripts/build-tensorflow.mjs). */
  value: boolean | number | string | string[];
}

/** The part of tfjs-node's NodeJSKernelBackend used here. */
interface NodeJSBackend {
  binding: {
    TF_ATTR_BOOL: number;
    TF_ATTR_TYPE: number;
    TF_ATTR_STRING: number;
    TF_ATTR_INT: number;
    TF_ATTR_FLOAT: number;
    TF_FLOAT: number;
    TF_INT32: number;
    createTensor(shape: number[], dtype: number, values: Float32Array | Int32Array): number;
    deleteTensor(id: number): void;
    executeOp(op: string, attrs: OpAttr[], inputs: number[], outputs: number): unknown[];
  };
  executeSingleOutput(op: string, attrs: OpAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
  /** tfjs-node's internals: TensorFlow handles for tfjs tensors (made on first use), and a tensor for an op's output. */
  getInputTensorIds(inputs: tf.TensorInfo[]): number[];
  createOutputTensor(metadata: unknown): tf.Tensor;
  write(values: Float32Array | Int32Array | Uint8Array | Uint8Array[], shape: number[], dtype: tf.DataType): object;
  applyActivation(x: tf.Tensor, activation: string, prelu?: tf.TensorInfo, leakyreluAlpha?: number): tf.Tensor;
}

export type TensorflowKernels = 'native' | 'tfjs';

/** SBERT_TF_KERNELS: `native` (default) or `tfjs` (tfjs-node's kernels only). */
export function tensorflowKernels(): TensorflowKernels {
  const v = process.env.SBERT_TF_KERNELS;
  if (v === undefined || v === '') return 'native';
  if (v !== 'native' && v !== 'tfjs') throw new UsageError(`SBERT_TF_KERNELS="${v}" is not one of native, tfjs`);
  return v;
}

/** Instruction sets our ops' kernels are compiled for (scripts/tensorflow-kernels.h), widest first. */
const KERNEL_ISAS = ['avx512', 'avx2', 'baseline'] as const;

/**
 * SBERT_TF_KERNELS_ISA: unset (the widest the CPU runs), or `avx512`, `avx2` or `baseline` to ask for one no wider
 * (the op takes the widest the CPU runs up to it). Read by scripts/tensorflow-ops.cc at first use; checked here,
 * since the op cannot report a bad value.
 */
export function tensorflowKernelsIsa(): (typeof KERNEL_ISAS)[number] | undefined {
  const v = process.env.SBERT_TF_KERNELS_ISA;
  if (v === undefined || v === '') return undefined;
  const isa = KERNEL_ISAS.find((name) => name === v);
  if (!isa) throw new UsageError(`SBERT_TF_KERNELS_ISA="${v}" is not one of ${KERNEL_ISAS.join(', ')}`);
  return isa;
}

let installed = false;

/**
 * Which of oneDNN's ops run here, each checked once at start-up against tfjs ops (`checkFusedOps`): false where
 * libtensorflow lacks them, the binding cannot pass a string list (tfjs-node's prebuilt addon), or eager mode
 * cannot reach them (TensorFlow's oneDNN rewrites on: it then asks for a kernel label these ops lack).
 */
export interface FusedOps {
  /** `_MklMatMul`: 2-D products on oneDNN by name (with TF_ENABLE_ONEDNN_OPTS=0, MatMul runs on Eigen). */
  matMul: boolean;
  /** `_MklNativeFusedMatMul` with fused_ops BiasAdd [+ GeluExact | Relu]: the Linear layer as one op. */
  linear: boolean;
  /** `_MklNativeFusedMatMul` with fused_ops BiasAdd, Add: a Linear and the residual add after it as one op. */
  residual: boolean;
  /** The same two with HF's [out, in] weights (transpose_b), as the encoder's workers keep them. */
  outIn: boolean;
  /** `_MklLayerNorm`: LayerNorm over the last axis as one op. */
  layerNorm: boolean;
  /** `_MklFusedBatchMatMulV2` with fused_ops Mul, Add: q·kᵀ · scale + mask as one op. */
  scores: boolean;
  /**
   * `Unpack` of the heads-first [3, B, heads, L, d] Q, K, V that one [H, 3H] matmul and one transpose make: Q, K
   * and V as views of it (TensorFlow shares the buffer when splitting along the first axis).
   */
  qkv: boolean;
  /**
   * `SbertAttention`, an op of ours (scripts/tensorflow-ops.cc, built by `npm run build:tensorflow`): a layer's
   * attention from the one [H, 3H] projection's output to the heads merged, [B·L, 3H] → [B·L, H], as one kernel.
   */
  sbertAttention: boolean;
  /** `SbertLayerNorm`, an op of ours: LayerNorm over the last axis, in place of _MklLayerNorm. */
  sbertLayerNorm: boolean;
  /**
   * `SbertLinear` / `SbertLinearAdd`, ops of ours: the Linear layer (bias, activation, residual add) on our own
   * matrix product, in place of _MklNativeFusedMatMul, for both weight layouts.
   */
  sbertLinear: boolean;
  /**
   * Reshape, Transpose, Mean and the scores' scale with their shape / permutation / axes / scale as TensorFlow
   * handles made once (`constantHandle`), not a tfjs tensor uploaded and disposed per call.
   */
  constants: boolean;
}

const NONE: FusedOps = {
  matMul: false,
  linear: false,
  residual: false,
  outIn: false,
  layerNorm: false,
  scores: false,
  qkv: false,
  sbertAttention: false,
  sbertLayerNorm: false,
  sbertLinear: false,
  constants: false,
};
let fused: FusedOps = NONE;
/** The floats per vector of our ops' kernels (scripts/tensorflow-kernels.h), as the CPU runs them; 0 if unknown. */
let kernelWidth = 0;

/** The oneDNN ops in use (all false before the backend starts, or with SBERT_TF_KERNELS=tfjs). */
export function fusedOps(): Readonly<FusedOps> {
  return fused;
}

/** The label TensorFlow registers oneDNN's renamed kernels under; eager mode picks a kernel by it. */
const ONEDNN_LABEL = 'MklNameChangeOp';

const typeAttr = (be: NodeJSBackend, name = 'T'): OpAttr => ({
  name,
  type: be.binding.TF_ATTR_TYPE,
  value: be.binding.TF_FLOAT,
});
const boolAttr = (be: NodeJSBackend, name: string, value: boolean): OpAttr => ({
  name,
  type: be.binding.TF_ATTR_BOOL,
  value,
});
const labelAttr = (be: NodeJSBackend): OpAttr => ({
  name: '_kernel',
  type: be.binding.TF_ATTR_STRING,
  value: ONEDNN_LABEL,
});
/** The attributes of oneDNN's fused matmuls: the epilogue's ops, and how many extra inputs they take. */
const fusedAttrs = (be: NodeJSBackend, ops: string[], args: number): OpAttr[] => [
  { name: 'num_args', type: be.binding.TF_ATTR_INT, value: args },
  { name: 'fused_ops', type: be.binding.TF_ATTR_STRING, value: ops },
];

/**
 * TensorFlow handles of small constants (shapes, permutations, axes, scales) by value, made once: tfjs-node
 * makes a tfjs tensor for each reshape's shape and each transpose's permutation, uploads it and disposes it,
 * about as much work as the op itself, and a forward runs ≈ 150 of them (docs/tensorflow.md). Outside tfjs's
 * engine (they are no tfjs tensors, so `tf.memory()` does not count them); at `CONSTANTS_MAX` all are dropped.
 */
const constants = new Map<string, number>();
const CONSTANTS_MAX = 4096;

function constantHandle(be: NodeJSBackend, values: readonly number[], dtype: 'int32' | 'float32', scalar = false) {
  const key = `${dtype}${scalar ? 's' : ''}:${values.join(',')}`;
  let id = constants.get(key);
  if (id === undefined) {
    if (constants.size >= CONSTANTS_MAX) {
      for (const old of constants.values()) be.binding.deleteTensor(old);
      constants.clear();
    }
    const B = be.binding;
    const data = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    id = B.createTensor(scalar ? [] : [values.length], dtype === 'int32' ? B.TF_INT32 : B.TF_FLOAT, data);
    constants.set(key, id);
  }
  return id;
}

/** Runs `op` on TensorFlow handles (tfjs tensors' via `handles`, constants') → its one output as a tfjs tensor. */
function runOp(be: NodeJSBackend, op: string, attrs: OpAttr[], ids: number[]): tf.Tensor {
  const [out] = be.binding.executeOp(op, attrs, ids, 1);
  return be.createOutputTensor(out);
}

const handles = (be: NodeJSBackend, ...inputs: tf.TensorInfo[]): number[] => be.getInputTensorIds(inputs);

/** x [n, ...] as its n slices along the first axis, as TensorFlow's Unpack (views of x's buffer where aligned). */
function unpackOp(be: NodeJSBackend, x: tf.TensorInfo, n: number): tf.Tensor[] {
  const B = be.binding;
  const attrs = [
    typeAttr(be),
    { name: 'num', type: B.TF_ATTR_INT, value: n },
    { name: 'axis', type: B.TF_ATTR_INT, value: 0 },
  ];
  return B.executeOp('Unpack', attrs, handles(be, x), n).map((out) => be.createOutputTensor(out));
}

/** TensorFlow's dtype attribute for float32 / int32 tensors (the only ones the constant-handle kernels take). */
const dtypeAttr = (be: NodeJSBackend, name: string, dtype: tf.DataType): OpAttr => ({
  name,
  type: be.binding.TF_ATTR_TYPE,
  value: dtype === 'int32' ? be.binding.TF_INT32 : be.binding.TF_FLOAT,
});

/** x reshaped to `shape` (one -1 allowed), as tfjs-node's Reshape kernel with the shape a cached handle. */
function reshapeOp(be: NodeJSBackend, x: tf.TensorInfo, shape: readonly number[]): tf.Tensor {
  const attrs = [dtypeAttr(be, 'T', x.dtype), dtypeAttr(be, 'Tshape', 'int32')];
  return runOp(be, 'Reshape', attrs, [...handles(be, x), constantHandle(be, shape, 'int32')]);
}

/** x with its axes permuted by `perm`, as tfjs-node's Transpose kernel with the permutation a cached handle. */
function transposeOp(be: NodeJSBackend, x: tf.TensorInfo, perm: readonly number[]): tf.Tensor {
  const attrs = [dtypeAttr(be, 'T', x.dtype), dtypeAttr(be, 'Tperm', 'int32')];
  return runOp(be, 'Transpose', attrs, [...handles(be, x), constantHandle(be, perm, 'int32')]);
}

/** The dtypes the constant-handle kernels take; others go to tfjs-node's own kernels. */
const plainDtype = (x: tf.TensorInfo): boolean => x.dtype === 'float32' || x.dtype === 'int32';

/** A 2-D a · b (transposes as asked) as TensorFlow's MatMul op (oneDNN's where it runs). */
function matMul2d(
  be: NodeJSBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  onednn = fused.matMul,
): tf.Tensor {
  return be.executeSingleOutput(
    onednn ? '_MklMatMul' : 'MatMul',
    [
      typeAttr(be),
      boolAttr(be, 'transpose_a', transposeA),
      boolAttr(be, 'transpose_b', transposeB),
      ...(onednn ? [labelAttr(be)] : []),
    ],
    [a, b],
  );
}

/** A batched a · b (adjoints as asked, batch dimensions broadcast) as oneDNN's _MklBatchMatMulV2. */
function batchedMatMul(be: NodeJSBackend, a: tf.TensorInfo, b: tf.TensorInfo, adjA: boolean, adjB: boolean): tf.Tensor {
  return be.executeSingleOutput(
    '_MklBatchMatMulV2',
    [typeAttr(be), boolAttr(be, 'adj_x', adjA), boolAttr(be, 'adj_y', adjB), labelAttr(be)],
    [a, b],
  );
}

/**
 * A product of two matrices: both rank 2, or rank 3 with a batch of one (tfjs's fused matMul reshapes its
 * operands to [1, m, k] · [1, k, n] before calling the kernel). float32 only.
 */
function isMatrixProduct(a: tf.TensorInfo, b: tf.TensorInfo): boolean {
  const matrix = (t: tf.TensorInfo) =>
    t.dtype === 'float32' && (t.shape.length === 2 || (t.shape.length === 3 && t.shape[0] === 1));
  return matrix(a) && matrix(b) && a.shape.length === b.shape.length;
}

/** a · b for `isMatrixProduct` operands, then `epilogue` on the [m, n] product; the result has a's rank. */
function matrixProduct(
  be: NodeJSBackend,
  reshape: tf.KernelFunc,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  epilogue: (y: tf.Tensor) => tf.Tensor = (y) => y,
): tf.Tensor {
  if (a.shape.length === 2) return epilogue(matMul2d(be, a, b, transposeA, transposeB));
  // A Reshape kernel called directly: each output is a tensor this function disposes.
  const backend = be as unknown as tf.KernelBackend;
  const to = (x: tf.TensorInfo, shape: number[]) =>
    fused.constants ? reshapeOp(be, x, shape) : (reshape({ inputs: { x }, attrs: { shape }, backend }) as tf.Tensor);
  const [a2, b2] = [to(a, a.shape.slice(1)), to(b, b.shape.slice(1))];
  const y = epilogue(matMul2d(be, a2, b2, transposeA, transposeB));
  const out = to(y, [1, ...y.shape]);
  tf.dispose([a2, b2, y]);
  return out;
}

/**
 * Registers the MatMul-based BatchMatMul and _FusedMatMul for the `tensorflow` backend (once; tfjs-node's
 * originals handle every other case) and checks which of oneDNN's fused ops run. A no-op with
 * SBERT_TF_KERNELS=tfjs. → what the backend report says.
 */
export function installTensorflowKernels(): string {
  if (tensorflowKernels() === 'tfjs') return "tfjs-node's kernels (SBERT_TF_KERNELS=tfjs)";
  if (installed) return report();
  const batchMatMul = tf.getKernel('BatchMatMul', 'tensorflow');
  const fusedMatMul = tf.getKernel('_FusedMatMul', 'tensorflow');
  const reshape = tf.getKernel('Reshape', 'tensorflow')?.kernelFunc;
  if (!batchMatMul || !fusedMatMul || !reshape)
    return "tfjs-node's kernels (it registered no BatchMatMul / _FusedMatMul / Reshape)";
  tf.unregisterKernel('BatchMatMul', 'tensorflow');
  tf.registerKernel({
    ...batchMatMul,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const be = args.backend as unknown as NodeJSBackend;
      if (!isMatrixProduct(a, b)) {
        // Batched products (tfjs hands them over as 3-D): oneDNN's by name where it runs, since with
        // TF_ENABLE_ONEDNN_OPTS=0 tfjs-node's BatchMatMulV2 would run on Eigen.
        const batched = a.dtype === 'float32' && b.dtype === 'float32' && a.shape.length === b.shape.length;
        if (!fused.matMul || !batched) return batchMatMul.kernelFunc(args);
        return batchedMatMul(be, a, b, transposeA, transposeB);
      }
      return matrixProduct(be, reshape, a, b, transposeA, transposeB);
    },
  });
  tf.unregisterKernel('_FusedMatMul', 'tensorflow');
  tf.registerKernel({
    ...fusedMatMul,
    kernelFunc: (args) => {
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as {
        transposeA: boolean;
        transposeB: boolean;
        activation: string;
        leakyreluAlpha?: number;
      };
      const columns = b?.shape[transposeB ? b.shape.length - 2 : b.shape.length - 1];
      const plainBias = !bias || (bias.shape.length === 1 && bias.shape[0] === columns && bias.dtype === 'float32');
      if (!a || !b || !isMatrixProduct(a, b) || !plainBias) return fusedMatMul.kernelFunc(args);
      const be = args.backend as unknown as NodeJSBackend;
      const B = be.binding;
      return matrixProduct(be, reshape, a, b, transposeA, transposeB, (product) => {
        let y = product;
        if (bias) {
          y = be.executeSingleOutput(
            'BiasAdd',
            [
              { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
              { name: 'data_format', type: B.TF_ATTR_STRING, value: 'NHWC' },
            ],
            [product, bias],
          );
          product.dispose();
        }
        if (!activation || activation === 'linear') return y;
        const out = be.applyActivation(y, activation, preluActivationWeights, leakyreluAlpha);
        if (out !== y) y.dispose();
        return out;
      });
    },
  });
  // Reshape and Transpose with their shape / permutation as a cached TensorFlow handle (`constantHandle`).
  const originals: Record<string, tf.KernelFunc> = {};
  for (const [name, run] of [
    [
      'Reshape',
      (be: NodeJSBackend, x: tf.TensorInfo, attrs: tf.NamedAttrMap) => reshapeOp(be, x, attrs.shape as number[]),
    ],
    [
      'Transpose',
      (be: NodeJSBackend, x: tf.TensorInfo, attrs: tf.NamedAttrMap) => transposeOp(be, x, attrs.perm as number[]),
    ],
  ] as const) {
    const original = tf.getKernel(name, 'tensorflow');
    if (!original) continue;
    originals[name] = original.kernelFunc;
    tf.unregisterKernel(name, 'tensorflow');
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const { x } = args.inputs as { x: tf.TensorInfo };
        if (!fused.constants || !plainDtype(x)) return original.kernelFunc(args);
        return run(args.backend as unknown as NodeJSBackend, x, args.attrs ?? {});
      },
    });
  }
  // tfjs-node's Mean casts its input to float32 first, an op of its own even when it already is (LayerNorm
  // takes two means per call).
  const mean = tf.getKernel('Mean', 'tensorflow');
  if (mean) {
    tf.unregisterKernel('Mean', 'tensorflow');
    tf.registerKernel({
      ...mean,
      kernelFunc: (args) => {
        const { x } = args.inputs as { x: tf.TensorInfo };
        const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
        if (x.dtype !== 'float32') return mean.kernelFunc(args);
        const be = args.backend as unknown as NodeJSBackend;
        const B = be.binding;
        const attrs = [
          { name: 'keep_dims', type: B.TF_ATTR_BOOL, value: keepDims },
          { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
          { name: 'Tidx', type: B.TF_ATTR_TYPE, value: B.TF_INT32 },
        ];
        const axisList = tf.util.parseAxisParam(axis, x.shape);
        if (fused.constants)
          return runOp(be, 'Mean', attrs, [...handles(be, x), constantHandle(be, axisList, 'int32')]);
        const axes = tf.tensor1d(axisList, 'int32');
        const y = be.executeSingleOutput('Mean', attrs, [x, axes]);
        axes.dispose();
        return y;
      },
    });
  }
  installed = true;
  const be = tf.backend() as unknown as NodeJSBackend;
  fused = checkFusedOps(be, originals);
  kernelWidth = opsVectorWidth(be);
  uploadOnWrite(be);
  return report();
}

/** What our ops' kernels run on, for the report: ` (AVX2 kernels)`, or nothing where unknown. */
function vectorsNamed(width: number): string {
  if (width === 16) return ' (AVX-512 kernels)';
  if (width === 8) return ' (AVX2 kernels)';
  if (width === 4) return process.arch === 'x64' ? ' (SSE2 kernels)' : ' (4-float vector kernels)';
  return '';
}

/** SbertKernels: the floats per vector of the kernels our ops picked for this CPU (0 where the op is missing). */
function opsVectorWidth(be: NodeJSBackend): number {
  try {
    return tf.tidy(() => be.executeSingleOutput('SbertKernels', [], []).dataSync()[0] ?? 0);
  } catch {
    return 0;
  }
}

/** The backend report's words for our kernels: `MatMul for 2-D products; oneDNN: …`. */
function report(): string {
  const on = [
    fused.matMul && 'matmuls',
    !fused.sbertLinear && fused.linear && 'Linear with its bias and GELU / ReLU as one op',
    !fused.sbertLinear && fused.residual && 'residual adds in the Linear',
    !fused.sbertLayerNorm && fused.layerNorm && 'LayerNorm as one op',
    fused.scores && 'attention scores with scale and mask as one op',
    fused.qkv && 'Q, K, V as one matmul',
  ].filter(Boolean);
  const mine = [
    fused.sbertLinear && 'SbertLinear (with its bias, GELU / ReLU and residual add)',
    fused.sbertAttention && 'SbertAttention',
    fused.sbertLayerNorm && 'SbertLayerNorm',
  ].filter(Boolean);
  const ours = mine.length ? `; ops of ours${vectorsNamed(kernelWidth)}: ${mine.join(', ')}` : '';
  const shapes = fused.constants ? '; shapes as cached handles' : '';
  return `MatMul for 2-D products${on.length ? `; oneDNN ${on.join(', ')}` : ''}${ours}${shapes}`;
}

/** Deterministic probe values in [-scale, scale]. */
function probeValues(n: number, seed: number, scale = 2): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => scale * Math.sin(seed * 7.31 + i * 1.37));
}

/** True when `op()` runs and its result matches `want` to 1e-5 (relative to want's largest magnitude). */
function agrees(op: () => tf.Tensor, want: () => tf.Tensor): boolean {
  try {
    return tf.tidy(() => {
      const got = op();
      const ref = want();
      if (!tf.util.arraysEqual(got.shape, ref.shape)) return false;
      const scale = Math.max(1, tf.max(tf.abs(ref)).dataSync()[0]!);
      return tf.max(tf.abs(tf.sub(got, ref))).dataSync()[0]! <= 1e-5 * scale;
    });
  } catch {
    return false; // the op or its kernel is absent, or the binding cannot pass its attributes
  }
}

/**
 * Runs each oneDNN op once on small inputs against the same arithmetic as tfjs ops; → those that agree.
 * A failure is silent (TensorFlow logs nothing for a missing kernel) and leaves the op out.
 */
function checkFusedOps(be: NodeJSBackend, originals: Record<string, tf.KernelFunc>): FusedOps {
  const [m, k, n] = [5, 8, 6];
  const backend = be as unknown as tf.KernelBackend;
  const probe = tf.tensor3d(probeValues(2 * 3 * 4, 8), [2, 3, 4]);
  const original = (name: string, attrs: tf.NamedAttrMap) => () =>
    originals[name]!({ inputs: { x: probe }, attrs, backend }) as tf.Tensor;
  // Twice each: the second call takes the cached handle.
  const constants =
    originals.Reshape !== undefined &&
    originals.Transpose !== undefined &&
    [0, 1].every(
      () =>
        agrees(() => reshapeOp(be, probe, [4, -1]), original('Reshape', { shape: [4, -1] })) &&
        agrees(() => transposeOp(be, probe, [2, 0, 1]), original('Transpose', { perm: [2, 0, 1] })),
    );
  probe.dispose();
  const x = tf.tensor2d(probeValues(m * k, 1), [m, k]);
  const w = tf.tensor2d(probeValues(k * n, 2, 0.7), [k, n]);
  const b = tf.tensor1d(probeValues(n, 3, 0.5));
  const x3 = tf.tensor3d(probeValues(2 * m * k, 7), [2, m, k]);
  const matMul =
    agrees(
      () => matMul2d(be, x, w, false, false, true),
      () => matMul2d(be, x, w, false, false, false),
    ) &&
    agrees(
      () => batchedMatMul(be, x3, x3, false, true),
      () =>
        be.executeSingleOutput(
          'BatchMatMulV2',
          [typeAttr(be), boolAttr(be, 'adj_x', false), boolAttr(be, 'adj_y', true)],
          [x3, x3],
        ),
    );
  const linear = (['gelu', 'gelu_tanh', 'relu', 'linear'] as const).every((act) =>
    agrees(
      () => fusedLinear(be, x, w, b, act),
      () => {
        const y = tf.add(matMul2d(be, x, w, false, false, false), b);
        return activate(y, act);
      },
    ),
  );
  const r = tf.tensor2d(probeValues(m * n, 9, 3), [m, n]);
  // HF's [out, in] weights with transpose_b (Linear layers keep them so on tensorflow) against the same products.
  const wT = tf.transpose(w);
  const withResidual = () => tf.add(tf.add(matMul2d(be, x, w, false, false, false), b), r);
  const residual = agrees(() => fusedLinearAdd(be, x, w, b, r), withResidual);
  const outIn =
    linear &&
    residual &&
    agrees(
      () => fusedLinear(be, x, wT, b, 'gelu', true),
      () => gelu(tf.add(matMul2d(be, x, w, false, false, false), b)),
    ) &&
    agrees(() => fusedLinearAdd(be, x, wT, b, r, true), withResidual);
  wT.dispose();
  r.dispose();
  const h = tf.tensor3d(probeValues(2 * 3 * n, 4, 6), [2, 3, n]);
  const layerNorm = agrees(
    () => oneLayerNorm(be, h, b, tf.add(b, 1) as tf.Tensor1D, 1e-12),
    () => layerNormComposite(h, b, tf.add(b, 1) as tf.Tensor1D, 1e-12),
  );
  const [B, L, heads, d] = [2, 3, 2, 4];
  const q = tf.tensor4d(probeValues(B * heads * L * d, 5), [B, heads, L, d]);
  const kk = tf.tensor4d(probeValues(B * heads * L * d, 6), [B, heads, L, d]);
  const mask = tf.tensor4d([0, 0, -3.4e38, 0, 0, 0], [B, 1, 1, L]);
  const scores = agrees(
    () => fusedScores(be, q, kk, mask, 0.5),
    () => tf.add(tf.mul(tf.matMul(q, kk, false, true), 0.5), mask),
  );
  const packed = tf.tensor2d(probeValues(B * L * 3 * heads * d, 10), [B * L, 3 * heads * d]);
  const qkv =
    constants &&
    agrees(
      () => tf.concat(headsFirst(be, packed, [B, L, heads, d]), 0),
      () =>
        tf.concat(
          tf
            .split(tf.reshape(packed, [B, L, 3, heads, d]), 3, 2)
            .map((t) => tf.transpose(tf.squeeze(t, [2]), [0, 2, 1, 3])),
          0,
        ),
    );
  tf.dispose([x, w, b, x3, h, q, kk, mask, packed]);
  return {
    matMul,
    linear,
    residual,
    outIn,
    layerNorm,
    scores,
    qkv,
    sbertAttention: qkv && checkAttentionOp(be),
    sbertLayerNorm: checkLayerNormOp(be),
    sbertLinear: checkLinearOp(be),
    constants,
  };
}

/**
 * SbertLinear and SbertLinearAdd against MatMul and tfjs's ops: every activation, both weight layouts, with and
 * without the residual, on a product whose rows and columns end in partial tiles and whose k spans two of the
 * kernel's slices (docs/tensorflow.md).
 */
function checkLinearOp(be: NodeJSBackend): boolean {
  const [m, k, n] = [13, 300, 70];
  const x = tf.tensor2d(probeValues(m * k, 15), [m, k]);
  const w = tf.tensor2d(probeValues(k * n, 16, 0.2), [k, n]);
  const wT = tf.transpose(w);
  const b = tf.tensor1d(probeValues(n, 17, 0.5));
  const r = tf.tensor2d(probeValues(m * n, 18, 3), [m, n]);
  const product = () => tf.add(matMul2d(be, x, w, false, false, false), b);
  const ok = [false, true].every((outIn) => {
    const weight = outIn ? wT : w;
    return (
      (['gelu', 'gelu_tanh', 'relu', 'linear'] as const).every((act) =>
        agrees(
          () => sbertLinear(be, x, weight, b, undefined, act, outIn),
          () => activate(product(), act),
        ),
      ) &&
      agrees(
        () => sbertLinear(be, x, weight, b, r, 'linear', outIn),
        () => tf.add(product(), r),
      )
    );
  });
  tf.dispose([x, w, wT, b, r]);
  return ok;
}

/**
 * SbertLinear (scripts/tensorflow-ops.cc): activation(x · w + b) [+ residual] as one op. x [rows, in]; w [in, out]
 * (HF's [out, in] with `transposeB`); b [out]; residual [rows, out] → [rows, out].
 */
function sbertLinear(
  be: NodeJSBackend,
  x: tf.TensorInfo,
  w: tf.TensorInfo,
  b: tf.TensorInfo,
  residual: tf.TensorInfo | undefined,
  activation: TensorflowActivation,
  transposeB: boolean,
): tf.Tensor {
  return be.executeSingleOutput(
    residual ? 'SbertLinearAdd' : 'SbertLinear',
    [
      boolAttr(be, 'transpose_w', transposeB),
      { name: 'activation', type: be.binding.TF_ATTR_STRING, value: activation },
      { name: 'threads', type: be.binding.TF_ATTR_INT, value: opThreads() },
    ],
    residual ? [x, w, b, residual] : [x, w, b],
  );
}

/** SbertLayerNorm against tfjs's ops: rows of 40 (two vectors and a tail), one of them constant (variance 0). */
function checkLayerNormOp(be: NodeJSBackend): boolean {
  const [N, H] = [3, 40];
  const values = probeValues(N * H, 12, 3);
  values.fill(0.25, H, 2 * H);
  const x = tf.tensor2d(values, [N, H]);
  const gamma = tf.tensor1d(probeValues(H, 13, 1));
  const beta = tf.tensor1d(probeValues(H, 14, 0.5));
  const ok = agrees(
    () => sbertLayerNorm(be, x, gamma, beta, 1e-12),
    () => layerNormComposite(x, gamma, beta, 1e-12),
  );
  tf.dispose([x, gamma, beta]);
  return ok;
}

/** SbertLayerNorm (scripts/tensorflow-ops.cc): LayerNorm over the last axis, any rank, shaped as x. */
function sbertLayerNorm(be: NodeJSBackend, x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo, eps: number) {
  return be.executeSingleOutput(
    'SbertLayerNorm',
    [
      { name: 'epsilon', type: be.binding.TF_ATTR_FLOAT, value: eps },
      { name: 'threads', type: be.binding.TF_ATTR_INT, value: opThreads() },
    ],
    [x, gamma, beta],
  );
}

/**
 * SbertAttention against tfjs's ops on a probe with a masked key and a sentence whose keys are all masked (torch's
 * softmax is then uniform).
 */
function checkAttentionOp(be: NodeJSBackend): boolean {
  const [B, L, heads, d] = [3, 4, 2, 24];
  const H = heads * d;
  const packed = tf.tensor2d(probeValues(B * L * 3 * H, 11), [B * L, 3 * H]);
  const min = -3.4028234663852886e38;
  const mask = tf.tensor4d([0, 0, min, 0, 0, 0, 0, 0, min, min, min, min], [B, 1, 1, L]);
  const ok = agrees(
    () => sbertAttention(be, packed, mask, heads, 0.3),
    () => {
      const [q, k, v] = tf
        .split(tf.reshape(packed, [B, L, 3, heads, d]), 3, 2)
        .map((t) => tf.reshape(t, [B, L, heads, d]) as tf.Tensor4D);
      return tf.reshape(attentionComposite(q!, k!, v!, mask, 0.3).z, [B * L, H]);
    },
  );
  tf.dispose([packed, mask]);
  return ok;
}

/** SbertAttention (scripts/tensorflow-ops.cc): qkv [B·L, 3H], mask [B, 1, 1, L] → z [B·L, H], heads merged. */
function sbertAttention(be: NodeJSBackend, qkv: tf.TensorInfo, mask: tf.TensorInfo, heads: number, scale: number) {
  return be.executeSingleOutput(
    'SbertAttention',
    [
      { name: 'heads', type: be.binding.TF_ATTR_INT, value: heads },
      { name: 'scale', type: be.binding.TF_ATTR_FLOAT, value: scale },
      { name: 'threads', type: be.binding.TF_ATTR_INT, value: opThreads() },
    ],
    [qkv, mask],
  ) as tf.Tensor2D;
}

/** The activations tensorflowLinear applies. */
export type TensorflowActivation = 'linear' | 'relu' | 'gelu' | 'gelu_tanh';

/** `activation` on y as tfjs ops (src/ops' GELU forms): the fallback path, and what the start-up checks compare to. */
function activate<T extends tf.Tensor>(y: T, activation: TensorflowActivation): T {
  if (activation === 'gelu') return gelu(y);
  if (activation === 'gelu_tanh') return geluTanh(y);
  return activation === 'relu' ? tf.relu(y) : y;
}

const EPILOGUES: Record<TensorflowActivation, string[]> = {
  linear: ['BiasAdd'],
  relu: ['BiasAdd', 'Relu'],
  gelu: ['BiasAdd', 'GeluExact'], // oneDNN's eltwise_gelu_erf: x·Φ(x) with erf, as torch's F.gelu
  // oneDNN's eltwise_gelu_tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), HF's gelu_new formula
  gelu_tanh: ['BiasAdd', 'GeluApproximate'],
};

/** activation(x · w + b) as one _MklNativeFusedMatMul: bias and activation in oneDNN's matmul epilogue. */
function fusedLinear(
  be: NodeJSBackend,
  x: tf.TensorInfo,
  w: tf.TensorInfo,
  b: tf.TensorInfo,
  activation: TensorflowActivation,
  transposeB = false,
): tf.Tensor {
  if (fused.sbertLinear) return sbertLinear(be, x, w, b, undefined, activation, transposeB);
  return be.executeSingleOutput(
    '_MklNativeFusedMatMul',
    [
      typeAttr(be),
      boolAttr(be, 'transpose_a', false),
      boolAttr(be, 'transpose_b', transposeB),
      ...fusedAttrs(be, EPILOGUES[activation], 1),
      labelAttr(be),
    ],
    [x, w, b],
  );
}
/** x · w + b + residual as one _MklNativeFusedMatMul (the residual added in oneDNN's epilogue). */
function fusedLinearAdd(
  be: NodeJSBackend,
  x: tf.TensorInfo,
  w: tf.TensorInfo,
  b: tf.TensorInfo,
  r: tf.TensorInfo,
  transposeB = false,
) {
  if (fused.sbertLinear) return sbertLinear(be, x, w, b, r, 'linear', transposeB);
  return be.executeSingleOutput(
    '_MklNativeFusedMatMul',
    [
      typeAttr(be),
      boolAttr(be, 'transpose_a', false),
      boolAttr(be, 'transpose_b', transposeB),
      ...fusedAttrs(be, ['BiasAdd', 'Add'], 2),
      labelAttr(be),
    ],
    [x, w, b, r],
  );
}

/** torch's LayerNorm over the last axis as one _MklLayerNorm (oneDNN's layer normalisation). */
function oneLayerNorm(be: NodeJSBackend, x: tf.TensorInfo, weight: tf.TensorInfo, bias: tf.TensorInfo, eps: number) {
  return be.executeSingleOutput(
    '_MklLayerNorm',
    [typeAttr(be), { name: 'epsilon', type: be.binding.TF_ATTR_FLOAT, value: eps }],
    [x, weight, bias],
  );
}

/** q · kᵀ · scale + mask as one _MklFusedBatchMatMulV2. q, k: [B, heads, L, d]; mask: [B, 1, 1, L]. */
function fusedScores(be: NodeJSBackend, q: tf.TensorInfo, k: tf.TensorInfo, mask: tf.TensorInfo, scale: number) {
  const attrs = [
    typeAttr(be),
    boolAttr(be, 'adj_x', false),
    boolAttr(be, 'adj_y', true),
    ...fusedAttrs(be, ['Mul', 'Add'], 2),
  ];
  if (fused.constants) {
    const [qk, m] = [handles(be, q, k), handles(be, mask)];
    return runOp(be, '_MklFusedBatchMatMulV2', attrs, [...qk, constantHandle(be, [scale], 'float32', true), ...m]);
  }
  const s = tf.scalar(scale);
  try {
    return be.executeSingleOutput('_MklFusedBatchMatMulV2', attrs, [q, k, s, mask]);
  } finally {
    s.dispose();
  }
}

/** float32 tensors from this many elements up are uploaded to TensorFlow when made (`uploadOnWrite`). */
export const UPLOAD_MIN_ELEMENTS = 1024;

/**
 * Makes tfjs-node upload float32 tensors of `UPLOAD_MIN_ELEMENTS` or more to TensorFlow when they are made, as
 * the other backends do, instead of on their first use in an op: a model's weights are then in TensorFlow
 * when loading ends, not uploaded by the first forward that reads them (≈ 0.8 CPU-s for BERT-base,
 * docs/tensorflow.md). tfjs-node frees its JavaScript copy once uploaded, either way.
 */
function uploadOnWrite(be: NodeJSBackend): void {
  if (typeof be.getInputTensorIds !== 'function') return;
  const write = be.write.bind(be);
  be.write = (values, shape, dtype) => {
    const dataId = write(values, shape, dtype);
    if (dtype === 'float32' && values.length >= UPLOAD_MIN_ELEMENTS) be.getInputTensorIds([{ dataId, shape, dtype }]);
    return dataId;
  };
}

/**
 * True where `tensorflowLinear` should run the Linear layers: the tensorflow backend with our kernels. tfjs's
 * fused matMul reshapes its operands to 3-D and back, and on tfjs-node each reshape is an op of its own (a
 * TensorFlow call and a shape tensor uploaded): six per Linear, half the ops of a BERT forward.
 */
export function tensorflowLinearApplies(): boolean {
  // `installed` means SBERT_TF_KERNELS was native when the backend started (it is read then, not per op: reading
  // process.env costs ≈ 1 µs, and this runs a few times per op).
  return installed && tf.getBackend() === 'tensorflow';
}

/**
 * x · w + b, then the activation (exact or tanh GELU, ReLU), as one oneDNN op where `fusedOps().linear`, else as tfjs ops that
 * reach TensorFlow without reshapes: tf.matMul of 2-D operands (MatMul, above), one broadcasting add and GELU as
 * src/ops composes it. No gradient: kernels.ts runs tfjs's ops while one is recorded. x: [rows, in]; w: [in, out]
 * (HF's [out, in] with `transposeB`); b: [out] → [rows, out].
 */
export function tensorflowLinear(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: TensorflowActivation,
  transposeB = false,
): tf.Tensor2D {
  const be = tf.backend() as unknown as NodeJSBackend;
  if (fused.linear || fused.sbertLinear) return fusedLinear(be, x, w, b, activation, transposeB) as tf.Tensor2D;
  return tf.tidy(() => {
    const y = tf.add(tf.matMul(x, w, false, transposeB), b) as tf.Tensor2D;
    return activate(y, activation);
  });
}

/** True where `tensorflowLinearAdd` runs as one op (tensorflow, our kernels, the BiasAdd + Add epilogue checked). */
export function tensorflowLinearAddApplies(): boolean {
  return (fused.residual || fused.sbertLinear) && tensorflowLinearApplies();
}

/**
 * x · w + b + residual as one _MklNativeFusedMatMul: the residual add of BertSelfOutput / BertOutput in the
 * matmul's epilogue. No gradient (kernels.ts runs tfjs's ops while one is recorded). x: [rows, in]; w: [in, out]
 * (HF's [out, in] with `transposeB`); b: [out]; residual: [rows, out] → [rows, out].
 */
export function tensorflowLinearAdd(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  residual: tf.Tensor2D,
  transposeB = false,
): tf.Tensor2D {
  return fusedLinearAdd(tf.backend() as unknown as NodeJSBackend, x, w, b, residual, transposeB) as tf.Tensor2D;
}

/** True where `tensorflowLayerNorm` runs LayerNorm as one op (tensorflow, our kernels, ours or _MklLayerNorm checked). */
export function tensorflowLayerNormApplies(): boolean {
  return (fused.sbertLayerNorm || fused.layerNorm) && tensorflowLinearApplies();
}

/**
 * torch's LayerNorm(x + residual) over the last axis (x alone without a residual): the add, then one
 * SbertLayerNorm (ours) or _MklLayerNorm. No gradient (kernels.ts runs tfjs's ops while one is recorded). Any rank ≥ 2, same shape out.
 */
export function tensorflowLayerNorm<R extends tf.Rank>(
  x: tf.Tensor<R>,
  residual: tf.Tensor<R> | undefined,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
): tf.Tensor<R> {
  const be = tf.backend() as unknown as NodeJSBackend;
  const sum = residual ? tf.add(x, residual) : x;
  const ours = fused.sbertLayerNorm;
  const y = (ours ? sbertLayerNorm : oneLayerNorm)(be, sum, weight, bias, eps) as tf.Tensor<R>;
  if (sum !== x) sum.dispose();
  return y;
}

/** True where `tensorflowAttention` runs (tensorflow, our kernels, the scores' op and oneDNN's matmuls checked). */
export function tensorflowAttentionApplies(): boolean {
  return fused.scores && fused.matMul && tensorflowLinearApplies();
}

/**
 * HF's eager attention as src/ops/attention.ts computes it (same arguments, same taps, same result), with the
 * masked, scaled scores q·kᵀ · scale + mask as one _MklFusedBatchMatMulV2 and probabilities · v as one batched
 * matmul on the 4-D operands (tf.matMul would reshape them to 3-D and back: four ops more). No gradient.
 */
export function tensorflowAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor4D,
  scale: number,
  onScores: AttentionTap = (t) => t,
  onProbs: AttentionTap = (t) => t,
): { z: tf.Tensor4D; probs: tf.Tensor4D } {
  const heads = (t: tf.Tensor4D) => tf.transpose(t, [0, 2, 1, 3]) as tf.Tensor4D; // [B, L, heads, d] → [B, heads, L, d]
  return attentionOfHeads(heads(q), heads(k), heads(v), mask, scale, onScores, onProbs);
}

/** True where `tensorflowQkvAttention` runs (tensorflow, our kernels, the attention ops and Unpack checked). */
export function tensorflowQkvApplies(): boolean {
  return fused.qkv && tensorflowAttentionApplies();
}

/**
 * `tensorflowAttention` from Q, K and V side by side, as one Linear of HF's three weights concatenated makes them:
 * qkv [B·L, 3·heads·d] (columns: Q's, K's, V's) → z [B, L, heads, d] and the probabilities [B, heads, L, L]. One
 * transpose makes all three heads-first, where the separate projections take three (docs/tensorflow.md). Same
 * arithmetic as tensorflowAttention on the three parts; taps as there. No gradient.
 */
export function tensorflowQkvAttention(
  qkv: tf.Tensor2D,
  shape: readonly [number, number, number, number],
  mask: tf.Tensor4D,
  scale: number,
  onScores?: AttentionTap,
  onProbs?: AttentionTap,
): { z: tf.Tensor4D; probs: tf.Tensor4D } {
  const [q, k, v] = headsFirst(tf.backend() as unknown as NodeJSBackend, qkv, shape);
  return attentionOfHeads(q, k, v, mask, scale, onScores, onProbs);
}

/**
 * True where `tensorflowAttentionRows` runs for heads `headDim` wide: tensorflowQkvApplies, our SbertAttention op
 * checked, and a head width it takes (up to 256: BERT-base's is 64).
 */
export function tensorflowAttentionRowsApplies(headDim: number): boolean {
  return fused.sbertAttention && headDim <= 256 && tensorflowQkvApplies();
}

/**
 * Threads our ops split their work over (SbertAttention its heads, SbertLinear its tiles): in the main thread
 * TensorFlow's intra-op count (one per core, or TF_NUM_INTRAOP_THREADS), whose threads idle while an eager op runs;
 * in a pool's worker 1 (the workers fill the cores).
 */
function opThreads(): number {
  if (!isMainThread) return 1;
  const set = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Math.min(256, Number.isInteger(set) && set > 0 ? set : availableParallelism());
}

/**
 * The attention as one op of ours (SbertAttention): qkv [B·L, 3·heads·d] as tensorflowQkvAttention takes it, mask
 * [B, 1, 1, L] → z [B·L, heads·d], the heads merged (what the output projection reads). No probabilities, no taps,
 * no gradient: for those, tensorflowQkvAttention.
 */
export function tensorflowAttentionRows(
  qkv: tf.Tensor2D,
  heads: number,
  mask: tf.Tensor4D,
  scale: number,
): tf.Tensor2D {
  return sbertAttention(tf.backend() as unknown as NodeJSBackend, qkv, mask, heads, scale);
}

/** qkv [B·L, 3·heads·d] → Q, K, V as [B, heads, L, d] each: a reshape, one transpose, an Unpack (views). */
function headsFirst(
  be: NodeJSBackend,
  qkv: tf.TensorInfo,
  [B, L, heads, d]: readonly [number, number, number, number],
): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const split = reshapeOp(be, qkv, [B, L, 3, heads, d]);
  const stacked = transposeOp(be, split, [2, 0, 3, 1, 4]); // [3, B, heads, L, d]
  split.dispose();
  const parts = unpackOp(be, stacked, 3) as tf.Tensor4D[];
  stacked.dispose();
  return parts as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
}

/** The attention on heads-first q, k, v [B, heads, L, d] (disposed here) → z [B, L, heads, d] and the probabilities. */
function attentionOfHeads(
  qh: tf.Tensor4D,
  kh: tf.Tensor4D,
  vh: tf.Tensor4D,
  mask: tf.Tensor4D,
  scale: number,
  onScores: AttentionTap = (t) => t,
  onProbs: AttentionTap = (t) => t,
): { z: tf.Tensor4D; probs: tf.Tensor4D } {
  const be = tf.backend() as unknown as NodeJSBackend;
  const masked = fusedScores(be, qh, kh, mask, scale) as tf.Tensor4D;
  tf.dispose([qh, kh]);
  const scores = onScores(masked);
  const probs = onProbs(tf.softmax(scores)); // [B, heads, L, L]
  if (scores !== probs) scores.dispose();
  if (masked !== scores && masked !== probs) masked.dispose();
  const context = batchedMatMul(be, probs, vh, false, false);
  vh.dispose();
  const z = tf.transpose(context, [0, 2, 1, 3]) as tf.Tensor4D; // [B, L, heads, d]
  context.dispose();
  return { z, probs };
}
