// Public API of sbert-tfjs.
export { UsageError, InputError, CheckpointError } from './errors.js';
export type { BertConfig, HiddenAct } from './loader/config.js';
export { Weights, type WeightTensor } from './loader/weights.js';
export { resolveModelDir, loadModelDir, openCheckpoint, readSafetensors, writeSafetensors, synthesize, synthTensor, type LoadedModel, type LoadReport, type PoolingConfig, type Checkpoint, type CheckpointFormat, type TensorEntry } from './loader/index.js';
export { downloadModel, ensureModel, HubError, HubUnreachableError, DEFAULT_MODEL_ID, type DownloadOptions, type DownloadProgress, type DownloadResult } from './hub/index.js';
export { BertTokenizer, utf16Offsets, Vocab, type Encoding, type EncodeOptions, type TokenizerSettings, type TokenizerFiles } from './tokenizer/index.js';
export { cosine, cosSim, semanticSearch, type SearchHit } from './encoder/similarity.js';
export { pearson, spearman, ranks, stsMetrics, STS_SIMILARITIES, type StsResult, type StsSimilarity } from './encoder/sts.js';
export { SentenceEncoder, POOL_THRESHOLD, type EncoderLoadOptions, type EncodeOptions as SentenceEncodeOptions } from './encoder/sentence-encoder.js';
export { runComparison, bertSource, compareReference, loadReference, compareTensors, defaultTolerance, formatTable as formatComparison, toJson as comparisonJson, type ComparisonReport, type TensorResult, type ActivationSource, type CompareOptions, type Reference, type RefGroup, type RefBatch } from './compare/index.js';
export { dumpActivations, dumpKeys, MAX_DUMP_BYTES, type DumpOptions } from './compare/index.js';
export { attentionMaps, selectPanels, renderHeatmapPng, heatmapLayout, renderHeadViewHtml, type AttentionMaps, type Panel } from './viz/index.js';
export { BertModel, FLOAT32_MIN, type BertInputs, type BertModelOutput, type ForwardOptions } from './model/bert.js';
export { pool, l2Normalize, POOLING_MODES, type PoolingMode } from './model/pooling.js';
export { runWithCache, runWithHooks, combineHooks, ablateHeads, headMask, ActivationCache, type CacheOptions, type HeadRef, type HookFn, type Hooks, type HookContext } from './model/hooks.js';
export { splitByLength, type ChunkCost } from './model/batching.js';
export { setupBackend, BACKEND_NAMES, BackendUnavailable, type BackendName, type BackendChoice } from './backend/index.js';
