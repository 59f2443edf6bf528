// One typed BERT-family configuration, whatever file it came from (HF `config.json` here; UER-style in uer.ts).
// BERT, RoBERTa and XLM-RoBERTa share the encoder; RoBERTa's embeddings number positions from the input ids.
import { CheckpointError } from '../errors.js';

/** HF `model_type`s we run, and the `architectures` prefixes that name them when `model_type` is absent. */
export type ModelType = 'bert' | 'roberta' | 'xlm-roberta';
export const MODEL_TYPES: readonly ModelType[] = ['bert', 'roberta', 'xlm-roberta'];
const ARCHITECTURE_PREFIXES: [string, ModelType][] = [
  ['XLMRoberta', 'xlm-roberta'],
  ['Roberta', 'roberta'],
  ['Bert', 'bert'],
];

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
  /** Absent: 'bert'. RoBERTa types take position ids from the input ids, counting from `padTokenId` + 1. */
  modelType?: ModelType;
}

/** True for RoBERTa-style position ids (HF `create_position_ids_from_input_ids`). */
export function positionsFromInputIds(c: BertConfig): boolean {
  return c.modelType === 'roberta' || c.modelType === 'xlm-roberta';
}

/** The most tokens a sequence may have: the position table's rows, less RoBERTa's `padding_idx + 1` offset. */
export function maxTokens(c: BertConfig): number {
  return positionsFromInputIds(c) ? c.maxPositionEmbeddings - c.padTokenId - 1 : c.maxPositionEmbeddings;
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

/**
 * Upper bounds on the sizes a config may claim, far above any BERT (BERT-large: 24 layers, hidden 1024), so that
 * a hostile config is refused before its numbers size anything; the weights are then checked against it.
 */
export const CONFIG_LIMITS: Readonly<Record<keyof typeof HF_KEYS, number>> = {
  vocab_size: 2 ** 24,
  hidden_size: 2 ** 16,
  num_hidden_layers: 1024,
  num_attention_heads: 2 ** 12,
  intermediate_size: 2 ** 20,
  max_position_embeddings: 2 ** 20,
  type_vocab_size: 2 ** 16,
};

/** A positive integer no larger than `max` (CONFIG_LIMITS), else a CheckpointError naming the key. */
export function positiveInt(file: string, key: string, v: unknown, max = 1e8): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new CheckpointError(
      `"${key}" must be a positive integer, got ${typeof v === 'number' ? v : JSON.stringify(v)}`,
      file,
    );
  }
  if (v > max) throw new CheckpointError(`"${key}" is ${v}, more than the ${max} this loader accepts`, file);
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
  if (positionsFromInputIds(c)) {
    if (!(Number.isInteger(c.padTokenId) && c.padTokenId >= 0 && c.padTokenId < c.vocabSize)) {
      throw new CheckpointError(`pad_token_id ${c.padTokenId} is not a token id (vocab_size ${c.vocabSize})`, file);
    }
    if (maxTokens(c) < 1) {
      throw new CheckpointError(
        `max_position_embeddings ${c.maxPositionEmbeddings} leaves no position after the padding offset (pad_token_id ${c.padTokenId})`,
        file,
      );
    }
  }
  return c;
}

/** The model type of a config.json: `model_type`, else the first of `architectures`; unsupported ones are an error. */
function modelTypeOf(file: string, obj: Record<string, unknown>): ModelType {
  const supported = `supported: ${MODEL_TYPES.join(', ')}`;
  if (obj.model_type !== undefined) {
    if (!(MODEL_TYPES as readonly unknown[]).includes(obj.model_type)) {
      throw new CheckpointError(`model_type ${JSON.stringify(obj.model_type)} is not supported (${supported})`, file);
    }
    return obj.model_type as ModelType;
  }
  const arch = Array.isArray(obj.architectures) ? obj.architectures[0] : undefined;
  if (arch === undefined) return 'bert';
  const hit = typeof arch === 'string' ? ARCHITECTURE_PREFIXES.find(([p]) => arch.startsWith(p)) : undefined;
  if (!hit) throw new CheckpointError(`architecture ${JSON.stringify(arch)} is not supported (${supported})`, file);
  return hit[1];
}

/** Parse a HF `config.json` object. Missing required sizes are an error naming the key. */
export function parseHfConfig(file: string, json: unknown): ParsedConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError('config is not a JSON object', file);
  }
  // Own properties only: a key such as "constructor" must never resolve through Object.prototype.
  const obj = Object.fromEntries(Object.entries(json)) as Record<string, unknown>;
  Object.setPrototypeOf(obj, null);
  const modelType = modelTypeOf(file, obj);
  const sizes = {} as Record<(typeof HF_KEYS)[keyof typeof HF_KEYS], number>;
  for (const [key, field] of Object.entries(HF_KEYS)) {
    if (!Object.hasOwn(obj, key)) throw new CheckpointError(`missing required key "${key}"`, file);
    sizes[field as (typeof HF_KEYS)[keyof typeof HF_KEYS]] = positiveInt(
      file,
      key,
      obj[key],
      CONFIG_LIMITS[key as keyof typeof HF_KEYS],
    );
  }
  if (sizes.numAttentionHeads > sizes.hiddenSize) {
    throw new CheckpointError(
      `num_attention_heads ${sizes.numAttentionHeads} exceeds hidden_size ${sizes.hiddenSize}`,
      file,
    );
  }
  const act = obj.hidden_act ?? 'gelu';
  const eps = obj.layer_norm_eps ?? (modelType === 'bert' ? 1e-12 : 1e-5);
  const pad = obj.pad_token_id ?? (modelType === 'bert' ? 0 : 1);
  if (typeof act !== 'string') throw new CheckpointError('"hidden_act" must be a string', file);
  if (typeof eps !== 'number') throw new CheckpointError('"layer_norm_eps" must be a number', file);
  if (typeof pad !== 'number') throw new CheckpointError('"pad_token_id" must be a number', file);
  if (obj.position_embedding_type !== undefined && obj.position_embedding_type !== 'absolute') {
    throw new CheckpointError(
      `position_embedding_type "${String(obj.position_embedding_type)}" is not supported (only "absolute")`,
      file,
    );
  }
  // Settings transformers' encoders act on that this engine does not implement: ignored, they would give other
  // numbers than transformers without a word.
  const isDecoder = obj.is_decoder;
  if (isDecoder !== undefined && isDecoder !== null && typeof isDecoder !== 'boolean')
    throw new CheckpointError(`"is_decoder" must be true or false, got ${JSON.stringify(isDecoder)}`, file);
  if (isDecoder === true) {
    throw new CheckpointError(
      '"is_decoder": true is not supported: transformers then attends causally (each token only to those before it), this engine bidirectionally',
      file,
    );
  }
  const pruned = obj.pruned_heads;
  if (pruned !== undefined && pruned !== null) {
    const empty =
      typeof pruned === 'object' &&
      !Array.isArray(pruned) &&
      Object.values(pruned).every((h) => Array.isArray(h) && !h.length);
    if (!empty)
      throw new CheckpointError(
        `"pruned_heads" ${JSON.stringify(pruned).slice(0, 80)} is not supported: transformers removes those attention heads at load`,
        file,
      );
  }
  const config = checkConfig(file, {
    ...sizes,
    hiddenAct: act as HiddenAct,
    layerNormEps: eps,
    padTokenId: pad,
    ...(modelType === 'bert' ? {} : { modelType }),
  });
  const used = new Set<string>([
    ...Object.keys(HF_KEYS),
    'hidden_act',
    'layer_norm_eps',
    'pad_token_id',
    'model_type',
    'architectures',
    'is_decoder',
    'pruned_heads',
  ]);
  return { config, ignored: Object.keys(obj).filter((k) => !used.has(k)) };
}

/** Back to HF `config.json` form (used by `sbert synth` and reports). */
export function toHfConfig(c: BertConfig): Record<string, unknown> {
  const type = c.modelType ?? 'bert';
  return {
    architectures: [{ bert: 'BertModel', roberta: 'RobertaModel', 'xlm-roberta': 'XLMRobertaModel' }[type]],
    model_type: type,
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
