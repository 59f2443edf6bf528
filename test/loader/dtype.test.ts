// float32 ↔ half / bfloat16: exact decode (subnormals, ±inf, NaN), round-to-nearest-even encode.
import { describe, expect, it } from 'vitest';
import { decodeFloat32, decodeInt32, toBFloat16Bits, toFloat16Bits } from '../../src/loader/dtype.js';
import { CheckpointError } from '../../src/errors.js';

const halfBytes = (h: number[]) => new Uint8Array(new Uint16Array(h).buffer);

describe('half precision', () => {
  it('decodes special halves exactly', () => {
    const v = decodeFloat32(
      halfBytes([0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00, 0x7e00]),
      'F16',
      'f',
      't',
    );
    expect([...v]).toEqual([0, -0, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 1, -2, 65504, Infinity, -Infinity, NaN]);
  });

  it('round-trips all 65 536 half bit patterns (NaNs stay NaN)', () => {
    const all = Array.from({ length: 65536 }, (_, i) => i);
    const v = decodeFloat32(halfBytes(all), 'F16', 'f', 't');
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const back = toFloat16Bits(v[h]!);
      if (Number.isNaN(v[h]) ? (back & 0x7c00) !== 0x7c00 || !(back & 0x3ff) : back !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds float32 to half to nearest, ties to even, with overflow to inf and subnormal underflow', () => {
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(toFloat16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(toFloat16Bits(65520)).toBe(0x7c00); // rounds up past the largest half
    expect(toFloat16Bits(65519)).toBe(0x7bff);
    expect(toFloat16Bits(2 ** -25)).toBe(0x0000); // tie with 0 → even
    expect(toFloat16Bits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(toFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // subnormal tie → even
    expect(toFloat16Bits(-1e-30)).toBe(0x8000);
    expect(toFloat16Bits(NaN) & 0x7e00).toBe(0x7e00);
  });
});

describe('bfloat16', () => {
  it('decodes by shifting into the top half of a float32', () => {
    expect([...decodeFloat32(halfBytes([0x3f80, 0xbf80, 0x7f80, 0x0001]), 'BF16', 'f', 't')]).toEqual([
      1,
      -1,
      Infinity,
      2 ** -133,
    ]);
  });
  it('rounds to nearest even', () => {
    const bits = (x: number) => toBFloat16Bits(x);
    expect(bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(bits(3.4028234663852886e38)).toBe(0x7f80); // max float32 rounds to inf
    expect(bits(NaN) & 0x7fc0).toBe(0x7fc0);
  });
});

describe('integers', () => {
  it('decodes I64 within int32 and refuses what does not fit', () => {
    const b = new Uint8Array(new BigInt64Array([5n, -7n]).buffer);
    expect([...decodeInt32(b, 'I64', 'f', 't')]).toEqual([5, -7]);
    expect(() => decodeInt32(new Uint8Array(new BigInt64Array([2n ** 40n]).buffer), 'I64', 'f', 't')).toThrow(
      CheckpointError,
    );
    expect(() => decodeFloat32(b, 'I64', 'f', 'ids')).toThrow(/integer dtype I64/);
  });
});
