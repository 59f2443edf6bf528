// safetensors (https://huggingface.co/docs/safetensors): 8-byte LE header length, a JSON header,
// then the tensors' bytes. Everything is validated before any offset is trusted, as the Rust reference does:
// header ≤ 100 MB, UTF-8 JSON object, known dtypes, `end - start = numel × size`, offsets tiling the data
// section from 0 with no gap or overlap, and the data section exactly filling the file.
import { closeSync, openSync, writeSync } from 'node:fs';
import { CheckpointError, InputError } from '../errors.js';
import { DTYPE_SIZE, type DType, isDType } from './dtype.js';
import type { ByteSource } from './source.js';
import { concatBytes } from './bytes.js';
import { jsonSyntaxMessage, MAX_JSON_DEPTH, scanJson } from '../io/json.js';
import { readFileOfKind } from '../io/read-file.js';

/**
 * The largest header we read (the format allows 100 MB; BERT-base's is 15 KB) and the most tensors one file may
 * list (a 70B LLM has ≈ 800 in all): both far above any real file, low enough that parsing stays small.
 */
export const MAX_HEADER_BYTES = 16 * 2 ** 20;
export const MAX_TENSORS = 16_384;

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

/** A validated header entry: the tensor's bytes are `[dataStart + start, dataStart + end)` of the file. */
export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  start: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** Sorted by offset. */
  entries: SafetensorsEntry[];
  dataStart: number;
}

/** A whole regular file in memory (safetensors read at once: references, small files). */
export function readFile(file: string): Uint8Array {
  return readFileOfKind(file, 'whole', 'file read whole');
}

export function readSafetensors(file: string): SafetensorsFile {
  return parseSafetensors(readFile(file), file);
}

function failer(file: string) {
  return (msg: string): never => {
    throw new CheckpointError(`invalid safetensors: ${msg}`, file);
  };
}

/** Reads and validates the header through `src` (only the first 8 + N bytes are read). */
export function readSafetensorsHeader(src: ByteSource): SafetensorsHeader {
  const fail = failer(src.name);
  if (src.size < 8) fail(`file is ${src.size} bytes, shorter than the 8-byte header length`);
  const lenBytes = src.read(0, 8);
  const n = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds ${MAX_HEADER_BYTES} bytes`);
  const headerLen = Number(n);
  if (8 + headerLen > src.size) fail(`header length ${headerLen} runs past the end of the ${src.size}-byte file`);
  return parseHeader(src.read(8, headerLen), src.size - 8 - headerLen, src.name);
}

function parseHeader(bytes: Uint8Array, dataLen: number, file: string): SafetensorsHeader {
  const fail = failer(file);
  let header: unknown;
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    fail(`header is not UTF-8 JSON (${e instanceof Error ? e.message : e})`);
  }
  // Counted before JSON.parse builds anything: a header of a million empty entries is refused, not parsed.
  const scan = scanJson(text, MAX_TENSORS + 1);
  if (scan.topLevelKeys > MAX_TENSORS + 1) fail(`header lists more than ${MAX_TENSORS} tensors`);
  if (scan.tooDeep) fail(`header is nested deeper than ${MAX_JSON_DEPTH} levels`);
  // JSON.parse keeps the last of two equal names: a second entry for a tensor would silently win.
  if (scan.duplicate !== undefined) fail(`duplicate entry ${scan.duplicate} in the header`);
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not UTF-8 JSON (${jsonSyntaxMessage(e)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        // defineProperty: a key named __proto__ stays a plain entry.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (typeof info !== 'object' || info === null) fail(`entry ${name} is not an object`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (!isDType(dtype))
      fail(`tensor ${name} has ${dtype === undefined ? 'no dtype' : `unsupported dtype ${JSON.stringify(dtype)}`}`);
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

  if (entries.length > MAX_TENSORS) fail(`header lists more than ${MAX_TENSORS} tensors`);
  entries.sort((a, b) => a.start - b.start || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.start !== expected)
      fail(`tensor ${e.name} starts at ${e.start}, expected ${expected} (offsets must be contiguous)`);
    expected = e.end;
  }
  if (expected !== dataLen) {
    fail(
      `tensors cover ${expected} bytes but the data section is ${dataLen} bytes${expected > dataLen ? ' (file truncated?)' : ''}`,
    );
  }
  return { metadata, entries, dataStart: 8 + bytes.byteLength };
}

export function parseSafetensors(buf: Uint8Array, file: string): SafetensorsFile {
  const fail = failer(file);
  if (buf.byteLength < 8) fail(`file is ${buf.byteLength} bytes, shorter than the 8-byte header length`);
  const n = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds ${MAX_HEADER_BYTES} bytes`);
  const headerLen = Number(n);
  if (8 + headerLen > buf.byteLength)
    fail(`header length ${headerLen} runs past the end of the ${buf.byteLength}-byte file`);
  const { metadata, entries, dataStart } = parseHeader(
    buf.subarray(8, 8 + headerLen),
    buf.byteLength - 8 - headerLen,
    file,
  );
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    tensors.set(e.name, {
      name: e.name,
      dtype: e.dtype,
      shape: e.shape,
      bytes: buf.subarray(dataStart + e.start, dataStart + e.end),
    });
  }
  return { file, metadata, tensors };
}

// ---- writer -------------------------------------------------------------------------------------------

export interface TensorToWrite {
  name: string;
  dtype: DType;
  shape: number[];
  /** Little-endian bytes, or a function producing them when the writer gets to this tensor (streaming). */
  bytes: Uint8Array | (() => Uint8Array);
}

function headerBytes(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || Object.hasOwn(header, t.name))
      throw new InputError(`duplicate or reserved tensor name ${t.name}`);
    const size = t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[t.dtype];
    // defineProperty: a tensor named __proto__ stays an entry.
    Object.defineProperty(header, t.name, {
      value: { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so the data section starts 8-byte aligned (the Rust writer does the same).
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

function tensorBytes(t: TensorToWrite): Uint8Array {
  const b = typeof t.bytes === 'function' ? t.bytes() : t.bytes;
  const size = t.shape.reduce((a, c) => a * c, 1) * DTYPE_SIZE[t.dtype];
  if (b.byteLength !== size)
    throw new InputError(
      `tensor ${t.name}: ${b.byteLength} bytes given, shape [${t.shape}] × ${t.dtype} needs ${size}`,
    );
  return b;
}

/** The whole file in memory (tests, small models). */
export function serializeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const parts = [headerBytes(tensors, metadata), ...tensors.map(tensorBytes)];
  return concatBytes(parts);
}

/** Streams the file: one tensor's bytes in memory at a time when `bytes` are functions. */
export function writeSafetensors(
  file: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): void {
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (e) {
    throw new InputError(`cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`, file);
  }
  try {
    const writeAll = (b: Uint8Array) => {
      let done = 0;
      while (done < b.byteLength) done += writeSync(fd, b, done, b.byteLength - done);
    };
    writeAll(headerBytes(tensors, metadata));
    for (const t of tensors) writeAll(tensorBytes(t));
  } finally {
    closeSync(fd);
  }
}
