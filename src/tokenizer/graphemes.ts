// Extended grapheme clusters (UAX #29), which HF's `Precompiled` normalizer walks (Rust unicode-segmentation).
// We take them from ICU through Intl.Segmenter, but only for text that needs it: a cluster of more than one
// code point always contains a "joiner" (a character with no break on one of its sides: Extend, ZWJ,
// SpacingMark, Prepend, Hangul jamo, regional indicators, CR/LF), so text without one is one cluster per code
// point. Whether a code point is a joiner is asked of ICU once and cached.

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

// 0 = not asked yet, 1 = breaks on both sides, 2 = may join a neighbour
const joiner = new Uint8Array(0x110000);
// Neighbours that exercise every no-break rule: a letter, CR, LF, Hangul L / V / T / LV / LVT, a Devanagari
// consonant, an emoji, a regional indicator; before `c` also ZWJ. (After `c`, an Extend / ZWJ / SpacingMark
// neighbour would join anything: that neighbour is the joiner, not `c`.)
const AFTER = ['a', '\r', '\n', '\u1100', '\u1161', '\u11a8', '\uac00', '\uac01', '\u0915', '\u{1f600}', '\u{1f1e6}'];
const BEFORE = [...AFTER, '\u200d'];
const SEP = '\u0001';

/** True when `c` may share a grapheme cluster with the code point before or after it. */
export function isGraphemeJoiner(c: number): boolean {
  if (c < 0x7f ? c >= 0x20 : c >= 0x4e00 ? c <= 0x9fff || (c >= 0x20000 && c <= 0x3ffff) : c >= 0x3400 && c <= 0x4dbf) {
    return false; // ASCII printable, CJK ideographs: Grapheme_Cluster_Break=Other
  }
  let v = joiner[c]!;
  if (v === 0) {
    // All pairs in one string, each fenced by a control character (always a break on both sides): any
    // cluster of two code points means a pair joined.
    const s = String.fromCodePoint(c);
    let probe = SEP + s + s;
    for (const p of BEFORE) probe += SEP + p + s;
    for (const p of AFTER) probe += SEP + s + p;
    probe += SEP;
    let clusters = 0;
    for (const _ of segmenter.segment(probe)) clusters++;
    let codePoints = 0;
    for (const _ of probe) codePoints++;
    v = clusters < codePoints ? 2 : 1;
    joiner[c] = v;
  }
  return v === 2;
}

/** The clusters of text[from, to) as [start, end) UTF-16 ranges. */
export function segmentGraphemes(text: string, from: number, to: number): [number, number][] {
  // V8 slows down with the number of clusters already walked in one string (quadratic over 100k-unit texts),
  // so we segment windows. A window starts at a true boundary, where segmentation restarts exactly (no rule
  // looks back across a boundary, and regional indicators pair up from there); its last cluster may be cut,
  // so the next window starts at that cluster. A cluster longer than the window doubles the window.
  const out: [number, number][] = [];
  let start = from;
  let width = WINDOW;
  while (start < to) {
    let end = Math.min(to, start + width);
    const cut = end < to;
    const u = text.charCodeAt(end - 1);
    if (cut && u >= 0xd800 && u < 0xdc00) end--; // a window never splits a surrogate pair
    let last = start;
    let count = 0;
    for (const { index } of segmenter.segment(text.slice(start, end))) {
      if (count > 0) out.push([last, start + index]);
      last = start + index;
      count++;
    }
    if (!cut) {
      out.push([last, end]);
      break;
    }
    if (last === start) {
      width *= 2; // one cluster fills the window: look further
      continue;
    }
    start = last;
    width = WINDOW;
  }
  return out;
}

const WINDOW = 256;
