// Public API of sbert-tfjs.
export { UsageError, InputError, CheckpointError } from './errors.js';
export type { BertConfig, HiddenAct } from './loader/config.js';
export { Weights, type WeightTensor } from './loader/weights.js';
