// One entry point for a weights file, whatever its container: sniffed from the first bytes.
import { CheckpointError } from '../errors.js';
import { decodeFloat32 } from './dtype.js';
import { readSafetensorsHeader } from './safetensors.js';
import { type ByteSource, FileSource } from './source.js';
import type { Checkpoint, TensorEntry } from './tensor.js';
import { readTorchLegacy, readTorchZip } from './torch.js';

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

/** Opens `src` as safetensors, torch zip or legacy torch, by content (not by file name). */
export function openCheckpointSource(src: ByteSource): Checkpoint {
  try {
    const head = src.read(0, Math.min(4, src.size));
    if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return readTorchZip(src);
    if (head.length >= 2 && head[0] === 0x80 && head[1]! <= 5) return readTorchLegacy(src);
    if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b) return readTorchZip(src);
    return readSafetensorsCheckpoint(src);
  } catch (e) {
    src.close();
    if (e instanceof CheckpointError) throw e;
    if (e instanceof RangeError) throw new CheckpointError(`malformed file (${e.message})`, src.name);
    throw e;
  }
}

export function openCheckpoint(file: string): Checkpoint {
  return openCheckpointSource(new FileSource(file));
}
