// sentence-transformers' Pooling module configuration (`1_Pooling/config.json`): which pooling the model was trained with.
import { CheckpointError } from '../errors.js';
import { own } from '../io/json.js';
import { readJson } from './json.js';

export type PoolingMode = 'mean' | 'cls' | 'max' | 'mean_sqrt_len';
export const POOLING_MODES: readonly PoolingMode[] = ['mean', 'cls', 'max', 'mean_sqrt_len'];
export interface PoolingConfig {
  mode: PoolingMode;
}

/** The pooling mode of a `1_Pooling/config.json` (sentence-transformers ≥ 5 or the older one-flag-per-mode form). */
export function poolingOf(file: string): PoolingConfig {
  const j = readJson(file);
  if (typeof j !== 'object' || j === null) throw new CheckpointError('pooling config is not a JSON object', file);
  const o = j as Record<string, unknown>;
  // A Map: a mode named "constructor" or "__proto__" must not find Object.prototype's members.
  const byName = new Map<string, PoolingMode>([
    ['mean', 'mean'],
    ['mean_tokens', 'mean'],
    ['cls', 'cls'],
    ['cls_token', 'cls'],
    ['max', 'max'],
    ['max_tokens', 'max'],
    ['mean_sqrt_len', 'mean_sqrt_len'],
    ['mean_sqrt_len_tokens', 'mean_sqrt_len'],
  ]);
  // sentence-transformers ≥ 5 writes `pooling_mode: "mean"`; older versions one boolean per mode.
  let named = own(o, 'pooling_mode');
  // sentence-transformers also takes a list of modes (concatenated); one of them is that mode.
  if (Array.isArray(named) && named.length === 1) named = named[0];
  if (Array.isArray(named) && named.every((m) => typeof m === 'string'))
    throw new CheckpointError(`several pooling modes at once (${named.join(', ')}) are not supported`, file);
  if (named !== undefined && typeof named !== 'string')
    throw new CheckpointError(`"pooling_mode" must be a string, got ${JSON.stringify(named)}`, file);
  if (typeof named === 'string') {
    const m = byName.get(named);
    if (!m)
      throw new CheckpointError(
        `pooling mode ${JSON.stringify(named)} is not supported (mean, cls, max, mean_sqrt_len_tokens)`,
        file,
      );
    return { mode: m };
  }
  // One flag per mode, each true or false: "yes" or 1 would be on for sentence-transformers (Python truthiness),
  // and taking it as off would pool another way without a word.
  for (const [k, v] of Object.entries(o))
    if (k.startsWith('pooling_mode_') && typeof v !== 'boolean')
      throw new CheckpointError(`"${k}" must be true or false, got ${JSON.stringify(v)}`, file);
  const on = Object.entries(o)
    .filter(([k, v]) => k.startsWith('pooling_mode_') && v === true)
    .map(([k]) => k.slice('pooling_mode_'.length));
  if (on.length !== 1)
    throw new CheckpointError(
      on.length ? `several pooling modes at once (${on.join(', ')}) are not supported` : 'no pooling mode set',
      file,
    );
  const m = byName.get(on[0]!);
  if (!m)
    throw new CheckpointError(
      `pooling mode ${JSON.stringify(on[0])} is not supported (mean, cls, max, mean_sqrt_len_tokens)`,
      file,
    );
  return { mode: m };
}
