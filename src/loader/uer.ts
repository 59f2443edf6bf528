// UER-py's own `config.json` (e.g. models/bert/base_config.json, or the dual-stream sbert config with
// `stream_0` / `stream_1`) → the same BertConfig. UER configs omit what the weights already say (vocab size,
// segment count), so those come from the checkpoint's shapes.
import { CheckpointError } from '../errors.js';
import {
  type BertConfig,
  checkConfig,
  CONFIG_LIMITS,
  type HiddenAct,
  type ParsedConfig,
  positiveInt,
} from './config.js';

export function isUerConfig(json: unknown): boolean {
  if (typeof json !== 'object' || json === null) return false;
  const o = json as Record<string, unknown>;
  return Object.hasOwn(o, 'stream_0') || Object.hasOwn(o, 'layers_num') || Object.hasOwn(o, 'heads_num');
}

export interface UerShapes {
  /** Rows of the word embedding and of UER's `seg` embedding (which has a padding row 0). */
  vocabRows?: number;
  segRows?: number;
}

const USED = new Set([
  'emb_size',
  'hidden_size',
  'feedforward_size',
  'heads_num',
  'layers_num',
  'max_seq_length',
  'vocab_size',
  'hidden_act',
  'embedding',
  'encoder',
  'mask',
  'layernorm_positioning',
  'feed_forward',
  'remove_embedding_layernorm',
  'relative_position_embedding',
  'layer_norm_eps',
  'stream_0',
  'stream_1',
  'type_vocab_size',
]);

/** UER keys → the HF key whose CONFIG_LIMITS bound them. */
const UER_LIMITS = {
  hidden_size: 'hidden_size',
  vocab_size: 'vocab_size',
  layers_num: 'num_hidden_layers',
  heads_num: 'num_attention_heads',
  feedforward_size: 'intermediate_size',
  max_seq_length: 'max_position_embeddings',
} as const satisfies Record<string, keyof typeof CONFIG_LIMITS>;

export function parseUerConfig(file: string, json: unknown, shapes: UerShapes): ParsedConfig {
  // Own properties only (a key such as "constructor" must not resolve through Object.prototype).
  const root = Object.assign(Object.create(null) as Record<string, unknown>, json);
  // Dual-stream (sbert) models: stream 0 is the encoder the HF conversion keeps.
  const dual = typeof root.stream_0 === 'object' && root.stream_0 !== null;
  const obj = (dual ? Object.assign(Object.create(null) as Record<string, unknown>, root.stream_0) : root) as Record<
    string,
    unknown
  >;
  const where = dual ? 'stream_0.' : '';
  const fail = (msg: string): never => {
    throw new CheckpointError(msg, file);
  };
  const int = (key: keyof typeof UER_LIMITS, fallback?: number): number => {
    const v = Object.hasOwn(obj, key) ? obj[key] : fallback;
    if (v === undefined) fail(`missing required key "${where}${key}"`);
    return positiveInt(file, `${where}${key}`, v, CONFIG_LIMITS[UER_LIMITS[key]]);
  };
  const refuse = (key: string, bad: (v: unknown) => boolean, why: string) => {
    if (obj[key] !== undefined && bad(obj[key]))
      fail(`"${where}${key}": ${JSON.stringify(obj[key])} is not supported (${why})`);
  };
  refuse('layernorm_positioning', (v) => v !== 'post', 'BERT is post-LayerNorm');
  refuse('feed_forward', (v) => v !== 'dense', 'BERT uses a dense feed-forward');
  refuse('remove_embedding_layernorm', (v) => v !== false, 'BERT has an embedding LayerNorm');
  refuse('relative_position_embedding', (v) => v !== false, 'BERT uses absolute positions');
  refuse('encoder', (v) => v !== 'transformer', 'only the transformer encoder');
  refuse('mask', (v) => v !== 'fully_visible', 'BERT attends to every token');
  refuse(
    'embedding',
    (v) => !(Array.isArray(v) || typeof v === 'string') || !['word', 'pos', 'seg'].every((e) => v.includes(e)),
    'BERT needs word, pos and seg embeddings',
  );

  const hidden = int('hidden_size');
  if (obj.emb_size !== undefined && obj.emb_size !== hidden)
    fail(`"${where}emb_size" ${String(obj.emb_size)} ≠ hidden_size ${hidden} (factorized embeddings are not BERT)`);
  const vocab = int('vocab_size', shapes.vocabRows);
  const segRows = shapes.segRows ?? 3;
  if (segRows < 2) fail(`the seg embedding has ${segRows} rows; UER's has a padding row 0 plus the segments`);
  const act = obj.hidden_act ?? 'gelu';
  if (typeof act !== 'string') fail(`"${where}hidden_act" must be a string`);
  // The model runs as its HF conversion would (HF LayerNorm, eps 1e-12), which is what the published
  // converted checkpoints compute; UER-py's own LayerNorm differs slightly (std + 1e-6).
  const eps = obj.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number') fail(`"${where}layer_norm_eps" must be a number`);
  const config: BertConfig = checkConfig(file, {
    vocabSize: vocab,
    hiddenSize: hidden,
    numHiddenLayers: int('layers_num'),
    numAttentionHeads: int('heads_num'),
    intermediateSize: int('feedforward_size'),
    hiddenAct: act as HiddenAct,
    maxPositionEmbeddings: int('max_seq_length'),
    typeVocabSize: segRows - 1,
    layerNormEps: eps as number,
    padTokenId: 0,
  });
  const ignored = [
    ...Object.keys(obj)
      .filter((k) => !USED.has(k))
      .map((k) => where + k),
    ...(dual ? Object.keys(root).filter((k) => k !== 'stream_0') : []),
  ];
  return { config, ignored };
}
