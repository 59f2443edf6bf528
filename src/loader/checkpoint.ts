// One entry point for a weights file, whatever its container: sniffed from the first bytes.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError, InputError } from '../errors.js';
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
    if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return readTorchZip(src);
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
      throw new CheckpointError(`not a safetensors, torch zip or legacy torch file (starts with ${hex}; as safetensors: ${(stErr as Error).message.replace(`${src.name}: `, '')})`, src.name);
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
 * names, for every tensor, the shard file beside the index that holds it.
 */
export function openShardedCheckpoint(indexFile: string): Checkpoint {
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code})`, indexFile);
    throw new CheckpointError(`not valid JSON (${(e as Error).message})`, indexFile);
  }
  const map = weightMap(index, indexFile);
  const shards = new Map<string, Checkpoint>();
  const tensors = new Map<string, TensorEntry>();
  const closeAll = () => {
    for (const c of shards.values()) c.close();
  };
  try {
    for (const [name, shard] of map) {
      let c = shards.get(shard);
      if (!c) {
        c = openCheckpoint(join(dirname(indexFile), shard));
        shards.set(shard, c);
      }
      const t = c.tensors.get(name);
      if (!t) throw new CheckpointError(`tensor ${name} is not in its shard ${shard}`, indexFile);
      tensors.set(name, t);
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
