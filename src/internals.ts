// `sbert-tfjs/internals`: the engine under SentenceEncoder, for researchers and for checking a deployment against
// PyTorch. BertModel and its hook points (TransformerLens's names, docs/hooks.md), caches, patching and ablation;
// the checkpoint loaders and the tokenizer; reference comparison (`sbert compare` / `sbert dump`); attention
// pictures; backend selection; and `tf`, the tfjs-core functions a hook needs. Less stable than the main entry.

/** tfjs-core's tensor functions and types (the same functions as tfjs-core's), for hooks and cached tensors. */
export * as tf from './ops/tf.js';

// The model (HF BertModel, modeling_bert.py) and TransformerLens-style access to its internals.
export { BertModel, FLOAT32_MIN, type BertInputs, type BertModelOutput, type ForwardOptions } from './model/bert.js';
export {
  ablateHeads,
  ActivationCache,
  type CacheOptions,
  type CacheRun,
  combineHooks,
  type GradientCacheRun,
  type HeadRef,
  type HookContext,
  type HookFn,
  type Hooks,
  headMask,
  runWithCache,
  runWithHooks,
} from './model/hooks.js';
export { l2Normalize, pool, POOLING_MODES } from './model/pooling.js';
export { wordEmbeddingRows } from './model/gradients.js';

// Attribution methods on a BertModel and tokenized sentence (what `explain` runs), and their pictures.
export {
  type Attributable,
  attentionRollout,
  embeddingGradient,
  type GradientResult,
  integratedGradients,
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
  type SentenceIds,
} from './explain/index.js';
export { type ChunkCost, splitByLength } from './model/batching.js';

// Checkpoints and model folders.
export type { BertConfig, HiddenAct, ModelType } from './loader/config.js';
export { Weights, type WeightTensor } from './loader/weights.js';
export {
  type Checkpoint,
  type CheckpointFormat,
  type LoadedModel,
  type LoadReport,
  loadModelDir,
  openCheckpoint,
  type PoolingConfig,
  readSafetensors,
  resolveModelDir,
  synthesize,
  synthTensor,
  type TensorEntry,
  writeSafetensors,
} from './loader/index.js';
export { ensureModel, isCompleteModelDir, type EnsureOptions } from './hub/index.js';

// The tokenizers (HF BertTokenizerFast; XLMRobertaTokenizer, SentencePiece Unigram), picked by loadTokenizer.
export {
  BertTokenizer,
  type EncodeOptions,
  type Encoding,
  loadTokenizer,
  type Tokenizer,
  type TokenizerFiles,
  type TokenizerKind,
  type TokenizerSettings,
  utf16Offsets,
  Vocab,
  XLMRobertaTokenizer,
} from './tokenizer/index.js';

// Agreement with PyTorch: `sbert compare` and `sbert dump` as functions.
export {
  type ActivationSource,
  bertSource,
  type CompareOptions,
  compareReference,
  compareTensors,
  type ComparisonReport,
  toJson as comparisonJson,
  defaultTolerance,
  dumpActivations,
  type DumpOptions,
  dumpKeys,
  formatTable as formatComparison,
  loadReference,
  MAX_DUMP_BYTES,
  type RefBatch,
  type Reference,
  type RefGroup,
  runComparison,
  type TensorResult,
} from './compare/index.js';

// Attention pictures (`sbert attention`) and attribution pictures (`sbert explain`).
export {
  type AttentionMaps,
  attentionMaps,
  type AttributionLayout,
  attributionLayout,
  type AttributionPage,
  type AttributionView,
  heatmapLayout,
  type Panel,
  renderAttributionHtml,
  renderAttributionPng,
  renderHeadViewHtml,
  renderHeatmapPng,
  selectPanels,
  type TokenBox,
} from './viz/index.js';

// Backends and the statistics behind stsMetrics.
export { type BackendChoice, setupBackend } from './backend/index.js';
export { pearson, ranks, spearman, STS_SIMILARITIES } from './encoder/sts.js';
export { POOL_THRESHOLD } from './encoder/sentence-encoder.js';
