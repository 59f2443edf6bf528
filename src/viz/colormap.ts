// Attention probability → colour: a straight line in RGB from white (0) to deep blue (1), so a cell's
// value can be read back from its red channel, and absolute scale is the same in every panel.
export const LOW: readonly [number, number, number] = [255, 255, 255];
export const HIGH: readonly [number, number, number] = [8, 48, 107];

export function colorOf(v: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  return [0, 1, 2].map((c) => Math.round(LOW[c]! + t * (HIGH[c]! - LOW[c]!))) as [number, number, number];
}

export function cssColor(v: number): string {
  const [r, g, b] = colorOf(v);
  return `rgb(${r},${g},${b})`;
}

/** The value a colour stands for (inverse of colorOf, to within 1/247 from rounding). */
export function valueOf(r: number): number {
  return (LOW[0] - r) / (LOW[0] - HIGH[0]);
}
