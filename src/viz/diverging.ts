// Signed score → colour: ColorBrewer's RdBu, a diverging map that stays readable with red-green colour blindness
// (blue for negative, near-white for 0, red for positive), interpolated linearly in sRGB between its 11 classes.
// The scale is symmetric: ±`scale` reaches the darkest ends, so equal colours mean equal magnitudes.

/** RdBu's 11 classes from −1 (dark blue) to +1 (dark red). */
const STOPS: readonly (readonly [number, number, number])[] = [
  [5, 48, 97],
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
  [103, 0, 31],
];

/** The colour of `v` on a symmetric scale of ±`scale` (values beyond it take the end colours; NaN is white). */
export function divergingColor(v: number, scale: number): [number, number, number] {
  const t = Number.isFinite(v) && scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0;
  const pos = ((t + 1) / 2) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(pos));
  const f = pos - i;
  const [a, b] = [STOPS[i]!, STOPS[i + 1]!];
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

export function divergingCss(v: number, scale: number): string {
  const [r, g, b] = divergingColor(v, scale);
  return `rgb(${r},${g},${b})`;
}

/** Black or white text, whichever contrasts more with the background (WCAG relative luminance). */
export function textColorOn([r, g, b]: readonly [number, number, number]): '#000' | '#fff' {
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000' : '#fff';
}

/** The CSS gradient of the whole map, left (−scale) to right (+scale), for legends. */
export function divergingGradientCss(): string {
  const stops = STOPS.map(([r, g, b], i) => `rgb(${r},${g},${b}) ${((i / (STOPS.length - 1)) * 100).toFixed(0)}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** The symmetric scale for a set of scores: their largest magnitude (1 when all are 0 or none is finite). */
export function symmetricScale(scores: Iterable<number>): number {
  let m = 0;
  for (const s of scores) if (Number.isFinite(s)) m = Math.max(m, Math.abs(s));
  return m > 0 ? m : 1;
}
