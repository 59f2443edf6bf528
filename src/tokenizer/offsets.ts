// Offsets are in code points (as Python's str indices); JS strings index UTF-16 units.

/** Converts code-point [start, end) offsets into `text` to UTF-16 offsets (for `text.slice`). */
export function utf16Offsets(text: string, offsets: [number, number][]): [number, number][] {
  // unit index of each code point, plus one past the end
  const units: number[] = [];
  for (let i = 0; i < text.length; i++) {
    units.push(i);
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) i++;
    }
  }
  units.push(text.length);
  const at = (cp: number): number => units[Math.min(Math.max(cp, 0), units.length - 1)]!;
  return offsets.map(([s, e]) => [at(s), at(e)]);
}

/** Code points in text[from, to). */
export function codePoints(text: string, from: number, to: number): number {
  let n = to - from;
  for (let i = from + 1; i < to; i++) {
    const u = text.charCodeAt(i);
    if (u >= 0xdc00 && u < 0xe000) {
      const h = text.charCodeAt(i - 1);
      if (h >= 0xd800 && h < 0xdc00) n--;
    }
  }
  return n;
}
