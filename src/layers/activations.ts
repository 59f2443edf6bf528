// HF's ACT2FN (activations.py): `hidden_act` → the function (src/ops/activations.ts).
import type * as tf from '@tensorflow/tfjs-core';
import type { HiddenAct } from '../loader/config.js';
import { gelu, geluTanh, relu } from '../ops/activations.js';

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
