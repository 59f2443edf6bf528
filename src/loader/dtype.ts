// Element types we accept in checkpoints, and their decoding to float32 / int32.
import { CheckpointError } from '../errors.js';

export type DType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
export const DTYPE_SIZE: Record<DType, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
export const FLOAT_DTYPES: readonly DType[] = ['F32', 'F16', 'BF16', 'F64'];

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.hasOwn(DTYPE_SIZE, s);
}

// Exact IEEE half → float32 (subnormals, ±inf and NaN included) via a 65 536-entry table.
let halfTable: Float32Array | undefined;
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v: number;
    if (exp === 0) v = sign * frac * 2 ** -24;
    else if (exp === 31) v = frac ? NaN : sign * Infinity;
    else v = sign * (1 + frac / 1024) * 2 ** (exp - 15);
    halfTable[h] = v;
  }
  return halfTable;
}

/** Little-endian bytes of `dtype` → a fresh or aliased Float32Array (F32 aligned input is not copied). */
export function decodeFloat32(bytes: Uint8Array, dtype: DType, file: string, name: string): Float32Array {
  const n = bytes.byteLength / DTYPE_SIZE[dtype];
  switch (dtype) {
    case 'F32':
      if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      return new Float32Array(bytes.slice().buffer);
    case 'F16': {
      const table = halfToFloatTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
      return out;
    }
    case 'BF16': {
      // bf16 is the top half of a float32: shift into place, reinterpret.
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = ((bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16) >>> 0;
      return out;
    }
    case 'F64': {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    }
    default:
      throw new CheckpointError(`tensor ${name} has integer dtype ${dtype}, expected a float type`, file);
  }
}

/** Little-endian integer bytes → Int32Array (I64 values must fit in int32). */
export function decodeInt32(bytes: Uint8Array, dtype: DType, file: string, name: string): Int32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'I32') {
    const out = new Int32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(4 * i, true);
    return out;
  }
  if (dtype === 'I64') {
    const out = new Int32Array(bytes.byteLength / 8);
    for (let i = 0; i < out.length; i++) {
      const v = dv.getBigInt64(8 * i, true);
      if (v > 2147483647n || v < -2147483648n) {
        throw new CheckpointError(`tensor ${name} holds ${v}, which does not fit in int32`, file);
      }
      out[i] = Number(v);
    }
    return out;
  }
  if (dtype === 'I16' || dtype === 'I8' || dtype === 'U8' || dtype === 'BOOL') {
    const out = new Int32Array(bytes.byteLength / DTYPE_SIZE[dtype]);
    for (let i = 0; i < out.length; i++) {
      out[i] = dtype === 'I16' ? dv.getInt16(2 * i, true) : dtype === 'I8' ? dv.getInt8(i) : dv.getUint8(i);
    }
    return out;
  }
  // Float tensors used as ids (some reference files): round-trip exact integers only.
  const f = decodeFloat32(bytes, dtype, file, name);
  const out = new Int32Array(f.length);
  for (let i = 0; i < f.length; i++) {
    if (!Number.isInteger(f[i])) throw new CheckpointError(`tensor ${name} is not integral`, file);
    out[i] = f[i]!;
  }
  return out;
}

// float32 → half / bfloat16 bits, round to nearest even (what torch's `.half()` / `.bfloat16()` do).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toBFloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff; // NaN stays (quiet) NaN
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function toFloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow → ±inf
  if (e <= 0) {
    // subnormal half (or zero): shift the implicit-1 mantissa right, rounding to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  return sign | (half + (rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0));
}
