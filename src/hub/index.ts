// Fetching models from the Hugging Face hub (or a mirror) into weights/<id>/.
export {
  downloadModel,
  isHubId,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
} from './download.js';
export { ensureModel, isCompleteModelDir, type DownloadEvents, type EnsureOptions } from './ensure.js';
export { HubError, HubUnreachableError } from './errors.js';
export { DEFAULT_MODEL_ID, defaultModelDir, weightsRoot } from './paths.js';
