// safetensors reader (https://huggingface.co/docs/safetensors): 8-byte LE header length, a JSON header,
// then the tensors' bytes. Everything is validated before any offset is trusted, as the Rust reference does.
import { readFileSync } from 'node:fs';
import { CheckpointError, InputError } from '../errors.js';
import { DTYPE_SIZE, type DType, isDType } from './dtype.js';

export const MAX_HEADER_BYTES = 100_000_000;

export interface RawTensor {
  name: string;
  dtype: DType;
  shape: number[];
  /** The tensor's bytes (a view into the file buffer, little-endian). */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  file: string;
  metadata: Record<string, string>;
  /** In file order. */
  tensors: Map<string, RawTensor>;
}

export function readFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`, file);
  }
}

export function readSafetensors(file: string): SafetensorsFile {
  return parseSafetensors(readFile(file), file);
}

export function parseSafetensors(buf: Uint8Array, file: string): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new CheckpointError(`invalid safetensors: ${msg}`, file);
  };
  if (buf.byteLength < 8) fail(`file is ${buf.byteLength} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds ${MAX_HEADER_BYTES} bytes`);
  const headerLen = Number(n);
  if (8 + headerLen > buf.byteLength) fail(`header length ${headerLen} runs past the end of the ${buf.byteLength}-byte file`);

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not UTF-8 JSON (${e instanceof Error ? e.message : e})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: DType; shape: number[]; start: number; end: number }[] = [];

  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (typeof info !== 'object' || info === null) fail(`entry ${name} is not an object`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (!isDType(dtype)) fail(`tensor ${name} has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor ${name} has invalid shape ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(`tensor ${name} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const dims = shape as number[];
    const [start, end] = offsets as [number, number];
    let numel = 1;
    for (const d of dims) {
      numel *= d;
      if (!Number.isSafeInteger(numel * 8)) fail(`tensor ${name} has an overflowing shape [${dims}]`);
    }
    const size = numel * DTYPE_SIZE[dtype as DType];
    if (end - start !== size) {
      fail(`tensor ${name}: data_offsets span ${end - start} bytes but shape [${dims}] × ${dtype} needs ${size}`);
    }
    entries.push({ name, dtype: dtype as DType, shape: dims, start, end });
  }

  // Offsets must tile the data section exactly: contiguous from 0, no gaps, no overlap, nothing left over.
  entries.sort((a, b) => a.start - b.start || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.start !== expected) fail(`tensor ${e.name} starts at ${e.start}, expected ${expected} (offsets must be contiguous)`);
    expected = e.end;
  }
  if (expected !== dataLen) {
    fail(`tensors cover ${expected} bytes but the data section is ${dataLen} bytes${expected > dataLen ? ' (file truncated?)' : ''}`);
  }

  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, bytes: buf.subarray(dataStart + e.start, dataStart + e.end) });
  }
  return { file, metadata, tensors };
}
