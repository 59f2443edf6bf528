// Safe reads of the files we are given: regular files only, size-capped, strict JSON.
export {
  FILE_LIMITS,
  type FileKind,
  formatSize,
  openInputStream,
  openRegularFile,
  type OpenFile,
  readFileOfKind,
  readRegularFile,
  readTextFile,
  readTextOfKind,
  type ReadOptions,
} from './read-file.js';
export { findDuplicateKey, type JsonScan, own, parseJson, readJsonFile, scanJson } from './json.js';
