// BertEncoder (modeling_bert.py): the stack of BertLayers, collecting hidden states on request (attentions are
// collected at each block's `attn.hook_pattern` by BertModel).
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { Hidden, HookRun, HookScope } from './hook.js';
import { BertLayer } from './layer.js';

export interface EncoderResult {
  lastHiddenState: tf.Tensor3D;
  /** The input, then each layer's output (HF `hidden_states`), when asked for. */
  hiddenStates?: tf.Tensor3D[];
}

export class BertEncoder {
  private constructor(readonly layers: readonly BertLayer[]) {}

  /** `w`: `encoder`; `hp`: the model's root scope (points go under `blocks.{i}.`). */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertEncoder {
    const layers = Array.from({ length: c.numHiddenLayers }, (_, i) =>
      BertLayer.load(w.scope(`layer.${i}`), c, hp.scope(`blocks.${i}`, i)),
    );
    return new BertEncoder(layers);
  }

  forward(
    x: tf.Tensor3D,
    mask: tf.Tensor4D,
    opts: { hooks?: HookRun; outputHiddenStates?: boolean } = {},
  ): EncoderResult {
    const hiddenStates = opts.outputHiddenStates ? [x] : undefined;
    // Without hooks the layers pass rows [B·L, H] (every Linear's input as it is): on tfjs-node each reshape is
    // an op, and this saves seven a layer. Hook points see [B, L, H], so with hooks the layers keep that shape.
    const shape = x.shape;
    const flat = !opts.hooks;
    let h: Hidden = flat ? (tf.reshape(x, [shape[0] * shape[1], shape[2]]) as tf.Tensor2D) : x;
    for (const layer of this.layers) {
      // One tidy per layer: its intermediates (QKV, scores, the FFN's [tokens, 3072] activations) are freed
      // as soon as the layer is done, so peak memory is one layer's worth, not the whole model's (wasm32's
      // heap stops at 4 GiB: a whole-model tidy ran out at batch 32 × 64 tokens).
      const input = h;
      h = tf.tidy(() => layer.forward(input, mask, opts.hooks)) as Hidden;
      if (flat) input.dispose(); // rows made here: x's, then each layer's output
      if (hiddenStates) hiddenStates.push(flat ? (tf.reshape(h, shape) as tf.Tensor3D) : (h as tf.Tensor3D));
    }
    if (!flat) return { lastHiddenState: h as tf.Tensor3D, ...(hiddenStates && { hiddenStates }) };
    const last = hiddenStates ? hiddenStates[hiddenStates.length - 1]! : (tf.reshape(h, shape) as tf.Tensor3D);
    h.dispose();
    return { lastHiddenState: last, ...(hiddenStates && { hiddenStates }) };
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
