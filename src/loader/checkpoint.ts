// One entry point for a weights file, whatever its container: sniffed from the first bytes.
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { readJsonFile } from '../io/json.js';
import { decodeFloat32 } from './dtype.js';
import { readSafetensorsHeader } from './safetensors.js';
import { type ByteSource, FileSource } from './source.js';
import type { Checkpoint, TensorEntry } from './tensor.js';
import { readTorchLegacy, readTorchZip } from './torch.js';
import { isShardIndex, weightMap } from './weight-files.js';

export function readSafetensorsCheckpoint(src: ByteSource): Checkpoint {
  const { metadata, entries, dataStart } = readSafetensorsHeader(src);
  const tensors = new Map<string, TensorEntry>();
  for (const e of entries) {
    tensors.set(e.name, {
      name: e.name,
      dtype: e.dtype,
      shape: e.shape,
      float32: () => decodeFloat32(src.read(dataStart + e.start, e.end - e.start, true), e.dtype, src.name, e.name),
    });
  }
  return { file: src.name, format: 'safetensors', tensors, metadata, close: () => src.close() };
}

/** Opens `src` as safetensors, torch zip or legacy torch, by content (the file name only breaks ties). */
export function openCheckpointSource(src: ByteSource): Checkpoint {
  try {
    if (src.size === 0) throw new CheckpointError('file is empty', src.name);
    const head = src.read(0, Math.min(4, src.size));
    if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04)
      return readTorchZip(src);
    if (head[0] === 0x80 && (head[1] ?? 0) <= 5) return readTorchLegacy(src);
    if (src.name.endsWith('.safetensors')) return readSafetensorsCheckpoint(src);
    // Unknown first bytes and no .safetensors name: a zip whose first entry is damaged still has its
    // central directory at the end, so try that before reading the bytes as a safetensors header.
    try {
      return readTorchZip(src);
    } catch (zipErr) {
      if (!(zipErr instanceof CheckpointError) || !/no end-of-central-directory/.test(zipErr.message)) throw zipErr;
    }
    try {
      return readSafetensorsCheckpoint(src);
    } catch (stErr) {
      const hex = [...head].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new CheckpointError(
        `not a safetensors, torch zip or legacy torch file (starts with ${hex}; as safetensors: ${(stErr as Error).message.replace(`${src.name}: `, '')})`,
        src.name,
      );
    }
  } catch (e) {
    src.close();
    if (e instanceof CheckpointError) throw e;
    if (e instanceof RangeError) throw new CheckpointError(`malformed file (${e.message})`, src.name);
    throw e;
  }
}

export function openCheckpoint(file: string): Checkpoint {
  if (isShardIndex(file)) return openShardedCheckpoint(file);
  return openCheckpointSource(new FileSource(file));
}

/**
 * A sharded checkpoint (`model.safetensors.index.json` / `pytorch_model.bin.index.json`): its `weight_map`
 * names, for every tensor, the shard file beside the index that holds it. Shards are weight files, never
 * indexes (so an index cannot name itself or loop), each a distinct file, and no tensor may live in two.
 */
export function openShardedCheckpoint(indexFile: string): Checkpoint {
  const map = weightMap(readJsonFile(indexFile), indexFile);
  const shards = new Map<string, Checkpoint>();
  const tensors = new Map<string, TensorEntry>();
  const closeAll = () => {
    for (const c of shards.values()) c.close();
  };
  try {
    const files = new Map<string, string>(); // device:inode → shard name
    for (const [name, shard] of map) {
      let c = shards.get(shard);
      if (!c) {
        const path = join(dirname(indexFile), shard);
        c = openCheckpointSource(new FileSource(path));
        shards.set(shard, c);
        const st = statSync(path);
        const id = `${st.dev}:${st.ino}`;
        const twin = files.get(id);
        if (twin !== undefined) throw new CheckpointError(`shards ${twin} and ${shard} are the same file`, indexFile);
        files.set(id, shard);
      }
      const t = c.tensors.get(name);
      if (!t) throw new CheckpointError(`tensor ${name} is not in its shard ${shard}`, indexFile);
      tensors.set(name, t);
    }
    // A tensor in two shards would be read from whichever the map names: refuse the ambiguity.
    const home = new Map<string, string>();
    for (const [shard, c] of shards) {
      for (const name of c.tensors.keys()) {
        const other = home.get(name);
        if (other !== undefined) {
          throw new CheckpointError(`tensor ${name} is in two shards, ${other} and ${shard}`, indexFile);
        }
        home.set(name, shard);
      }
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  const formats = new Set([...shards.values()].map((c) => c.format));
  if (formats.size > 1) {
    closeAll();
    throw new CheckpointError(`shards mix formats (${[...formats].join(', ')})`, indexFile);
  }
  return { file: indexFile, format: [...formats][0] ?? 'safetensors', tensors, metadata: {}, close: closeAll };
}
