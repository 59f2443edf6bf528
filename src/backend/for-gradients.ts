// The heavy ops as they run while a gradient is recorded (kernels.ts picks these then): the same tfjs ops as the
// plain path, each wrapped with its derivative written out, so the backward pass keeps one or two tensors per op
// instead of every intermediate the composite makes (a backward pass holds all of them, and their gradients, at
// once), and runs fewer kernels. Gradients go to the activations only, never to the weights.
import * as tf from '@tensorflow/tfjs-core';
import { gelu, geluDerivative } from '../ops/activations.js';
import type { LinearActivation } from './webgpu/linear-wgsl.js';

/**
 * activation(x · w + b), with the gradient to x alone, dy · wᵀ, on a transposed copy of w (`wT`, kept by the layer:
 * tfjs-wasm multiplies by a transposed operand 7–12× slower). Nothing is kept for the backward pass but wᵀ.
 */
export function linearForGradients(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  activation: LinearActivation,
  wT?: () => tf.Tensor2D,
): tf.Tensor2D {
  const affine = tf.customGrad((input) => ({
    value: tf.add(tf.matMul(input as tf.Tensor2D, w), b) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor2D) => (wT ? tf.matMul(dy, wT()) : tf.matMul(dy, w, false, true)),
  }));
  return tf.tidy(() => {
    const y = affine(x);
    return activation === 'gelu' ? geluSavingInput(y) : activation === 'relu' ? tf.relu(y) : y;
  });
}

/** Exact GELU whose backward pass keeps its input alone (the composite's keeps five [rows, intermediate] tensors). */
const geluSavingInput = tf.customGrad((x, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor]);
  return {
    value: gelu(x as tf.Tensor),
    gradFunc: (dy: tf.Tensor, [input]: tf.Tensor[]) => tf.mul(dy, geluDerivative(input!)),
  };
}) as (x: tf.Tensor2D) => tf.Tensor2D;

/**
 * torch's LayerNorm(x + residual) over the last axis, the same ops as src/ops/layer-norm.ts, keeping the normalised
 * input n and 1/σ for the backward pass: with g = dy·γ, dx = (1/σ)·(g − mean(g) − n·mean(g·n)).
 */
export function layerNormForGradients<R extends tf.Rank>(
  x: tf.Tensor<R>,
  residual: tf.Tensor<R> | undefined,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
): tf.Tensor<R> {
  const norm = tf.customGrad((input, save) => {
    const t = input as tf.Tensor;
    const axis = t.rank - 1;
    const centered = tf.sub(t, tf.mean(t, axis, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), axis, true), eps));
    const normed = tf.mul(centered, rstd);
    (save as tf.GradSaveFunc)([normed, rstd]);
    return {
      value: tf.add(tf.mul(normed, weight), bias),
      gradFunc: (dy: tf.Tensor, [n, r]: tf.Tensor[]) => {
        const g = tf.mul(dy, weight);
        const meanG = tf.mean(g, axis, true);
        const meanGN = tf.mean(tf.mul(g, n!), axis, true);
        return tf.mul(tf.sub(tf.sub(g, meanG), tf.mul(n!, meanGN)), r!);
      },
    };
  });
  return tf.tidy(() => norm(residual ? tf.add(x, residual) : x) as tf.Tensor<R>);
}
