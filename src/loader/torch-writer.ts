// Writes torch.save-compatible checkpoints (zip format, stored entries, optionally Zip64) from raw storages.
// Used by tests (malformed-input suite), benchmarks (400 MB synthetic checkpoints) and anyone exporting a
// state dict for PyTorch. Kept apart from the readers: nothing on the load path imports it.
import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import { DTYPE_SIZE, type DType } from './dtype.js';
import { concatBytes } from './bytes.js';

/** Emits pickle opcodes (protocol 2), the way CPython's pickler does for torch state dicts. */
export class PickleWriter {
  private parts: number[] = [];
  private memo = 0;
  raw(...bytes: number[]): this {
    for (const b of bytes) this.parts.push(b);
    return this;
  }
  private u32(n: number): this {
    return this.raw(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  proto(v = 2): this {
    return this.raw(0x80, v);
  }
  mark(): this {
    return this.raw(0x28);
  }
  global(module: string, name: string): this {
    this.raw(0x63);
    for (const c of `${module}\n${name}\n`) this.raw(c.charCodeAt(0));
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.raw(0x58).u32(b.length);
    for (const x of b) this.raw(x);
    return this;
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.raw(0x4a).u32(n >>> 0);
    // LONG1, 8 bytes little-endian two's complement
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
    return this.raw(0x8a, 8, ...b);
  }
  tuple(items: number): this {
    if (items === 0) return this.raw(0x29);
    if (items <= 3) return this.raw(0x84 + items);
    throw new Error('use mark() … tupleMark() for longer tuples');
  }
  tupleMark(): this {
    return this.raw(0x74);
  }
  none(): this {
    return this.raw(0x4e);
  }
  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89);
  }
  put(): this {
    const i = this.memo++;
    return i < 256 ? this.raw(0x71, i) : this.raw(0x72).u32(i);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  persid(): this {
    return this.raw(0x51);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface TorchStorage {
  key: string;
  dtype: DType;
  numel: number;
  /** Little-endian bytes, or a function producing them when the writer reaches this storage. */
  bytes: Uint8Array | (() => Uint8Array);
}

export interface TorchTensor {
  name: string;
  storage: string;
  offset: number;
  shape: number[];
  stride: number[];
}

const STORAGE_NAMES: Partial<Record<DType, string>> = {
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  F64: 'DoubleStorage',
  I64: 'LongStorage',
  I32: 'IntStorage',
};

export function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/** The `data.pkl` torch writes for an OrderedDict of tensors (zip format; `legacy` adds the view slot). */
export function statePickle(
  storages: readonly TorchStorage[],
  tensors: readonly TorchTensor[],
  legacy = false,
): Uint8Array {
  const byKey = new Map(storages.map((s) => [s.key, s]));
  const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').put().tuple(0).reduce().put().mark();
  for (const t of tensors) {
    const s = byKey.get(t.storage);
    if (!s) throw new Error(`tensor ${t.name}: no storage ${t.storage}`);
    w.str(t.name).put().global('torch._utils', '_rebuild_tensor_v2').put().mark();
    w.mark()
      .str('storage')
      .global('torch', STORAGE_NAMES[s.dtype] ?? `${s.dtype}Storage`)
      .str(s.key)
      .str('cpu')
      .int(s.numel);
    if (legacy) w.none();
    w.tupleMark().persid().int(t.offset);
    w.mark();
    for (const d of t.shape) w.int(d);
    w.tupleMark().mark();
    for (const d of t.stride) w.int(d);
    w.tupleMark().bool(false).global('collections', 'OrderedDict').tuple(0).reduce().tupleMark().reduce().put();
  }
  return w.setitems().stop().bytes();
}

interface ZipOptions {
  /** Archive folder (torch uses the file's stem). */
  prefix?: string;
  /** Write Zip64 records even when not needed (to exercise readers). */
  zip64?: boolean;
  /** Extra entries (name relative to the prefix, or absolute with a leading '/') → bytes. */
  extra?: Record<string, Uint8Array>;
  byteorder?: string;
  /** Replaces the generated data.pkl (to write malformed or hostile pickles in tests). */
  dataPkl?: Uint8Array;
  /** Deflate every entry (torch never does; a checkpoint re-zipped with zipfile.ZIP_DEFLATED does). */
  deflate?: boolean;
}

/** Streams a torch zip checkpoint: local headers without sizes (bit 3 + data descriptors), as torch does. */
export function writeTorchZip(
  file: string,
  storages: readonly TorchStorage[],
  tensors: readonly TorchTensor[],
  opts: ZipOptions = {},
): void {
  const prefix = opts.prefix ?? 'archive';
  const zip64 = opts.zip64 ?? false;
  const enc = new TextEncoder();
  const fd = openSync(file, 'w');
  let pos = 0;
  const write = (b: Uint8Array) => {
    let done = 0;
    while (done < b.byteLength) done += writeSync(fd, b, done, b.byteLength - done);
    pos += b.byteLength;
  };
  const central: { name: Uint8Array; crc: number; size: number; stored: number; offset: number }[] = [];
  const method = opts.deflate ? 8 : 0;
  const entry = (name: string, data: Uint8Array) => {
    const body = opts.deflate ? new Uint8Array(deflateRawSync(data)) : data;
    // Names starting with '/' are written as they are (outside the archive folder).
    const nameBytes = enc.encode(name.startsWith('/') ? name.slice(1) : `${prefix}/${name}`);
    const offset = pos;
    // Pad so data starts 64-byte aligned, like torch's .storage_alignment (an extra field of zeros).
    let pad = (64 - ((pos + 30 + nameBytes.length + 4) % 64)) % 64;
    const h = new DataView(new ArrayBuffer(30));
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(4, zip64 ? 45 : 20, true);
    h.setUint16(6, 0x08, true); // sizes in the data descriptor
    h.setUint16(8, method, true);
    h.setUint16(26, nameBytes.length, true);
    h.setUint16(28, pad + 4, true);
    write(new Uint8Array(h.buffer));
    write(nameBytes);
    const ex = new Uint8Array(pad + 4);
    new DataView(ex.buffer).setUint16(0, 0x4646, true); // 'FF', torch's padding id
    new DataView(ex.buffer).setUint16(2, pad, true);
    write(ex);
    write(body);
    const crc = crc32(data) >>> 0;
    const dd = new DataView(new ArrayBuffer(zip64 ? 24 : 16));
    dd.setUint32(0, 0x08074b50, true);
    dd.setUint32(4, crc, true);
    if (zip64) {
      dd.setBigUint64(8, BigInt(body.byteLength), true);
      dd.setBigUint64(16, BigInt(data.byteLength), true);
    } else {
      dd.setUint32(8, body.byteLength, true);
      dd.setUint32(12, data.byteLength, true);
    }
    write(new Uint8Array(dd.buffer));
    central.push({ name: nameBytes, crc, size: data.byteLength, stored: body.byteLength, offset });
    pad = 0;
  };
  try {
    entry('data.pkl', opts.dataPkl ?? statePickle(storages, tensors));
    if (opts.byteorder !== '') entry('byteorder', enc.encode(opts.byteorder ?? 'little'));
    for (const [n, b] of Object.entries(opts.extra ?? {})) entry(n, b);
    for (const s of storages) {
      const b = typeof s.bytes === 'function' ? s.bytes() : s.bytes;
      if (b.byteLength !== s.numel * DTYPE_SIZE[s.dtype])
        throw new Error(`storage ${s.key}: ${b.byteLength} bytes for ${s.numel} × ${s.dtype}`);
      entry(`data/${s.key}`, b);
    }
    entry('version', enc.encode('3\n'));
    const cdStart = pos;
    for (const c of central) {
      const big = zip64 || c.size >= 0xffffffff || c.offset >= 0xffffffff;
      const h = new DataView(new ArrayBuffer(46));
      h.setUint32(0, 0x02014b50, true);
      h.setUint16(4, big ? 45 : 20, true);
      h.setUint16(6, big ? 45 : 20, true);
      h.setUint16(8, 0x08, true);
      h.setUint16(10, method, true);
      h.setUint32(16, c.crc, true);
      h.setUint32(20, big ? 0xffffffff : c.stored, true);
      h.setUint32(24, big ? 0xffffffff : c.size, true);
      h.setUint16(28, c.name.length, true);
      h.setUint16(30, big ? 28 : 0, true);
      h.setUint32(42, big ? 0xffffffff : c.offset, true);
      write(new Uint8Array(h.buffer));
      write(c.name);
      if (big) {
        const x = new DataView(new ArrayBuffer(28));
        x.setUint16(0, 0x0001, true);
        x.setUint16(2, 24, true);
        x.setBigUint64(4, BigInt(c.size), true);
        x.setBigUint64(12, BigInt(c.stored), true);
        x.setBigUint64(20, BigInt(c.offset), true);
        write(new Uint8Array(x.buffer));
      }
    }
    const cdSize = pos - cdStart;
    const big = zip64 || cdStart >= 0xffffffff || central.length >= 0xffff;
    if (big) {
      const z = new DataView(new ArrayBuffer(56 + 20));
      const recOffset = pos;
      z.setUint32(0, 0x06064b50, true);
      z.setBigUint64(4, 44n, true);
      z.setUint16(12, 45, true);
      z.setUint16(14, 45, true);
      z.setBigUint64(24, BigInt(central.length), true);
      z.setBigUint64(32, BigInt(central.length), true);
      z.setBigUint64(40, BigInt(cdSize), true);
      z.setBigUint64(48, BigInt(cdStart), true);
      z.setUint32(56, 0x07064b50, true);
      z.setBigUint64(64, BigInt(recOffset), true);
      z.setUint32(72, 1, true);
      write(new Uint8Array(z.buffer));
    }
    const e = new DataView(new ArrayBuffer(22));
    e.setUint32(0, 0x06054b50, true);
    e.setUint16(8, big ? 0xffff : central.length, true);
    e.setUint16(10, big ? 0xffff : central.length, true);
    e.setUint32(12, big ? 0xffffffff : cdSize, true);
    e.setUint32(16, big ? 0xffffffff : cdStart, true);
    write(new Uint8Array(e.buffer));
  } finally {
    closeSync(fd);
  }
}

/** Contiguous tensors, one storage each (what `torch.save(model.state_dict())` usually gives). */
export function contiguousState(
  tensors: readonly { name: string; shape: number[]; dtype?: DType; bytes: Uint8Array | (() => Uint8Array) }[],
): {
  storages: TorchStorage[];
  tensors: TorchTensor[];
} {
  const storages: TorchStorage[] = [];
  const out: TorchTensor[] = [];
  tensors.forEach((t, i) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    storages.push({ key: String(i), dtype: t.dtype ?? 'F32', numel, bytes: t.bytes });
    out.push({ name: t.name, storage: String(i), offset: 0, shape: t.shape, stride: rowMajorStrides(t.shape) });
  });
  return { storages, tensors: out };
}

/** The legacy (pre-1.6) format: magic, protocol, sys_info, object and storage-key pickles, then the storages. */
export function legacyBytes(storages: readonly TorchStorage[], tensors: readonly TorchTensor[]): Uint8Array {
  const magic = new PickleWriter()
    .proto(2)
    .raw(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19)
    .stop()
    .bytes();
  const proto = new PickleWriter().proto(2).int(1001).stop().bytes();
  const sys = new PickleWriter()
    .proto(2)
    .raw(0x7d)
    .mark()
    .str('protocol_version')
    .int(1001)
    .str('little_endian')
    .bool(true)
    .str('type_sizes')
    .raw(0x7d)
    .mark()
    .str('short')
    .int(2)
    .str('int')
    .int(4)
    .str('long')
    .int(4)
    .setitems()
    .setitems()
    .stop()
    .bytes();
  const obj = statePickle(storages, tensors, true);
  const keys = new PickleWriter().proto(2).raw(0x5d).mark();
  for (const s of storages) keys.str(s.key);
  const keyBytes = keys.raw(0x65).stop().bytes();
  const parts: Uint8Array[] = [magic, proto, sys, obj, keyBytes];
  for (const s of storages) {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigInt64(0, BigInt(s.numel), true);
    parts.push(count, typeof s.bytes === 'function' ? s.bytes() : s.bytes);
  }
  return concatBytes(parts);
}
