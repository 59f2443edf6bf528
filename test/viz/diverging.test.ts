// The attribution pictures' colour map: ColorBrewer RdBu on a symmetric scale, readable text on every colour.
import { describe, expect, it } from 'vitest';
import { divergingColor, symmetricScale, textColorOn } from '../../src/viz/diverging.js';

const luminance = ([r, g, b]: number[]): number => 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;

describe('diverging colour map', () => {
  it("0 is RdBu's near-white middle, ±scale its dark ends: blue for negative, red for positive", () => {
    expect(divergingColor(0, 1)).toEqual([247, 247, 247]);
    expect(divergingColor(-2, 2)).toEqual([5, 48, 97]);
    expect(divergingColor(0.5, 0.5)).toEqual([103, 0, 31]);
    // beyond the scale: the ends; NaN and a zero scale: the middle
    expect(divergingColor(-9, 1)).toEqual([5, 48, 97]);
    expect(divergingColor(Number.NaN, 1)).toEqual([247, 247, 247]);
    expect(divergingColor(3, 0)).toEqual([247, 247, 247]);
    const [r, , b] = divergingColor(0.3, 1);
    expect(r).toBeGreaterThan(b);
    const [r2, , b2] = divergingColor(-0.3, 1);
    expect(b2).toBeGreaterThan(r2);
  });

  it('darker as |score| grows, on either side, so size reads the same way in both colours', () => {
    for (const sign of [-1, 1]) {
      let last = Infinity;
      for (let i = 0; i <= 20; i++) {
        const l = luminance(divergingColor((sign * i) / 20, 1));
        expect(l).toBeLessThan(last + 1e-9);
        last = l;
      }
    }
  });

  it('symmetric scale: the largest magnitude, 1 when there is none', () => {
    expect(symmetricScale([0.1, -0.4, 0.2])).toBe(0.4);
    expect(symmetricScale([0, 0])).toBe(1);
    expect(symmetricScale([Number.NaN, 0.5])).toBe(0.5);
  });

  it('token text is white on the dark ends and black on the light middle', () => {
    expect(textColorOn(divergingColor(1, 1))).toBe('#fff');
    expect(textColorOn(divergingColor(-1, 1))).toBe('#fff');
    expect(textColorOn(divergingColor(0, 1))).toBe('#000');
    expect(textColorOn(divergingColor(0.3, 1))).toBe('#000');
  });
});
