// BertModel (modeling_bert.py) without the pooler: embeddings, then the encoder, with HF's additive
// attention mask. Weights come with canonical HF names without the `bert.` prefix (the loader strips it).
import * as tf from '@tensorflow/tfjs-core';
import { maskFloats } from '../backend/kernels.js';
import { InputError } from '../errors.js';
import { type BertConfig, maxTokens } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import { BertEmbeddings } from '../layers/embeddings.js';
import { BertEncoder } from '../layers/encoder.js';
import { combineHooks, type HookPoint, type Hooks, HookScope, HookSet } from '../layers/hook.js';

/** torch.finfo(torch.float32).min, what HF adds to the scores of masked keys. */
export const FLOAT32_MIN = -3.4028234663852886e38;

export interface BertInputs {
  /** int32 [B, L] */
  inputIds: tf.Tensor2D;
  /** int32 [B, L], 1 = token, 0 = padding */
  attentionMask: tf.Tensor2D;
  /** int32 [B, L]; zeros when absent */
  tokenTypeIds?: tf.Tensor2D;
}

/** What a forward returns (HF's BaseModelOutput without the pooler); the caller disposes the tensors. */
export interface BertModelOutput {
  /** [B, L, H] */
  lastHiddenState: tf.Tensor3D;
  /** numHiddenLayers + 1 tensors [B, L, H]: the embeddings output, then each layer's (HF `hidden_states`) */
  hiddenStates?: tf.Tensor3D[];
  /** numHiddenLayers tensors [B, heads, L, L] (HF `attentions`) */
  attentions?: tf.Tensor4D[];
}

export interface ForwardOptions {
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
  /** Functions by hook name (see `hookNames()`); each may read or replace its tensor. */
  hooks?: Hooks;
  /**
   * float32 [B, L, H]: the word-embedding rows to use instead of looking `inputIds` up in the table (HF's
   * `inputs_embeds`; `inputIds` still give the shape). What `tf.grad` differentiates against (src/model/gradients.ts).
   */
  inputsEmbeds?: tf.Tensor3D;
}

export class BertModel {
  private constructor(
    readonly config: BertConfig,
    readonly embeddings: BertEmbeddings,
    readonly encoder: BertEncoder,
    private readonly points: readonly HookPoint[],
  ) {}

  /**
   * Uploads the weights: Linear weights pre-transposed to [in, out] (HF's [out, in] where asked: the tensorflow
   * pool's workers); Q, K, V as one [H, 3H] where the backend runs them as one.
   */
  static load(config: BertConfig, weights: Weights): BertModel {
    const hp = new HookScope();
    const embeddings = BertEmbeddings.load(weights.scope('embeddings'), config, hp);
    try {
      const encoder = BertEncoder.load(weights.scope('encoder'), config, hp);
      return new BertModel(config, embeddings, encoder, hp.points);
    } catch (e) {
      embeddings.dispose();
      throw e;
    }
  }

  /** The position ids the embeddings use for these input ids, int32 [B, L] (the caller disposes them). */
  positionIds(inputIds: tf.Tensor2D): tf.Tensor2D {
    return this.embeddings.positionIds(inputIds);
  }

  /** Every hook point, in the order a forward reaches them. */
  hookNames(): string[] {
    return this.points.map((p) => p.name);
  }

  forward(inputs: BertInputs, opts: ForwardOptions = {}): BertModelOutput {
    this.check(inputs, opts.inputsEmbeds);
    // HF's `attentions` are what each block's hook_pattern sees last (after any hook of the caller's).
    const attentions: tf.Tensor4D[] = [];
    const collect: Hooks = {};
    if (opts.outputAttentions) {
      for (const p of this.points) {
        if (p.name.endsWith('.attn.hook_pattern'))
          collect[p.name] = (t) => void attentions.push(tf.keep(t as tf.Tensor4D));
      }
    }
    const table = combineHooks(opts.hooks ?? {}, collect);
    const hooks = Object.keys(table).length > 0 ? new HookSet(table, this.points) : undefined;
    try {
      const out = this.run(inputs, opts, hooks);
      return opts.outputAttentions ? { ...out, attentions } : out;
    } catch (e) {
      tf.dispose(attentions);
      // tfjs's CPU-side kernels check gather indices; say which input was out of range.
      const m = /GatherV2: the index value (-?\d+) is not in \[0, (\d+)\]/.exec(e instanceof Error ? e.message : '');
      if (!m) throw e;
      const which = Number(m[2]) + 1 === this.config.vocabSize ? 'input_ids' : 'token_type_ids';
      throw new InputError(`${which} holds ${m[1]}, outside [0, ${m[2]}]`);
    }
  }

  private run(inputs: BertInputs, opts: ForwardOptions, hooks: HookSet | undefined): BertModelOutput {
    return tf.tidy(() => {
      const { inputIds, attentionMask } = inputs;
      const tokenTypeIds = inputs.tokenTypeIds ?? tf.zerosLike(inputIds);
      const [B, L] = inputIds.shape;
      // [B, L] 1/0 → [B, 1, 1, L] 0/min, added to every head's scores for every query.
      // HF: (1 − mask) · finfo(float32).min, 0 on tokens
      const mask = tf.reshape(maskFloats(attentionMask, 0, FLOAT32_MIN), [B, 1, 1, L]) as tf.Tensor4D;
      const x = this.embeddings.forward(inputIds, tokenTypeIds, hooks, opts.inputsEmbeds);
      const out = this.encoder.forward(x, mask, { hooks, outputHiddenStates: opts.outputHiddenStates });
      return out as BertModelOutput & tf.TensorContainerObject;
    });
  }

  private check({ inputIds, attentionMask, tokenTypeIds }: BertInputs, embeds?: tf.Tensor3D): void {
    const [B, L] = inputIds.shape;
    const fail = (msg: string): never => {
      throw new InputError(msg);
    };
    if (inputIds.rank !== 2 || B === 0 || L === 0)
      fail(`input_ids must be a non-empty [batch, length] tensor, got [${inputIds.shape}]`);
    if (L > maxTokens(this.config)) {
      const room =
        maxTokens(this.config) === this.config.maxPositionEmbeddings
          ? ''
          : ` less the padding offset ${this.config.padTokenId + 1}`;
      fail(`sequence of ${L} tokens exceeds max_position_embeddings ${this.config.maxPositionEmbeddings}${room}`);
    }
    for (const [name, t] of [
      ['attention_mask', attentionMask],
      ['token_type_ids', tokenTypeIds],
    ] as const) {
      if (t && (t.rank !== 2 || t.shape[0] !== B || t.shape[1] !== L)) {
        fail(`${name} has shape [${t.shape}], expected [${B},${L}] like input_ids`);
      }
    }
    for (const [name, t] of [
      ['input_ids', inputIds],
      ['token_type_ids', tokenTypeIds],
    ] as const) {
      if (t && t.dtype !== 'int32') fail(`${name} must be int32, got ${t.dtype}`);
    }
    const H = this.config.hiddenSize;
    if (embeds && (embeds.rank !== 3 || embeds.shape[0] !== B || embeds.shape[1] !== L || embeds.shape[2] !== H)) {
      fail(`inputs_embeds has shape [${embeds.shape}], expected [${B},${L},${H}]`);
    }
    if (embeds && embeds.dtype !== 'float32') fail(`inputs_embeds must be float32, got ${embeds.dtype}`);
  }

  dispose(): void {
    this.embeddings.dispose();
    this.encoder.dispose();
  }
}
