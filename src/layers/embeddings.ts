// BertEmbeddings (modeling_bert.py): word + token type + absolute position embeddings, then LayerNorm.
// The sum is taken in HF's order, (word + token_type) + position, so float32 rounding matches.
// RoBERTa / XLM-R (modeling_xlm_roberta.py, XLMRobertaEmbeddings) differ only in the position ids, which come
// from the input ids: `create_position_ids_from_input_ids`, cumsum(ids != padding_idx) * mask + padding_idx.
import * as tf from '@tensorflow/tfjs-core';
import { type BertConfig, positionsFromInputIds } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { HookPoint, HookRun, HookScope } from './hook.js';
import { LayerNorm } from './layer-norm.js';

export class BertEmbeddings {
  private constructor(
    readonly wordEmbeddings: tf.Tensor2D,
    readonly positionEmbeddings: tf.Tensor2D,
    readonly tokenTypeEmbeddings: tf.Tensor2D,
    readonly hookEmbed: HookPoint,
    readonly hookPosEmbed: HookPoint,
    readonly hookTokenTypeEmbed: HookPoint,
    readonly layerNorm: LayerNorm,
    readonly hookFullEmbed: HookPoint,
    /** RoBERTa's `padding_idx` (position ids from the input ids); undefined: positions 0..L-1. */
    readonly paddingIdx: number | undefined,
  ) {}

  /** `w` is the `embeddings` scope; hook points go under `embed.` (the LayerNorm's under `embed.ln.`) except `hook_full_embed`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertEmbeddings {
    const H = c.hiddenSize;
    const table = (name: string, rows: number): tf.Tensor2D => tf.tensor2d(w.get(name, [rows, H]).data, [rows, H]);
    const embed = hp.scope('embed');
    return new BertEmbeddings(
      table('word_embeddings.weight', c.vocabSize),
      table('position_embeddings.weight', c.maxPositionEmbeddings),
      table('token_type_embeddings.weight', c.typeVocabSize),
      embed.point('hook_embed'), // [B, L, H]: word embeddings
      embed.point('hook_pos_embed'), // [B, L, H]: position embeddings
      embed.point('hook_token_type_embed'), // [B, L, H]: token type embeddings
      LayerNorm.load(w.scope('LayerNorm'), H, c.layerNormEps, embed.scope('ln')),
      hp.point('hook_full_embed'), // [B, L, H] = HF hidden_states[0]
      positionsFromInputIds(c) ? c.padTokenId : undefined,
    );
  }

  /**
   * ids, token types: int32 [B, L] → [B, L, H]. `wordRows` [B, L, H], when given, stands in for the rows of the
   * word-embedding table that `inputIds` select (HF's `inputs_embeds`): gradients flow to it, not to the table.
   */
  forward(inputIds: tf.Tensor2D, tokenTypeIds: tf.Tensor2D, hooks?: HookRun, wordRows?: tf.Tensor3D): tf.Tensor3D {
    const [B, L] = inputIds.shape;
    const H = this.wordEmbeddings.shape[1];
    const rows = wordRows ?? (tf.gather(this.wordEmbeddings, inputIds) as tf.Tensor as tf.Tensor3D);
    const words = this.hookEmbed.run(rows, hooks);
    const types = this.hookTokenTypeEmbed.run(
      tf.gather(this.tokenTypeEmbeddings, tokenTypeIds) as tf.Tensor as tf.Tensor3D,
      hooks,
    );
    const positions = this.positions(inputIds);
    const hooked = this.hookPosEmbed.runLazy(() => tf.broadcastTo(positions, [B, L, H]) as tf.Tensor3D, hooks);
    const sum = tf.add(tf.add(words, types), hooked ?? positions) as tf.Tensor3D;
    return this.hookFullEmbed.run(this.layerNorm.forward(sum, undefined, hooks), hooks);
  }

  /**
   * The position ids, int32 [B, L]: BERT 0..L-1; RoBERTa padding_idx + 1, + 2, ... over the tokens that are not
   * padding (counted from the ids, not the attention mask), padding_idx on padding.
   */
  positionIds(inputIds: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, L] = inputIds.shape;
      if (this.paddingIdx === undefined)
        return tf.broadcastTo(tf.reshape(tf.range(0, L, 1, 'int32'), [1, L]), [B, L]) as tf.Tensor2D;
      // The running count in float32 (exact below 2^24, and every backend's cumsum takes floats), then ids.
      const mask = tf.cast(tf.notEqual(inputIds, tf.scalar(this.paddingIdx, 'int32')), 'float32');
      return tf.cast(tf.add(tf.mul(tf.cumsum(mask, 1), mask), this.paddingIdx), 'int32') as tf.Tensor2D;
    });
  }

  /** The position embeddings: BERT's first L rows as [1, L, H] (broadcast over the batch), RoBERTa's [B, L, H]. */
  private positions(inputIds: tf.Tensor2D): tf.Tensor3D {
    const [B, L] = inputIds.shape;
    const H = this.wordEmbeddings.shape[1];
    if (this.paddingIdx === undefined)
      return tf.reshape(tf.slice(this.positionEmbeddings, [0, 0], [L, H]), [1, L, H]) as tf.Tensor3D;
    const ids = this.positionIds(inputIds);
    return tf.reshape(tf.gather(this.positionEmbeddings, tf.reshape(ids, [B * L])), [B, L, H]) as tf.Tensor3D;
  }

  dispose(): void {
    tf.dispose([this.wordEmbeddings, this.positionEmbeddings, this.tokenTypeEmbeddings]);
    this.layerNorm.dispose();
  }
}
