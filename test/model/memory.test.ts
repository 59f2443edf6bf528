// Peak memory stays one layer's worth: each layer's temporaries are freed before the next layer runs
// (a whole-forward tidy held them all and ran wasm32's 4 GiB heap out at batch 32 × 64 on BERT-base).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.js';
import type { HookFn } from '../../src/model/hooks.js';
import { loadHfDir, MAIN_BACKEND, useBackend } from './helpers.js';

describe('memory during a forward', () => {
  it('live bytes at the start of each layer grow by at most one hidden state per layer', async () => {
    await useBackend(MAIN_BACKEND);
    const model = loadHfDir(fixture('tiny', 'hf'));
    const [B, L, H] = [16, 128, model.config.hiddenSize];
    const inputIds = tf.fill([B, L], 100, 'int32') as tf.Tensor2D;
    const attentionMask = tf.ones([B, L], 'int32') as tf.Tensor2D;
    const atLayerStart: number[] = [];
    let peak = 0;
    const hooks: Record<string, HookFn> = {};
    for (const name of model.hookNames()) hooks[name] = () => void (peak = Math.max(peak, tf.memory().numBytes));
    for (let i = 0; i < model.config.numHiddenLayers; i++) {
      hooks[`blocks.${i}.attn.hook_q`] = () => void atLayerStart.push(tf.memory().numBytes);
    }
    const out = model.forward({ inputIds, attentionMask }, { hooks });
    const hidden = B * L * H * 4;
    // Between two layer starts: the previous layer's output (kept for the next) and little else.
    expect(atLayerStart[1]! - atLayerStart[0]!).toBeLessThanOrEqual(2 * hidden);
    // The FFN's [tokens, intermediate] activations and the [B, heads, L, L] maps are not all alive at once.
    const scores = B * model.config.numAttentionHeads * L * L * 4;
    expect(peak - atLayerStart[0]!).toBeLessThan(3 * scores + 12 * hidden);
    tf.dispose([out.lastHiddenState, inputIds, attentionMask]);
    model.dispose();
  });
});
