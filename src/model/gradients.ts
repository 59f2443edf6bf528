// Gradients through BertModel. Every op of a forward is a tfjs op with a registered gradient, and while a gradient
// is recorded the backend's kernel choice takes plain tfjs ops everywhere (src/backend/kernels.ts), so `tf.grad`
// works on any backend from the word-embedding rows (HF's `inputs_embeds`) to any scalar. The backward hooks
// (TransformerLens's `run_with_cache(incl_bwd=True)`) put an identity probe with a custom gradient at each hook
// point: the backward pass hands it d f / d (that point's tensor), which it keeps.
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import type { Hooks } from '../layers/hook.js';
import type { BertModel } from './bert.js';

/** The word-embedding rows of `inputIds` [B, L] → float32 [B, L, H] (HF `get_input_embeddings()(input_ids)`). */
export function wordEmbeddingRows(model: BertModel, inputIds: tf.Tensor2D): tf.Tensor3D {
  return tf.gather(model.embeddings.wordEmbeddings, inputIds) as tf.Tensor as tf.Tensor3D;
}

export interface RecordedGradients {
  /** The scalar `run` returned. */
  value: tf.Scalar;
  /** d value / d (the tensor at each probed point), by hook name; zeros where the value does not depend on it. */
  grads: Map<string, tf.Tensor>;
}

/**
 * Calls `run` with a recording gradient tape, passing it hooks that probe `names` (add them to the forward's
 * hooks, after any that replace a tensor); returns the scalar it builds and d scalar / d (each probed tensor).
 * Each probe also depends on an anchor of its own (a zero scalar the gradient is taken against), so every probe is
 * on the tape's path whenever its tensor reaches the scalar, whatever other hooks cut from the graph.
 */
export function recordGradients(names: readonly string[], run: (probes: Hooks) => tf.Scalar): RecordedGradients {
  const grads = new Map<string, tf.Tensor>();
  if (names.length === 0) return { value: tf.tidy(() => scalarOf(run({}))), grads };
  const shapes = new Map<string, number[]>();
  const anchors = names.map(() => tf.scalar(0));
  const probes: Hooks = {};
  names.forEach((name, i) => {
    const probe = tf.customGrad((x, anchor) => {
      const t = x as tf.Tensor;
      shapes.set(name, t.shape);
      return {
        value: tf.clone(t),
        gradFunc: (dy: tf.Tensor) => {
          grads.get(name)?.dispose();
          grads.set(name, tf.keep(tf.clone(dy)));
          return [tf.clone(dy), tf.zerosLike(anchor as tf.Tensor)];
        },
      };
    });
    probes[name] = (t) => probe(t, anchors[i]!);
  });
  try {
    const { value, grads: ofAnchors } = gradients(() => run(probes), anchors);
    tf.dispose(ofAnchors.filter((g) => g !== undefined));
    for (const name of names) {
      const shape = shapes.get(name);
      if (!grads.has(name) && shape) grads.set(name, tf.zeros(shape));
    }
    return { value: value as tf.Scalar, grads };
  } catch (e) {
    for (const g of grads.values()) g.dispose();
    throw e;
  } finally {
    tf.dispose(anchors);
  }
}

/**
 * tfjs's `engine().gradients` (what `tf.grad` runs) for a scalar `f`, allowing xs that `f` does not depend on (their
 * gradient is undefined), and leaving nothing behind when `f` throws (tfjs frees the tape's saved tensors only
 * after a backward pass).
 */
export function gradients(f: () => tf.Scalar, xs: tf.Tensor[]): { value: tf.Scalar; grads: (tf.Tensor | undefined)[] } {
  const engine = tf.engine();
  try {
    return engine.gradients(() => scalarOf(f()), xs, undefined, true) as {
      value: tf.Scalar;
      grads: (tf.Tensor | undefined)[];
    };
  } catch (e) {
    const state = engine.state;
    if (state.gradientDepth === 0 && state.activeTape) {
      for (const node of state.activeTape) tf.dispose(node.saved ?? []);
      state.activeTape = null as unknown as typeof state.activeTape;
    }
    throw e;
  }
}

function scalarOf(y: unknown): tf.Scalar {
  if (y instanceof tf.Tensor && y.rank === 0) return y as tf.Scalar;
  const what = y instanceof tf.Tensor ? `a tensor of shape [${y.shape}]` : typeof y;
  throw new UsageError(`the gradient target must return a scalar tensor, got ${what}`);
}
