// Extended grapheme clusters (UAX #29), which HF's `Precompiled` normalizer walks (Rust unicode-segmentation).
// We take them from ICU through Intl.Segmenter, but only for text that needs it: a cluster of more than one
// code point always contains a "joiner" (a character with no break on one of its sides: Extend, ZWJ,
// SpacingMark, Prepend, Hangul jamo, regional indicators, CR/LF), so text without one is one cluster per code
// point. Whether a code point is a joiner is asked of ICU once and cached.

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

// 0 = not asked yet, 1 = breaks on both sides, 2 = may join a neighbour
const joiner = new Uint8Array(0x110000);
// Neighbours that exercise every no-break rule: a letter, CR, LF, Hangul L / V / T / LV / LVT, a Devanagari
// consonant, ZWJ, an emoji, a regional indicator.
const PROBES = ['a', '\r', '\n', '\u1100', '\u1161', '\u11a8', '\uac00', '\uac01', '\u0915', '\u200d', '\u{1f600}', '\u{1f1e6}'];

function oneCluster(s: string): boolean {
  let n = 0;
  for (const _ of segmenter.segment(s)) if (++n > 1) return false;
  return true;
}

/** True when `c` may share a grapheme cluster with the code point before or after it. */
export function isGraphemeJoiner(c: number): boolean {
  let v = joiner[c]!;
  if (v === 0) {
    const s = String.fromCodePoint(c);
    v = oneCluster(s + s) || PROBES.some((p) => oneCluster(p + s) || oneCluster(s + p)) ? 2 : 1;
    joiner[c] = v;
  }
  return v === 2;
}

/** The clusters of text[from, to) as [start, end) UTF-16 ranges. */
export function segmentGraphemes(text: string, from: number, to: number): [number, number][] {
  const piece = from === 0 && to === text.length ? text : text.slice(from, to);
  const out: [number, number][] = [];
  for (const { index, segment } of segmenter.segment(piece)) out.push([from + index, from + index + segment.length]);
  return out;
}
