// The explorer's JSON: what each `/explorer/*` route answers. The browser app (src/ui) imports these types, and
// only these (it may import no server code), so both sides of the wire are checked by one compiler.
import type { Explanation } from '../../explain/index.js';

/** A float32 tensor: little-endian bytes in base64, row-major, with its shape. */
export interface WireTensor {
  shape: number[];
  dtype: 'float32';
  data: string;
}

/** `GET /explorer/info`: the model and what the page may ask for. */
export interface ExplorerInfo {
  model: string;
  modelType: string;
  backend: string;
  layers: number;
  heads: number;
  hidden: number;
  /** Tokens per sentence, special tokens included; longer sentences are cut to it. */
  maxLength: number;
  pooling: string;
  normalize: boolean;
  /** Every hook point of the model (`model.hookNames()`), in forward order. */
  hookNames: string[];
  /** Attribution methods of `POST /explorer/explain`, the default first. */
  attributionMethods: string[];
  /** Integrated gradients' Riemann steps: the default, and the most a request may ask for. */
  attributionSteps: { default: number; max: number };
}

/** One sentence as the model sees it. */
export interface TokenizedSentence {
  text: string;
  tokens: string[];
  ids: number[];
  /** [start, end) in Unicode code points of `text`; [0, 0] for special tokens. */
  offsets: [number, number][];
  /** The characters of `text` each token covers ('' for special tokens): what an unknown token replaced. */
  covers: string[];
  special: boolean[];
  /** Which tokens are the tokenizer's unknown token (`[UNK]`, `<unk>`). */
  unknown: boolean[];
  /** The text had more tokens than `maxLength`: the model sees its first `maxLength − 2` and the closing token. */
  truncated: boolean;
}

/** `POST /explorer/tokens {texts: [a, b?]}`. */
export interface TokensResponse {
  maxLength: number;
  sentences: TokenizedSentence[];
}

/** A head, by layer and index (both from 0). */
export interface HeadId {
  layer: number;
  head: number;
}

/** The two sentences' similarity, and per layer. */
export interface SimilarityProfile {
  /** Cosine of the model's sentence embeddings (its pooling and normalisation, as `sbert similarity`). */
  similarity: number;
  /** Cosine of the mean-pooled `hidden_states[i]`, i = 0 (embeddings) … layers. */
  layers: number[];
}

/** `POST /explorer/similarity {a, b, ablate?: [{layer, head}]}`. */
export interface SimilarityResponse extends SimilarityProfile {
  tokens: { a: number; b: number };
  /** With `ablate`: the same with those heads zero-ablated (`ablateHeads`) in both sentences. */
  ablated?: SimilarityProfile & { heads: HeadId[] };
}

/** `POST /explorer/attention {text}`: every head, small. */
export interface AttentionOverview {
  tokens: string[];
  layers: number;
  heads: number;
  /** Side of each thumbnail: the token count, or less for long inputs. */
  size: number;
  /** [layers, heads, size, size]: each cell the largest probability in its block of the full map. */
  thumbnails: WireTensor;
}

/** `POST /explorer/attention {text, layer}`: one layer in full. */
export interface AttentionLayer {
  tokens: string[];
  layer: number;
  /** [heads, L, L]: row = query (attending) token, column = key (attended) token. */
  attention: WireTensor;
}

export interface TensorStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** NaN and ±Infinity values (left out of the other statistics). */
  nonFinite: number;
}

/** `POST /explorer/hook {text, name}`. */
export interface HookResponse {
  name: string;
  tokens: string[];
  stats: TensorStats;
  /** The activation for this one sentence: batch 1, every position. */
  tensor: WireTensor;
}

/**
 * `POST /explorer/explain {a, b, method?, steps?}`: the explain library's `Explanation` (what `sbert explain --json`
 * prints): the similarity, and each sentence's tokens, offsets and one score per token.
 */
export type ExplainResponse = Explanation;

/** Every error: text-embeddings-inference's shape, as the server's other routes. */
export interface ErrorResponse {
  error: string;
  error_type: string;
}
