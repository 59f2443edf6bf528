// The gradient functions src/backend/gradients.ts registers, each against central differences: for a random
// weighting w, f(x) = Σ w ⊙ kernel(x), and the directional derivative of f along random v must equal ⟨∇f, v⟩.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRADIENT_KERNELS } from '../../src/backend/gradients.js';
import { recordingGradients } from '../../src/backend/kernels.js';
import { BACKENDS, useBackend } from '../model/helpers.js';
import { values } from '../values.js';

interface Case {
  kernel: string;
  /** Float inputs to differentiate against, by the kernel's input name: [shape, lo, hi]. */
  inputs: Record<string, [number[], number, number]>;
  /** Inputs held fixed (not differentiated). */
  fixed?: () => Record<string, tf.Tensor>;
  attrs?: Record<string, unknown>;
  label?: string;
}

const CASES: Case[] = [
  { kernel: 'Identity', inputs: { x: [[2, 3], -1, 1] } },
  { kernel: 'Cast', inputs: { x: [[2, 3], -1, 1] }, attrs: { dtype: 'float32' } },
  { kernel: 'Reshape', inputs: { x: [[2, 3, 4], -1, 1] }, attrs: { shape: [6, 4] } },
  { kernel: 'Transpose', inputs: { x: [[2, 3, 4], -1, 1] }, attrs: { perm: [2, 0, 1] } },
  { kernel: 'Slice', inputs: { x: [[3, 4, 5], -1, 1] }, attrs: { begin: [1, 0, 2], size: [2, -1, 2] } },
  { kernel: 'Tile', inputs: { x: [[2, 1, 3], -1, 1] }, attrs: { reps: [2, 4, 1] } },
  ...['Add', 'Sub', 'Multiply', 'Maximum'].map((kernel) => ({
    kernel,
    inputs: { a: [[2, 3, 4], -1, 1], b: [[3, 1], -1, 1] } as Case['inputs'],
  })),
  { kernel: 'RealDiv', inputs: { a: [[2, 3, 4], -1, 1], b: [[3, 1], 0.5, 2] } },
  { kernel: 'Pow', inputs: { a: [[2, 3], 0.5, 2], b: [[3], 0.5, 3] } },
  {
    kernel: 'Select',
    inputs: { t: [[2, 3], -1, 1], e: [[2, 3], -1, 1] },
    fixed: () => ({ condition: tf.tensor2d([1, 0, 1, 0, 0, 1], [2, 3], 'bool') }),
  },
  { kernel: 'Neg', inputs: { x: [[2, 3], -1, 1] } },
  { kernel: 'Abs', inputs: { x: [[2, 3], 0.2, 1] }, label: 'Abs (positive)' },
  { kernel: 'Abs', inputs: { x: [[2, 3], -1, -0.2] }, label: 'Abs (negative)' },
  { kernel: 'Square', inputs: { x: [[2, 3], -1, 1] } },
  { kernel: 'Sqrt', inputs: { x: [[2, 3], 0.5, 2] } },
  { kernel: 'Rsqrt', inputs: { x: [[2, 3], 0.5, 2] } },
  { kernel: 'Exp', inputs: { x: [[2, 3], -1, 1] } },
  { kernel: 'Log', inputs: { x: [[2, 3], 0.5, 2] } },
  { kernel: 'Tanh', inputs: { x: [[2, 3], -2, 2] } },
  { kernel: 'Relu', inputs: { x: [[2, 3], 0.2, 1] }, label: 'Relu (positive)' },
  { kernel: 'Relu', inputs: { x: [[2, 3], -1, -0.2] }, label: 'Relu (negative)' },
  { kernel: 'Erf', inputs: { x: [[2, 3], -2, 2] } },
  { kernel: 'Softmax', inputs: { logits: [[2, 3, 5], -3, 3] }, attrs: { dim: 2 } }, // the op passes a non-negative axis
  { kernel: 'Sum', inputs: { x: [[2, 3, 4], -1, 1] }, attrs: { axis: [1], keepDims: false } },
  {
    kernel: 'Sum',
    inputs: { x: [[2, 3, 4], -1, 1] },
    attrs: { axis: [0, 2], keepDims: true },
    label: 'Sum (keepDims)',
  },
  { kernel: 'Mean', inputs: { x: [[2, 3, 4], -1, 1] }, attrs: { axis: [0, 2], keepDims: false } },
  { kernel: 'Max', inputs: { x: [[2, 3, 4], -1, 1] }, attrs: { reductionIndices: [1], keepDims: false } },
  ...[
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ].flatMap(([tA, tB]) => [
    {
      kernel: 'BatchMatMul',
      label: `BatchMatMul transposeA=${tA} transposeB=${tB}`,
      inputs: { a: [tA ? [2, 4, 3] : [2, 3, 4], -1, 1], b: [tB ? [2, 5, 4] : [2, 4, 5], -1, 1] } as Case['inputs'],
      attrs: { transposeA: tA, transposeB: tB },
    },
    {
      kernel: 'BatchMatMul',
      label: `BatchMatMul transposeA=${tA} transposeB=${tB}, b's batch of 1 broadcast`,
      inputs: { a: [tA ? [2, 4, 3] : [2, 3, 4], -1, 1], b: [tB ? [1, 5, 4] : [1, 4, 5], -1, 1] } as Case['inputs'],
      attrs: { transposeA: tA, transposeB: tB },
    },
  ]),
];

/** The kernel itself (not an op that might take another path) on these inputs. */
function output(c: Case, xs: Record<string, tf.Tensor>): tf.Tensor {
  return tf.engine().runKernel(c.kernel, { ...xs, ...c.fixed?.() }, (c.attrs ?? {}) as tf.NamedAttrMap) as tf.Tensor;
}

for (const backend of BACKENDS) {
  describe(`gradient functions on ${backend}`, () => {
    it('every registered kernel has a case here', () => {
      expect(new Set(CASES.map((c) => c.kernel))).toEqual(new Set(GRADIENT_KERNELS));
    });

    for (const c of CASES) {
      it(`${c.label ?? c.kernel}: ⟨∇f, v⟩ equals the central difference along v`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const names = Object.keys(c.inputs);
        const xs = names.map((n, i) => {
          const [shape, lo, hi] = c.inputs[n]!;
          return tf.tensor(
            values(
              shape.reduce((a, b) => a * b, 1),
              lo,
              hi,
              7 + i,
            ),
            shape,
          );
        });
        const byName = (args: tf.Tensor[]) => Object.fromEntries(names.map((n, i) => [n, args[i]!]));
        const shape = tf.tidy(() => output(c, byName(xs)).shape);
        const w = tf.tensor(
          values(
            shape.reduce((a, b) => a * b, 1),
            -1,
            1,
            3,
          ),
          shape,
        );
        const f = (...args: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(output(c, byName(args)), w));
        let sawTape = false;
        const grads = tf.grads((...args: tf.Tensor[]) => {
          sawTape = recordingGradients();
          return f(...args);
        })(xs);
        expect(sawTape).toBe(true);
        const vs = xs.map((x, i) => tf.tensor(values(x.size, -1, 1, 11 + i), x.shape));
        const h = 1e-2;
        const along = async (s: number): Promise<number> => {
          const y = tf.tidy(() => f(...xs.map((x, i) => tf.add(x, tf.mul(vs[i]!, s)))));
          const value = (await y.data())[0]!;
          y.dispose();
          return value;
        };
        const numeric = ((await along(h)) - (await along(-h))) / (2 * h);
        let analytic = 0;
        for (const [i, g] of grads.entries()) {
          expect(g.shape).toEqual(xs[i]!.shape);
          const [gd, vd] = [await g.data(), await vs[i]!.data()];
          for (let k = 0; k < gd.length; k++) analytic += gd[k]! * vd[k]!;
        }
        expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(numeric)));
        tf.dispose([...xs, ...vs, ...grads, w]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}

describe('gradient functions: ours, whoever registered one since', () => {
  it('setupBackend puts ours back where another package replaced them (the union package tfjs-node imports)', async () => {
    const ours = tf.getGradient('Maximum');
    expect(ours).toBeDefined();
    // what `import '@tensorflow/tfjs'` does after our modules loaded: its own Maximum gradient, without the sum
    // over broadcast axes
    tf.registerGradient({
      kernelName: 'Maximum',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy) => ({ a: () => dy as tf.Tensor, b: () => dy as tf.Tensor }),
    });
    expect(tf.getGradient('Maximum')).not.toBe(ours);
    await useBackend(BACKENDS[0]!);
    expect(tf.getGradient('Maximum')).toBe(ours);
    for (const kernel of GRADIENT_KERNELS) expect(tf.getGradient(kernel)?.kernelName, kernel).toBe(kernel);
  });
});
