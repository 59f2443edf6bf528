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
// Measured in docs/tensorflow.md. SBERT_TF_KERNELS=tfjs keeps tfjs-node's kernels and tfjs's fused matMul.
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import { gelu } from '../ops/activations.js';

/** An op attribute as tfjs-node's binding takes it. */
interface OpAttr {
  name: string;
  type: number;
  value: boolean | number | string;
}

/** The part of tfjs-node's NodeJSKernelBackend used here. */
interface NodeJSBackend {
  binding: { TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_ATTR_STRING: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(op: string, attrs: OpAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
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

let installed = false;

/** A 2-D a · b (transposes as asked) as TensorFlow's MatMul op. */
function matMul2d(
  be: NodeJSBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.Tensor {
  const B = be.binding;
  return be.executeSingleOutput(
    'MatMul',
    [
      { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
      { name: 'transpose_a', type: B.TF_ATTR_BOOL, value: transposeA },
      { name: 'transpose_b', type: B.TF_ATTR_BOOL, value: transposeB },
    ],
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
  // tfjs-node's own Reshape kernel, called directly: each output is a tensor this function disposes.
  const backend = be as unknown as tf.KernelBackend;
  const to = (x: tf.TensorInfo, shape: number[]) => reshape({ inputs: { x }, attrs: { shape }, backend }) as tf.Tensor;
  const [a2, b2] = [to(a, a.shape.slice(1)), to(b, b.shape.slice(1))];
  const y = epilogue(matMul2d(be, a2, b2, transposeA, transposeB));
  const out = to(y, [1, ...y.shape]);
  tf.dispose([a2, b2, y]);
  return out;
}

/**
 * Registers the MatMul-based BatchMatMul and _FusedMatMul for the `tensorflow` backend (once; tfjs-node's
 * originals handle every other case). A no-op with SBERT_TF_KERNELS=tfjs. → what the backend report says.
 */
export function installTensorflowKernels(): string {
  if (tensorflowKernels() === 'tfjs') return "tfjs-node's kernels (SBERT_TF_KERNELS=tfjs)";
  if (installed) return 'MatMul for 2-D products';
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
      if (!isMatrixProduct(a, b)) return batchMatMul.kernelFunc(args);
      return matrixProduct(args.backend as unknown as NodeJSBackend, reshape, a, b, transposeA, transposeB);
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
        const axes = tf.tensor1d(tf.util.parseAxisParam(axis, x.shape), 'int32');
        const y = be.executeSingleOutput(
          'Mean',
          [
            { name: 'keep_dims', type: B.TF_ATTR_BOOL, value: keepDims },
            { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
            { name: 'Tidx', type: B.TF_ATTR_TYPE, value: B.TF_INT32 },
          ],
          [x, axes],
        );
        axes.dispose();
        return y;
      },
    });
  }
  installed = true;
  return 'MatMul for 2-D products';
}

/**
 * True where `tensorflowLinear` should run the Linear layers: the tensorflow backend with our kernels. tfjs's
 * fused matMul reshapes its operands to 3-D and back, and on tfjs-node each reshape is an op of its own (a
 * TensorFlow call and a shape tensor uploaded): six per Linear, half the ops of a BERT forward.
 */
export function tensorflowLinearApplies(): boolean {
  return installed && tf.getBackend() === 'tensorflow' && tensorflowKernels() === 'native';
}

/**
 * x · w + b, then the activation (exact GELU as src/ops composes it), as tfjs ops that reach
 * TensorFlow without reshapes: tf.matMul of 2-D operands (MatMul, above) and one broadcasting add. Same
 * products and sums as the fused kernel, and the gradients of tfjs's ops. x: [rows, in]; w: [in, out]; b: [out].
 */
export function tensorflowLinear(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: 'linear' | 'relu' | 'gelu',
): tf.Tensor2D {
  return tf.tidy(() => {
    const y = tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
    return activation === 'relu' ? tf.relu(y) : activation === 'gelu' ? gelu(y) : y;
  });
}
