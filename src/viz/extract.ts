// A sentence's attention probabilities from the model, as plain arrays for the pictures.
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';
import type { BertModel } from '../model/bert.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { maxTokens } from '../loader/config.js';
import type { AttentionMaps } from './maps.js';

export async function attentionMaps(
  model: BertModel,
  tokenizer: Tokenizer,
  text: string,
  opts: { maxLength?: number } = {},
): Promise<AttentionMaps> {
  if (text.trim() === '') throw new InputError('TEXT is empty: nothing to attend to');
  const maxLength = opts.maxLength ?? maxTokens(model.config);
  const enc = tokenizer.encode(text, { maxLength });
  const L = enc.inputIds.length;
  const inputs = {
    inputIds: tf.tensor2d(enc.inputIds, [1, L], 'int32'),
    attentionMask: tf.tensor2d(enc.attentionMask, [1, L], 'int32'),
    tokenTypeIds: tf.tensor2d(enc.tokenTypeIds, [1, L], 'int32'),
  };
  try {
    const out = model.forward(inputs, { outputAttentions: true });
    try {
      // [1, heads, L, L] per layer → [heads, L, L]
      const layers = await Promise.all(out.attentions!.map(async (a) => Float32Array.from(await a.data())));
      return { tokens: enc.tokens, layers, heads: model.config.numAttentionHeads };
    } finally {
      for (const t of new Set([out.lastHiddenState, ...(out.attentions ?? []), ...(out.hiddenStates ?? [])]))
        t.dispose();
    }
  } finally {
    for (const t of Object.values(inputs)) t.dispose();
  }
}
