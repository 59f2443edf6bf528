// One typed BERT configuration, whatever file it came from (HF `config.json` here; UER-style in uer.ts).
import { CheckpointError } from '../errors.js';

export type HiddenAct = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';
export const HIDDEN_ACTS: readonly HiddenAct[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: HiddenAct;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
}

/** HF keys we read, mapped to our field names. Everything else in config.json is reported as ignored. */
const HF_KEYS = {
  vocab_size: 'vocabSize',
  hidden_size: 'hiddenSize',
  num_hidden_layers: 'numHiddenLayers',
  num_attention_heads: 'numAttentionHeads',
  intermediate_size: 'intermediateSize',
  max_position_embeddings: 'maxPositionEmbeddings',
  type_vocab_size: 'typeVocabSize',
} as const satisfies Record<string, keyof BertConfig>;

export interface ParsedConfig {
  config: BertConfig;
  /** Keys present in the file that do not affect the forward (dropout, ids, versions, ...). */
  ignored: string[];
}

function positiveInt(file: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 1e8) {
    throw new CheckpointError(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`, file);
  }
  return v;
}

export function checkConfig(file: string, c: BertConfig): BertConfig {
  if (c.hiddenSize % c.numAttentionHeads !== 0) {
    throw new CheckpointError(
      `hidden_size ${c.hiddenSize} is not a multiple of num_attention_heads ${c.numAttentionHeads}`,
      file,
    );
  }
  if (!HIDDEN_ACTS.includes(c.hiddenAct)) {
    throw new CheckpointError(`unsupported hidden_act "${c.hiddenAct}" (supported: ${HIDDEN_ACTS.join(', ')})`, file);
  }
  if (!(c.layerNormEps > 0 && c.layerNormEps < 1)) {
    throw new CheckpointError(`layer_norm_eps must be in (0, 1), got ${c.layerNormEps}`, file);
  }
  return c;
}

/** Parse a HF `config.json` object. Missing required sizes are an error naming the key. */
export function parseHfConfig(file: string, json: unknown): ParsedConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError('config is not a JSON object', file);
  }
  const obj = json as Record<string, unknown>;
  if (obj.model_type !== undefined && obj.model_type !== 'bert') {
    throw new CheckpointError(`model_type "${String(obj.model_type)}" is not supported (only "bert")`, file);
  }
  const sizes = {} as Record<(typeof HF_KEYS)[keyof typeof HF_KEYS], number>;
  for (const [key, field] of Object.entries(HF_KEYS)) {
    if (!(key in obj)) throw new CheckpointError(`missing required key "${key}"`, file);
    sizes[field as (typeof HF_KEYS)[keyof typeof HF_KEYS]] = positiveInt(file, key, obj[key]);
  }
  const act = obj.hidden_act ?? 'gelu';
  const eps = obj.layer_norm_eps ?? 1e-12;
  const pad = obj.pad_token_id ?? 0;
  if (typeof act !== 'string') throw new CheckpointError('"hidden_act" must be a string', file);
  if (typeof eps !== 'number') throw new CheckpointError('"layer_norm_eps" must be a number', file);
  if (typeof pad !== 'number') throw new CheckpointError('"pad_token_id" must be a number', file);
  if (obj.position_embedding_type !== undefined && obj.position_embedding_type !== 'absolute') {
    throw new CheckpointError(
      `position_embedding_type "${String(obj.position_embedding_type)}" is not supported (only "absolute")`,
      file,
    );
  }
  const config = checkConfig(file, {
    ...sizes,
    hiddenAct: act as HiddenAct,
    layerNormEps: eps,
    padTokenId: pad,
  });
  const used = new Set<string>([...Object.keys(HF_KEYS), 'hidden_act', 'layer_norm_eps', 'pad_token_id', 'model_type']);
  return { config, ignored: Object.keys(obj).filter((k) => !used.has(k)) };
}

/** Back to HF `config.json` form (used by `sbert synth` and reports). */
export function toHfConfig(c: BertConfig): Record<string, unknown> {
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: c.hiddenAct,
    max_position_embeddings: c.maxPositionEmbeddings,
    type_vocab_size: c.typeVocabSize,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: c.padTokenId,
    position_embedding_type: 'absolute',
  };
}
