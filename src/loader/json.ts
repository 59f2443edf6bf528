// JSON side files of a model folder (config.json, modules.json, 1_Pooling/config.json, ...): read and parsed with
// one-line errors naming the file.
import { readFileSync } from 'node:fs';
import { CheckpointError, InputError } from '../errors.js';

export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`not valid JSON (${(e as Error).message})`, file);
  }
}
