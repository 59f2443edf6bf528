// The synthetic BERT-base checkpoint in the three containers the loader reads, written once into
// os.tmpdir() and reused across runs (≈ 410 MB each): safetensors and torch zip through the loader's own
// writers, and the pre-1.6 legacy torch format, whose container is written here (the state-dict pickle is
// the loader's, with the legacy view slot). All three were checked by loading them with real torch 1.13.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseHfConfig, type BertConfig } from '../src/loader/config.js';
import { writeSafetensors } from '../src/loader/safetensors.js';
import { synthTensorsToWrite } from '../src/loader/synth.js';
import {
  PickleWriter,
  contiguousState,
  statePickle,
  writeTorchZip,
  type TorchStorage,
  type TorchTensor,
} from '../src/loader/torch-writer.js';
import { filesKey, pruneStale } from '../test/cache-key.js';
import { fixture, ROOT } from '../test/fixtures.js';

export type CheckpointFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';
export const FORMATS: readonly CheckpointFormat[] = ['safetensors', 'torch-zip', 'torch-legacy'];

/** Bump when the files written here change, so stale caches are rebuilt. */
const CACHE_VERSION = 1;
/** The sources whose code decides the bytes written (a temp dir can outlive a change to any of them). */
const WRITERS = [
  'src/loader/synth.ts',
  'src/loader/safetensors.ts',
  'src/loader/torch-writer.ts',
  'bench/checkpoints.ts',
];

export interface SyntheticModel {
  config: BertConfig;
  /** One model folder per format: config.json, tokenizer files and the weights file. */
  dirs: Record<CheckpointFormat, string>;
  files: Record<CheckpointFormat, string>;
  /** Seconds spent writing files in this process (0 when the cache was warm). */
  writeS: number;
}

const bytesOf = (b: Uint8Array | (() => Uint8Array)): Uint8Array => (typeof b === 'function' ? b() : b);

/** torch legacy: magic, protocol 1001, sys info, the state dict, the storage keys, then each storage (int64 numel + bytes). */
export function writeTorchLegacy(
  file: string,
  storages: readonly TorchStorage[],
  tensors: readonly TorchTensor[],
): void {
  const magic = new PickleWriter()
    .proto(2)
    .raw(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19)
    .stop();
  const protocol = new PickleWriter().proto(2).int(1001).stop();
  const sysInfo = new PickleWriter().proto(2).raw(0x7d).mark(); // EMPTY_DICT MARK
  sysInfo.str('protocol_version').int(1001).str('little_endian').bool(true);
  sysInfo.str('type_sizes').raw(0x7d).mark().str('short').int(2).str('int').int(4).str('long').int(4).setitems();
  sysInfo.setitems().stop();
  const keys = new PickleWriter().proto(2).raw(0x5d).mark(); // EMPTY_LIST MARK
  for (const s of storages) keys.str(s.key);
  keys.raw(0x65).stop(); // APPENDS
  const fd = openSync(file, 'w');
  try {
    const w = (b: Uint8Array) => {
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    };
    for (const p of [magic, protocol, sysInfo]) w(p.bytes());
    w(statePickle(storages, tensors, true));
    w(keys.bytes());
    for (const s of storages) {
      const n = new Uint8Array(8);
      new DataView(n.buffer).setBigInt64(0, BigInt(s.numel), true);
      w(n);
      w(bytesOf(s.bytes));
    }
  } finally {
    closeSync(fd);
  }
}

function baseConfig(): BertConfig {
  const file = fixture('base', 'hf', 'config.json');
  return parseHfConfig(file, JSON.parse(readFileSync(file, 'utf8'))).config;
}

/** The fixture files copied beside each weights file: [source, name in the folder]. */
const copiedFiles = (): [string, string][] => [
  ...['config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f): [string, string] => [
    fixture('base', 'hf', f),
    f,
  ]),
  [fixture('vocab.txt'), 'vocab.txt'],
];

/** What the folders are made from: the writers' sources and the copied fixture files. */
const sourceKey = (): string =>
  filesKey([
    ...WRITERS.map((f): [string, string] => [f, join(ROOT, f)]),
    ...copiedFiles().map(([src, name]): [string, string] => [`fixture:${name}`, src]),
  ]);

export const cacheDir = (): string =>
  join(
    process.env.SBERT_TEST_CACHE_DIR ?? tmpdir(),
    'sbert-tfjs-bench',
    `bert-base-synthetic-v${CACHE_VERSION}-${sourceKey()}`,
  );

/** The synthetic BERT-base folders, written on first use (a `.partial` name until complete). */
export function syntheticBertBase(log: (m: string) => void = () => {}): SyntheticModel {
  const config = baseConfig();
  const root = cacheDir();
  const names: Record<CheckpointFormat, string> = {
    safetensors: 'model.safetensors',
    'torch-zip': 'pytorch_model.bin',
    'torch-legacy': 'pytorch_model.bin',
  };
  const dirs = {} as Record<CheckpointFormat, string>;
  const files = {} as Record<CheckpointFormat, string>;
  let writeS = 0;
  for (const format of FORMATS) {
    const dir = join(root, format);
    const file = join(dir, names[format]);
    dirs[format] = dir;
    files[format] = file;
    if (existsSync(file)) continue;
    mkdirSync(dir, { recursive: true });
    // Copied as new files: the fixtures are read-only, and copyFileSync would carry that mode over.
    for (const [src, name] of copiedFiles())
      if (!existsSync(join(dir, name))) writeFileSync(join(dir, name), readFileSync(src));
    log(`writing synthetic BERT-base ${format} to ${file}`);
    const t0 = performance.now();
    const tmp = `${file}.partial`;
    const tensors = synthTensorsToWrite(config, 'f32');
    if (format === 'safetensors') writeSafetensors(tmp, tensors, { format: 'pt' });
    else {
      const state = contiguousState(tensors);
      if (format === 'torch-zip') writeTorchZip(tmp, state.storages, state.tensors);
      else writeTorchLegacy(tmp, state.storages, state.tensors);
    }
    renameSync(tmp, file);
    writeS += (performance.now() - t0) / 1000;
  }
  pruneStale(dirname(root), 'bert-base-synthetic', root);
  return { config, dirs, files, writeS };
}

export const fileBytes = (file: string): number => statSync(file).size;
