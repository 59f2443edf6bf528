// Gradients of the tfjs kernels a BERT forward, its pooling and the attribution targets run. tfjs-core's Node
// build registers no gradient functions at all (only the `@tensorflow/tfjs` union package does, and it brings
// layers, converter, data and WebGL with it), so `tf.grad` fails on the first kernel ("gradient function not
// found for Sum"). These are the textbook derivatives, and they are the ones that run on every backend: tfjs-node
// imports the union package, whose registrations replace any made before, and some of its gradients do not sum
// over broadcast axes (Maximum, BatchMatMul with a batch of one), so `registerGradients` runs again once a backend
// package is loaded. Only kernels whose inputs a gradient reaches need one: GatherV2 is left out, since gradients
// flow to the gathered rows (HF's `inputs_embeds`), never to the embedding tables.
import * as tf from '@tensorflow/tfjs-core';

type Saved = tf.Tensor[];
type Attrs = tf.NamedAttrMap;
type Grads = Record<string, () => tf.Tensor>;

/** dy summed back to `shape` over the axes a broadcast added or stretched. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

/** A reduction's dy [reduced shape] spread back over x's shape. */
function spread(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return tf.broadcastTo(tf.reshape(dy, kept), x.shape);
}

const float = (t: tf.Tensor): tf.Tensor => tf.cast(t, 'float32');

interface Rule {
  inputsToSave?: string[];
  outputsToSave?: boolean[];
  grad: (dy: tf.Tensor, saved: Saved, attrs: Attrs) => Grads;
}

const RULES: Record<string, Rule> = {
  Identity: { grad: (dy) => ({ x: () => tf.clone(dy) }) },
  Cast: { grad: (dy) => ({ x: () => tf.clone(dy) }) },
  Reshape: { inputsToSave: ['x'], grad: (dy, [x]) => ({ x: () => tf.reshape(dy, x!.shape) }) },
  Transpose: {
    grad: (dy, _, attrs) => {
      const perm = attrs.perm as number[];
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return { x: () => tf.transpose(dy, inverse) };
    },
  },
  Slice: {
    inputsToSave: ['x'],
    grad: (dy, [x], attrs) => {
      const [begin, size] = tf.slice_util.parseSliceParams(x!, attrs.begin as number[], attrs.size as number[]);
      const pads = x!.shape.map((d, i) => [begin[i]!, d - begin[i]! - size[i]!] as [number, number]);
      return { x: () => tf.pad(dy, pads) };
    },
  },
  Tile: {
    inputsToSave: ['x'],
    grad: (dy, [x], attrs) => {
      const reps = attrs.reps as number[];
      // [r0·x0, r1·x1, ...] → [r0, x0, r1, x1, ...], summed over the r axes.
      const split = x!.shape.flatMap((d, i) => [reps[i]!, d]);
      const repAxes = x!.shape.map((_, i) => 2 * i);
      return { x: () => tf.sum(tf.reshape(dy, split), repAxes) };
    },
  },

  Add: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({ a: () => unbroadcast(dy, a!.shape), b: () => unbroadcast(dy, b!.shape) }),
  },
  Sub: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({ a: () => unbroadcast(dy, a!.shape), b: () => unbroadcast(tf.neg(dy), b!.shape) }),
  },
  Multiply: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, float(b!)), a!.shape),
      b: () => unbroadcast(tf.mul(dy, float(a!)), b!.shape),
    }),
  },
  RealDiv: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.div(dy, float(b!)), a!.shape),
      b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy, float(a!)), tf.square(float(b!)))), b!.shape),
    }),
  },
  Maximum: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, float(tf.greaterEqual(a!, b!))), a!.shape),
      b: () => unbroadcast(tf.mul(dy, float(tf.less(a!, b!))), b!.shape),
    }),
  },
  Pow: {
    inputsToSave: ['a', 'b'],
    outputsToSave: [true],
    grad: (dy, [a, b, y]) => ({
      a: () => unbroadcast(tf.mul(dy, tf.mul(float(b!), tf.pow(float(a!), tf.sub(float(b!), 1)))), a!.shape),
      b: () => {
        const logA = tf.where(tf.greater(a!, 0), tf.log(float(a!)), tf.zerosLike(float(a!)));
        return unbroadcast(tf.mul(dy, tf.mul(y!, logA)), b!.shape);
      },
    }),
  },
  Select: {
    inputsToSave: ['condition'],
    grad: (dy, [condition]) => ({
      condition: () => tf.zerosLike(float(condition!)),
      t: () => tf.mul(dy, float(condition!)),
      e: () => tf.mul(dy, float(tf.logicalNot(condition!))),
    }),
  },

  Neg: { grad: (dy) => ({ x: () => tf.neg(dy) }) },
  Abs: { inputsToSave: ['x'], grad: (dy, [x]) => ({ x: () => tf.mul(dy, tf.sign(float(x!))) }) },
  Square: { inputsToSave: ['x'], grad: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(float(x!), 2)) }) },
  Sqrt: { outputsToSave: [true], grad: (dy, [y]) => ({ x: () => tf.div(dy, tf.mul(y!, 2)) }) },
  // y = x^-½ → dy/dx = −½·x^-3/2 = −½·y³
  Rsqrt: { outputsToSave: [true], grad: (dy, [y]) => ({ x: () => tf.mul(dy, tf.mul(tf.pow(y!, 3), -0.5)) }) },
  Exp: { outputsToSave: [true], grad: (dy, [y]) => ({ x: () => tf.mul(dy, y!) }) },
  Log: { inputsToSave: ['x'], grad: (dy, [x]) => ({ x: () => tf.div(dy, float(x!)) }) },
  Tanh: { outputsToSave: [true], grad: (dy, [y]) => ({ x: () => tf.mul(dy, tf.sub(1, tf.square(y!))) }) },
  Relu: { inputsToSave: ['x'], grad: (dy, [x]) => ({ x: () => tf.mul(dy, float(tf.greater(x!, 0))) }) },
  // d erf(x) / dx = 2/√π · exp(−x²)
  Erf: {
    inputsToSave: ['x'],
    grad: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(tf.exp(tf.neg(tf.square(x!))), 2 / Math.sqrt(Math.PI))) }),
  },
  // y = softmax(x) → dx = y · (dy − Σ dy·y) along the softmax axis
  Softmax: {
    outputsToSave: [true],
    grad: (dy, [y], attrs) => {
      const dim = attrs.dim as number;
      return { logits: () => tf.mul(y!, tf.sub(dy, tf.sum(tf.mul(dy, y!), dim, true))) };
    },
  },

  Sum: { inputsToSave: ['x'], grad: (dy, [x], attrs) => ({ x: () => spread(dy, x!, attrs.axis as number[]) }) },
  Mean: {
    inputsToSave: ['x'],
    grad: (dy, [x], attrs) => {
      const axes = tf.util.parseAxisParam(attrs.axis as number[], x!.shape);
      const count = axes.reduce((n, i) => n * x!.shape[i]!, 1);
      return { x: () => tf.div(spread(dy, x!, axes), count) };
    },
  },
  // Every position that holds the maximum gets the gradient (ties are measure-zero for real inputs).
  Max: {
    inputsToSave: ['x'],
    outputsToSave: [true],
    grad: (dy, [x, y], attrs) => {
      const axes = attrs.reductionIndices as number[];
      return { x: () => tf.mul(spread(dy, x!, axes), float(tf.equal(x!, spread(y!, x!, axes)))) };
    },
  },

  // C = op(A)·op(B) over the last two axes (op: transpose or not), batch axes broadcast. C = A·B gives
  // dA = dC·Bᵀ, dB = Aᵀ·dC; a transposed operand gets the transpose of its product.
  BatchMatMul: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b], attrs) => {
      const [tA, tB] = [attrs.transposeA as boolean, attrs.transposeB as boolean];
      const da = (): tf.Tensor =>
        tA ? tf.matMul(b!, dy, tB, true) : tB ? tf.matMul(dy, b!) : tf.matMul(dy, b!, false, true);
      const db = (): tf.Tensor =>
        tB ? tf.matMul(dy, a!, true, tA) : tA ? tf.matMul(a!, dy) : tf.matMul(a!, dy, true, false);
      return { a: () => unbroadcast(da(), a!.shape), b: () => unbroadcast(db(), b!.shape) };
    },
  },
};

/** The rules above as tfjs gradient configs, made once (tfjs's registry holds these very objects). */
const CONFIGS: readonly tf.GradConfig[] = Object.entries(RULES).map(([kernelName, rule]) => ({
  kernelName,
  inputsToSave: rule.inputsToSave,
  outputsToSave: rule.outputsToSave,
  gradFunc: (dy, saved, attrs) => rule.grad(dy as tf.Tensor, saved, attrs),
}));

/**
 * Makes each rule above the gradient of its kernel, replacing one registered by someone else (the union package
 * tfjs-node loads); cheap and idempotent, so it runs again wherever a package may have been loaded since.
 */
export function registerGradients(): void {
  for (const config of CONFIGS) if (tf.getGradient(config.kernelName) !== config) tf.registerGradient(config);
}

/** The kernels this file gives gradients to (tests check each against finite differences). */
export const GRADIENT_KERNELS: readonly string[] = Object.keys(RULES);
