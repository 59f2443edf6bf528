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

/**
 * The index of the first lone surrogate in `s` (a `\ud800` escape in JSON, which no UTF-8 text can hold), or
 * -1. HF's tokenizers refuse such a string (Python cannot encode it to UTF-8); encoded here it would silently
 * become something else.
 */
export function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = s.charCodeAt(i + 1);
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    else return i;
  }
  return -1;
}
