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
export {
  findDuplicateKey,
  type JsonScan,
  type JsonScanLimits,
  jsonSyntaxMessage,
  MAX_JSON_DEPTH,
  MAX_JSON_ENTRIES,
  own,
  parseJson,
  type ParseJsonOptions,
  readJsonFile,
  scanJson,
} from './json.js';
