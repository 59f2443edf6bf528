// The default model, and where downloads go (weights/<id>/, see src/loader/paths.ts).
export { defaultModelDir, weightsRoot } from '../loader/paths.js';

export const DEFAULT_MODEL_ID = 'uer/sbert-base-chinese-nli';
