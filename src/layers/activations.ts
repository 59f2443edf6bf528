// HF's ACT2FN (activations.py): `hidden_act` → the function (src/ops/activations.ts; GELU through the backend's
// kernels, so it is the same GELU as the Linear epilogue's wherever that runs).
import type * as tf from '@tensorflow/tfjs-core';
import { gelu } from '../backend/kernels.js';
import type { HiddenAct } from '../loader/config.js';
import { geluTanh, relu } from '../ops/activations.js';

export function activation(name: HiddenAct): <T extends tf.Tensor>(x: T) => T {
  switch (name) {
    case 'gelu':
      return gelu;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh;
    case 'relu':
      return relu;
  }
}
