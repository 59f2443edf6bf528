// Public API of sbert-tfjs.
export { UsageError, InputError, CheckpointError } from './errors.js';
export type { BertConfig, HiddenAct } from './loader/config.js';
export { Weights, type WeightTensor } from './loader/weights.js';
export { resolveModelDir, loadModelDir, openCheckpoint, readSafetensors, writeSafetensors, synthesize, synthTensor, type LoadedModel, type LoadReport, type PoolingConfig, type Checkpoint, type CheckpointFormat, type TensorEntry } from './loader/index.js';
export { downloadModel, ensureModel, HubError, HubUnreachableError, DEFAULT_MODEL_ID, type DownloadOptions, type DownloadProgress, type DownloadResult } from './hub/index.js';
export { BertTokenizer, utf16Offsets, Vocab, type Encoding, type EncodeOptions, type TokenizerSettings, type TokenizerFiles } from './tokenizer/index.js';
export { SentenceEncoder, POOL_THRESHOLD, type EncoderLoadOptions, type EncodeOptions as SentenceEncodeOptions } from './encoder/sentence-encoder.js';
