import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { splitByLength } from '../../src/model/batching.js';

const padded = (lengths: number[], chunks: [number, number][]): number =>
  chunks.reduce((s, [a, b]) => s + (b - a) * Math.max(...lengths.slice(a, b)), 0);

describe('splitByLength', () => {
  it('splits off the long head of a sorted batch and keeps uniform rows together', () => {
    const lengths = [29, 25, 24, 22, 21, 21, 21, 21, 20, 20, 19, 19, 18, 18, 18, 17, ...Array(16).fill(16)];
    const chunks = splitByLength(lengths);
    expect(chunks[0]![0]).toBe(0);
    expect(chunks.at(-1)![1]).toBe(32);
    expect(padded(lengths, chunks)).toBeLessThan(0.8 * 32 * 29);
    expect(splitByLength(Array(32).fill(10))).toEqual([[0, 32]]);
  });

  it('always covers every row once, in order, and never pads more than one batch would', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 512 }), { minLength: 1, maxLength: 64 }), (raw) => {
        const lengths = [...raw].sort((a, b) => b - a);
        const chunks = splitByLength(lengths);
        let next = 0;
        for (const [a, b] of chunks) {
          expect(a).toBe(next);
          expect(b).toBeGreaterThan(a);
          next = b;
        }
        expect(next).toBe(lengths.length);
        expect(padded(lengths, chunks) + 4 * chunks.length).toBeLessThanOrEqual(lengths.length * lengths[0]! + 4);
      }),
    );
  });
});
