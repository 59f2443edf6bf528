// The weights files a model folder may hold.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';

/** Weights files we look for, in order of preference. */
export const WEIGHT_FILES = [
  'model.safetensors',
  'model.safetensors.index.json',
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
  'model.bin',
] as const;


/** The preferred weights file in `dir`. */
export function weightsFileIn(dir: string): string {
  for (const f of WEIGHT_FILES) if (existsSync(join(dir, f))) return join(dir, f);
  throw new InputError(`no weights file (expected ${WEIGHT_FILES.join(', ')})`, dir);
}
