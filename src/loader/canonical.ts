// Checkpoint tensors → the canonical float32 weights a BertModel loads (names from keys.ts), every shape checked
// against the config.
import { CheckpointError } from '../errors.js';
import type { BertConfig } from './config.js';
import { assertFinite } from './finite.js';
import { checkLayerCount } from './inventory.js';
import { bertShapes, keyStyle, knownNames, mapKeys, POOLER_KEYS } from './keys.js';
import type { Checkpoint } from './tensor.js';
import { Weights, type WeightTensor } from './weights.js';

/** What mapping a checkpoint's keys found. */
export interface KeyReport {
  /** Optional tensors absent (the pooler). */
  missing: string[];
  unexpected: string[];
  /** [checkpoint key, canonical name] */
  renamed: [string, string][];
}

export interface LoadOptions {
  /** Load weights holding NaN or ±Inf instead of refusing them (outputs are still guarded). */
  allowNonFinite?: boolean;
}

/**
 * Checkpoint + config → canonical float32 weights, checking every required tensor and every shape before any
 * is read, and (unless `allowNonFinite`) that every value is finite.
 */
export function canonicalWeights(
  ckpt: Checkpoint,
  config: BertConfig,
  configFile: string,
  opts: LoadOptions = {},
): { weights: Weights; report: KeyReport } {
  const names = [...ckpt.tensors.keys()];
  const known = knownNames(config.numHiddenLayers);
  const keys = mapKeys(names, known, keyStyle(names));
  if (keys.conflicts.length) {
    const [a, b, n] = keys.conflicts[0]!;
    throw new CheckpointError(`keys ${a} and ${b} both map to ${n}`, ckpt.file);
  }
  // Before the config's numbers size anything: a num_hidden_layers of 10⁶ fails here.
  checkLayerCount(config, configFile, keys, ckpt.file);
  const required = bertShapes(config);
  const shapes = bertShapes(config, { pooler: true });
  const missing = [...required.keys()].filter((n) => !keys.canonical.has(n));
  if (missing.length) {
    const more = missing.length > 4 ? ` and ${missing.length - 4} more` : '';
    throw new CheckpointError(`missing required tensors ${missing.slice(0, 4).join(', ')}${more}`, ckpt.file);
  }
  // Every shape first, so that nothing is read (or inflated) from a checkpoint that does not fit its config.
  const shaped: [string, string, boolean, number[]][] = [];
  for (const [name, { source, dropFirstRow }] of keys.canonical) {
    const entry = ckpt.tensors.get(source)!;
    const want = shapes.get(name)!;
    const have = dropFirstRow ? [entry.shape[0]! - 1, ...entry.shape.slice(1)] : entry.shape;
    if (have.length !== want.length || have.some((d, i) => d !== want[i])) {
      throw new CheckpointError(
        `tensor ${source} has shape [${entry.shape}]${dropFirstRow ? ' (row 0 dropped)' : ''}, but ${configFile} implies [${want}]`,
        ckpt.file,
      );
    }
    shaped.push([name, source, dropFirstRow, have]);
  }
  const tensors = new Map<string, WeightTensor>();
  for (const [name, source, dropFirstRow, have] of shaped) {
    const entry = ckpt.tensors.get(source)!;
    const all = entry.float32();
    const data = dropFirstRow ? all.subarray(entry.shape[1]!) : all;
    if (!opts.allowNonFinite) assertFinite(data, have, source, ckpt.file);
    tensors.set(name, { shape: have, data });
  }
  // A half-present pooler is a broken checkpoint, not an optional one.
  const poolerHave = POOLER_KEYS.filter((k) => tensors.has(k));
  if (poolerHave.length === 1) throw new CheckpointError(`pooler is incomplete (only ${poolerHave[0]})`, ckpt.file);
  return {
    weights: new Weights(tensors, '', ckpt.file),
    report: { missing: POOLER_KEYS.filter((k) => !tensors.has(k)), unexpected: keys.unexpected, renamed: keys.renamed },
  };
}
