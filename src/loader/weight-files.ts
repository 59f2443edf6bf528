// The weights files a model folder may hold: the one list the loader, `sbert download` and `ensureModel` read. A
// sharded checkpoint is its index (`*.index.json`) plus the shard files its `weight_map` names, beside it.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError, InputError } from '../errors.js';
import { own, readJsonFile } from '../io/json.js';

/** Weights files in order of preference (HF's save_pretrained names, then UER-py's native `model.bin`). */
export const WEIGHT_FILES = [
  'model.safetensors',
  'model.safetensors.index.json',
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
  'model.bin',
] as const;

export const isShardIndex = (file: string): boolean => file.endsWith('.index.json');

/** A `weight_map` entry's shard file, which must be a plain file name beside the index. */
export function shardFile(shard: unknown, tensor: string, indexFile: string): string {
  if (
    typeof shard !== 'string' ||
    shard !== basename(shard) ||
    shard === '..' ||
    shard === '.' ||
    shard === '' ||
    // a control character (NUL, a line break, an escape sequence) is no file name we would open or print
    [...shard].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
  ) {
    throw new CheckpointError(
      `weight_map entry ${tensor} names ${JSON.stringify(shard)}, not a file beside the index`,
      indexFile,
    );
  }
  // Shards are weight files: an index naming itself, or another index, would loop.
  if (isShardIndex(shard)) {
    const what = shard === basename(indexFile) ? 'the index itself' : `another index, ${shard}`;
    throw new CheckpointError(`weight_map entry ${tensor} names ${what}; shards must be weight files`, indexFile);
  }
  return shard;
}

/** The `weight_map` of a parsed index file: tensor name → shard file. */
export function weightMap(index: unknown, indexFile: string): Map<string, string> {
  const map = own(index, 'weight_map');
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new CheckpointError('no "weight_map" object', indexFile);
  return new Map(
    Object.entries(map as Record<string, unknown>).map(([name, shard]) => [name, shardFile(shard, name, indexFile)]),
  );
}

/** The distinct shard files a parsed index names, in first-use order. */
export function shardFiles(index: unknown, indexFile: string): string[] {
  return [...new Set(weightMap(index, indexFile).values())];
}

/** The preferred weights file in `dir`. */
export function weightsFileIn(dir: string): string {
  for (const f of WEIGHT_FILES) if (existsSync(join(dir, f))) return join(dir, f);
  throw new InputError(`no weights file (expected ${WEIGHT_FILES.join(', ')})`, dir);
}

/** True when `dir` holds a weights file and, for a sharded checkpoint, every shard its index names. */
export function hasCompleteWeights(dir: string): boolean {
  const file = WEIGHT_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!file) return false;
  if (!isShardIndex(file)) return true;
  try {
    return shardFiles(readJsonFile(file), file).every((s) => existsSync(join(dirname(file), s)));
  } catch {
    return false;
  }
}
