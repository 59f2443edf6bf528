// The page's side of the wire (src/ui/tensor.ts) against the server's (wireTensor): every float32 bit pattern
// comes back as it went, and a tensor whose bytes do not fill its shape is refused.
import { describe, expect, it } from 'vitest';
import { wireTensor } from '../../src/server/explorer/input.js';
import { decodeTensor, f32 } from '../../src/ui/tensor.js';

describe('tensors on the wire', () => {
  it('round-trips every value, special ones included, with its shape', () => {
    const values = Float32Array.from([0, -0, 1, -1.5, 3.4028234663852886e38, 1.4e-45, Number.NaN, Infinity, -Infinity]);
    const random = Float32Array.from({ length: 6 * 7 }, (_, i) => Math.fround(Math.sin(i * 12.9898) * 43758.5453));
    for (const [v, shape] of [
      [values, [3, 3]],
      [random, [2, 3, 7]],
    ] as const) {
      const t = decodeTensor(wireTensor(v, [...shape]));
      expect(t.shape).toEqual(shape);
      expect(new Uint32Array(t.values.buffer, t.values.byteOffset, t.values.length)).toEqual(new Uint32Array(v.buffer));
    }
  });

  it('refuses bytes that do not fill the shape', () => {
    const w = wireTensor(Float32Array.from([1, 2, 3, 4]), [2, 2]);
    expect(() => decodeTensor({ ...w, shape: [3, 2] })).toThrow(/shape \[3,2\] came with 4 values/);
    expect(() => decodeTensor({ ...w, data: Buffer.from([1, 2, 3]).toString('base64') })).toThrow(/3 bytes/);
  });

  it('f32 prints nine significant digits at most, enough to read back as the same float32', () => {
    for (const x of [0.1, 1 / 3, 0.03722159191966057, 1e-7, 123456.789, -2.8621094]) {
      const shown = f32(Math.fround(x));
      expect(Math.fround(Number(shown))).toBe(Math.fround(x));
      expect(shown.replace(/e.*$/, '').replace(/[-.]/g, '').replace(/^0+/, '').length).toBeLessThanOrEqual(9);
    }
    expect(f32(0.5)).toBe('0.5');
    expect(f32(Number.NaN)).toBe('NaN');
  });
});
