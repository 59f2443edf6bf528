// BertEmbeddings (modeling_bert.py): word + token type + absolute position embeddings, then LayerNorm.
// The sum is taken in HF's order, (word + token_type) + position, so float32 rounding matches.
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from '../loader/config.js';
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
    );
  }

  /** ids, token types: int32 [B, L] → [B, L, H] */
  forward(inputIds: tf.Tensor2D, tokenTypeIds: tf.Tensor2D, hooks?: HookRun): tf.Tensor3D {
    const [B, L] = inputIds.shape;
    const H = this.wordEmbeddings.shape[1];
    const words = this.hookEmbed.run(tf.gather(this.wordEmbeddings, inputIds) as tf.Tensor as tf.Tensor3D, hooks);
    const types = this.hookTokenTypeEmbed.run(tf.gather(this.tokenTypeEmbeddings, tokenTypeIds) as tf.Tensor as tf.Tensor3D, hooks);
    // Positions 0..L-1 are the first L rows of the table, broadcast over the batch: [1, L, H].
    const positions = tf.reshape(tf.slice(this.positionEmbeddings, [0, 0], [L, H]), [1, L, H]) as tf.Tensor3D;
    const hooked = this.hookPosEmbed.runLazy(() => tf.broadcastTo(positions, [B, L, H]) as tf.Tensor3D, hooks);
    const sum = tf.add(tf.add(words, types), hooked ?? positions) as tf.Tensor3D;
    return this.hookFullEmbed.run(this.layerNorm.forward(sum, undefined, hooks), hooks);
  }

  dispose(): void {
    tf.dispose([this.wordEmbeddings, this.positionEmbeddings, this.tokenTypeEmbeddings]);
    this.layerNorm.dispose();
  }
}
