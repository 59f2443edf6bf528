// Colour maps for values: viridis for quantities from 0 up (probabilities, norms) and ColorBrewer's RdBu for
// signed ones (blue negative, white 0, red positive, as `sbert explain` draws). Both stay readable with the
// common colour-vision deficiencies (d3-scale-chromatic's tables), and each is a 256-entry lookup table so a
// 512 × 512 map colours in a few milliseconds.
import { interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic';

export interface ColorMap {
  kind: 'sequential' | 'diverging';
  /** The values at the two ends of the scale (diverging: −m and +m). */
  lo: number;
  hi: number;
}

type Rgb = [number, number, number];

function table(f: (t: number) => string): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const m = /rgb\((\d+), ?(\d+), ?(\d+)\)/.exec(f(i / 255)) ?? /#(..)(..)(..)/.exec(f(i / 255));
    const parse = (s: string) => (s.length === 2 ? Number.parseInt(s, 16) : Number(s));
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = m ? parse(m[c + 1]!) : 0;
  }
  return lut;
}

const VIRIDIS = table(interpolateViridis);
// d3's RdBu runs red → blue; reversed so that blue is negative.
const RDBU = table((t) => interpolateRdBu(1 - t));

/** A sequential map over [lo, hi], or a diverging one symmetric around 0 when values go below 0. */
export function mapFor(min: number, max: number): ColorMap {
  if (!(Number.isFinite(min) && Number.isFinite(max))) return { kind: 'sequential', lo: 0, hi: 1 };
  if (min < 0) {
    const m = Math.max(-min, Math.abs(max)) || 1;
    return { kind: 'diverging', lo: -m, hi: m };
  }
  return { kind: 'sequential', lo: 0, hi: max > 0 ? max : 1 };
}

/** Probabilities: 0 … 1. */
export const PROBABILITY: ColorMap = { kind: 'sequential', lo: 0, hi: 1 };

function index(map: ColorMap, v: number): number {
  if (!Number.isFinite(v)) return -1;
  const t = (v - map.lo) / (map.hi - map.lo);
  return Math.round(Math.min(1, Math.max(0, t)) * 255);
}

export function rgbOf(map: ColorMap, v: number): Rgb {
  const i = index(map, v);
  if (i < 0) return [255, 0, 255]; // NaN, ±Infinity: a colour no value has
  const lut = map.kind === 'sequential' ? VIRIDIS : RDBU;
  return [lut[i * 3]!, lut[i * 3 + 1]!, lut[i * 3 + 2]!];
}

export function cssOf(map: ColorMap, v: number): string {
  const [r, g, b] = rgbOf(map, v);
  return `rgb(${r},${g},${b})`;
}

/** Black or white, whichever contrasts more with the colour (WCAG relative luminance). */
export function textOn([r, g, b]: Rgb): string {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000' : '#fff';
}

/** The map as a CSS gradient, low to high, for legends. */
export function gradientCss(map: ColorMap): string {
  const stops = Array.from({ length: 11 }, (_, i) => {
    const v = map.lo + ((map.hi - map.lo) * i) / 10;
    return `${cssOf(map, v)} ${i * 10}%`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** RGBA pixels of row-major values: the image a heatmap scales up. */
export function pixels(map: ColorMap, values: Float32Array, out = new Uint8ClampedArray(values.length * 4)) {
  const lut = map.kind === 'sequential' ? VIRIDIS : RDBU;
  for (let i = 0; i < values.length; i++) {
    const j = index(map, values[i]!);
    out[i * 4] = j < 0 ? 255 : lut[j * 3]!;
    out[i * 4 + 1] = j < 0 ? 0 : lut[j * 3 + 1]!;
    out[i * 4 + 2] = j < 0 ? 255 : lut[j * 3 + 2]!;
    out[i * 4 + 3] = 255;
  }
  return out;
}
