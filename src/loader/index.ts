// The loader's public surface: model folders → LoadedModel; checkpoint files → lazily decoded tensors.
export { type BertConfig, type HiddenAct, parseHfConfig, toHfConfig, checkConfig } from './config.js';
export { Weights, type WeightTensor } from './weights.js';
export { type DType, decodeFloat32, decodeInt32, toFloat16Bits, toBFloat16Bits } from './dtype.js';
export {
  readSafetensors,
  parseSafetensors,
  writeSafetensors,
  serializeSafetensors,
  type RawTensor,
  readFile,
} from './safetensors.js';
export { openCheckpoint } from './checkpoint.js';
export type { Checkpoint, CheckpointFormat, TensorEntry } from './tensor.js';
export { loadModelDir, tokenizerDirOf, type LoadedModel, type LoadReport } from './model-dir.js';
export { sentenceTransformers } from './sentence-transformers.js';
export type { LoadOptions } from './canonical.js';
export { resolveModelDir } from './resolve.js';
export type { PoolingConfig, PoolingMode } from './pooling-config.js';
export { synthesize, synthTensor, synthValue } from './synth.js';
