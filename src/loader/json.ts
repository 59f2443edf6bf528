// JSON side files of a model folder (config.json, modules.json, 1_Pooling/config.json, ...): read through src/io
// (regular files only, size-capped, no duplicate keys) with one-line errors naming the file.
import { readJsonFile } from '../io/json.js';

export function readJson(file: string): unknown {
  return readJsonFile(file);
}
