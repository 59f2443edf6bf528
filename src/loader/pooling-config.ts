// sentence-transformers' Pooling module configuration (`1_Pooling/config.json`): which pooling the model was trained with.
import { CheckpointError } from '../errors.js';
import { readJson } from './json.js';

export type PoolingMode = 'mean' | 'cls' | 'max' | 'mean_sqrt_len';
export interface PoolingConfig {
  mode: PoolingMode;
}

/** The pooling mode of a `1_Pooling/config.json` (sentence-transformers ≥ 5 or the older one-flag-per-mode form). */
export function poolingOf(file: string): PoolingConfig {
  const j = readJson(file);
  if (typeof j !== 'object' || j === null) throw new CheckpointError('pooling config is not a JSON object', file);
  const o = j as Record<string, unknown>;
  const byName: Record<string, PoolingMode> = {
    mean: 'mean', mean_tokens: 'mean', cls: 'cls', cls_token: 'cls', max: 'max', max_tokens: 'max',
    mean_sqrt_len: 'mean_sqrt_len', mean_sqrt_len_tokens: 'mean_sqrt_len',
  };
  // sentence-transformers ≥ 5 writes `pooling_mode: "mean"`; older versions one boolean per mode.
  if (typeof o.pooling_mode === 'string') {
    const m = byName[o.pooling_mode];
    if (!m) throw new CheckpointError(`pooling mode "${o.pooling_mode}" is not supported (mean, cls, max, mean_sqrt_len_tokens)`, file);
    return { mode: m };
  }
  const on = Object.entries(o).filter(([k, v]) => k.startsWith('pooling_mode_') && v === true).map(([k]) => k.slice('pooling_mode_'.length));
  if (on.length !== 1) throw new CheckpointError(on.length ? `several pooling modes at once (${on.join(', ')}) are not supported` : 'no pooling mode set', file);
  const m = byName[on[0]!];
  if (!m) throw new CheckpointError(`pooling mode "${on[0]}" is not supported (mean, cls, max, mean_sqrt_len_tokens)`, file);
  return { mode: m };
}
