// Deterministic test data and the one comparison the unit tests share.

/** A deterministic pseudo-random float32 array in [lo, hi) (a small LCG), so failures reproduce. */
export function values(n: number, lo: number, hi: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * x) / 2 ** 32;
  }
  return out;
}

/** max |a − b|, over arrays of one length. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** erf to ≈ 1e-15: its Maclaurin series for |x| ≤ 3, erfc's continued fraction beyond, ±1 past 6. */
export function erfReference(x: number): number {
  if (Math.abs(x) > 6) return Math.sign(x);
  if (Math.abs(x) > 3) {
    // erfc's continued fraction for the tail, where the series loses digits
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (Math.abs(x) + f);
    return Math.sign(x) * (1 - Math.exp(-x * x) / Math.sqrt(Math.PI) / (Math.abs(x) + f));
  }
  let sum = 0;
  let term = x;
  for (let n = 0; n < 80; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
