// sbert-tfjs: sentence-transformers' encode() on a from-scratch BERT over TensorFlow.js, reading PyTorch
// checkpoints directly. This is the API a sentence-embedding user needs; the model's internals (hooks, caches,
// loaders, the tokenizer, comparison with PyTorch) are in `sbert-tfjs/internals`.

/** Encode sentences (a model folder or hub id, downloaded on first use): `SentenceEncoder.load(id).encode(texts)`. */
export {
  type EncodeOptions,
  type EncoderLoadOptions,
  SentenceEncoder,
} from './encoder/sentence-encoder.js';
export type { PoolingMode } from './loader/pooling-config.js';
export { BACKEND_NAMES, type BackendName } from './backend/index.js';

// sentence-transformers' util (cos_sim, semantic_search) and its STS evaluator.
export { cosine, cosSim, semanticSearch, type SearchHit } from './encoder/similarity.js';
export { stsMetrics, type StsResult, type StsSimilarity } from './encoder/sts.js';

// Which tokens make two sentences similar: gradients, integrated gradients, attention rollout (docs/explain.md).
export {
  ATTRIBUTION_METHODS,
  type AttributionMethod,
  explain,
  type ExplainOptions,
  explainSentence,
  type Explanation,
  type ExplainTarget,
  type SentenceExplanation,
  type TokenScores,
} from './explain/index.js';

// Downloading models from the Hugging Face hub (or HF_ENDPOINT's mirror).
export {
  DEFAULT_MODEL_ID,
  type DownloadEvents,
  downloadModel,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
} from './hub/index.js';

// Errors: each has `exitCode` (the CLI's) and a one-line message naming the file or input at fault.
export { CheckpointError, InputError, UsageError } from './errors.js';
export { HubError, HubUnreachableError } from './hub/index.js';
export { BackendUnavailable } from './backend/index.js';
