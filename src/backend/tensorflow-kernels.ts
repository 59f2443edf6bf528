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

const is2dFloat = (...t: tf.TensorInfo[]): boolean => t.every((x) => x.shape.length === 2 && x.dtype === 'float32');

/**
 * Registers the MatMul-based BatchMatMul and _FusedMatMul for the `tensorflow` backend (once; tfjs-node's
 * originals handle every other case). A no-op with SBERT_TF_KERNELS=tfjs. → what the backend report says.
 */
export function installTensorflowKernels(): string {
  if (tensorflowKernels() === 'tfjs') return "tfjs-node's kernels (SBERT_TF_KERNELS=tfjs)";
  if (installed) return 'MatMul for 2-D products';
  const batchMatMul = tf.getKernel('BatchMatMul', 'tensorflow');
  const fusedMatMul = tf.getKernel('_FusedMatMul', 'tensorflow');
  if (!batchMatMul || !fusedMatMul) return "tfjs-node's kernels (it registered no BatchMatMul / _FusedMatMul to replace)";
  tf.unregisterKernel('BatchMatMul', 'tensorflow');
  tf.registerKernel({
    ...batchMatMul,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (!is2dFloat(a, b)) return batchMatMul.kernelFunc(args);
      return matMul2d(args.backend as unknown as NodeJSBackend, a, b, transposeA, transposeB);
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
      const columns = b && (transposeB ? b.shape[0] : b.shape[1]);
      const plainBias = !bias || (bias.shape.length === 1 && bias.shape[0] === columns && bias.dtype === 'float32');
      if (!a || !b || !is2dFloat(a, b) || !plainBias) return fusedMatMul.kernelFunc(args);
      const be = args.backend as unknown as NodeJSBackend;
      const product = matMul2d(be, a, b, transposeA, transposeB);
      let y = product;
      if (bias) {
        const B = be.binding;
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
    },
  });
  installed = true;
  return 'MatMul for 2-D products';
}
