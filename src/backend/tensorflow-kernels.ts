// Faster kernels for tfjs-node's `tensorflow` backend, swapped into tfjs's kernel registry once per process.
// tfjs-node sends every matMul, 2-D ones included, to TensorFlow's BatchMatMulV2; with oneDNN (on by default in
// TensorFlow ≥ 2.9 on x86) that op runs a [rows, 768] · [768, 3072] product at half the rate of the plain
// MatMul op, and the Linear layers are nearly all of a BERT forward's time. Here 2-D products run as MatMul,
// with the bias as one BiasAdd (tfjs-node's fused matMul adds it through a broadcasting tfjs add); everything
// else goes to tfjs-node's own kernels. Same products, same float32 sums: only the kernel TensorFlow picks
// differs. Measured rates: docs/tensorflow.md. SBERT_TF_KERNELS=tfjs keeps tfjs-node's kernels throughout.
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';

/** An op attribute as tfjs-node's binding takes it. */
interface OpAttr {
  name: string;
  type: number;
  value: boolean | number | string;
}

/** The part of tfjs-node's NodeJSKernelBackend used here. */
interface NodeJSBackend {
  binding: { TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_ATTR_STRING: number; TF_FLOAT: number };
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
function matMul2d(be: NodeJSBackend, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const B = be.binding;
  return be.executeSingleOutput('MatMul', [
    { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
    { name: 'transpose_a', type: B.TF_ATTR_BOOL, value: transposeA },
    { name: 'transpose_b', type: B.TF_ATTR_BOOL, value: transposeB },
  ], [a, b]);
}

/**
 * A product of two matrices: both rank 2, or rank 3 with a batch of one (tfjs's fused matMul reshapes its
 * operands to [1, m, k] · [1, k, n] before calling the kernel). float32 only.
 */
function isMatrixProduct(a: tf.TensorInfo, b: tf.TensorInfo): boolean {
  const matrix = (t: tf.TensorInfo) => t.dtype === 'float32' && (t.shape.length === 2 || (t.shape.length === 3 && t.shape[0] === 1));
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
  if (!batchMatMul || !fusedMatMul || !reshape) return "tfjs-node's kernels (it registered no BatchMatMul / _FusedMatMul / Reshape)";
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
      const columns = b && b.shape[transposeB ? b.shape.length - 2 : b.shape.length - 1];
      const plainBias = !bias || (bias.shape.length === 1 && bias.shape[0] === columns && bias.dtype === 'float32');
      if (!a || !b || !isMatrixProduct(a, b) || !plainBias) return fusedMatMul.kernelFunc(args);
      const be = args.backend as unknown as NodeJSBackend;
      const B = be.binding;
      return matrixProduct(be, reshape, a, b, transposeA, transposeB, (product) => {
        let y = product;
        if (bias) {
          y = be.executeSingleOutput('BiasAdd', [
            { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
            { name: 'data_format', type: B.TF_ATTR_STRING, value: 'NHWC' },
          ], [product, bias]);
          product.dispose();
        }
        if (!activation || activation === 'linear') return y;
        const out = be.applyActivation(y, activation, preluActivationWeights, leakyreluAlpha);
        if (out !== y) y.dispose();
        return out;
      });
    },
  });
  installed = true;
  return 'MatMul for 2-D products';
}
