// The pre-tokenizer transformers 5 gives SentencePiece tokenizers: `Sequence[WhitespaceSplit, Metaspace]`
// (tokenizers/src/pre_tokenizers/whitespace.rs, metaspace.rs). Words are split on Unicode White_Space (Rust's
// `char::is_whitespace`), which is dropped; `▁` is prepended to each word that does not start with one (scheme
// `always`; `first`: only to a word starting at the text's first code point); each word is then split before
// every `▁` (`MergedWithNext`). The prepended `▁` carries the alignment of the word's first character
// (`NormalizedString::prepend`), which is why a standalone `▁` token overlaps the next one.

export const METASPACE = '\u2581';
const META = 0x2581;

export type PrependScheme = 'always' | 'first' | 'never';

/** Rust's `char::is_whitespace`: the Unicode White_Space property. */
export function isWhiteSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 9 && c <= 13);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Pre-tokens of a normalized text: each a range [start, end) of its UTF-16 units, with or without a `▁` before. */
export class PreTokens {
  count = 0;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  prepended = new Uint8Array(64);

  push(start: number, end: number, prepended: boolean): void {
    if (this.count === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, b: T): T => {
        b.set(a);
        return b;
      };
      const n = 2 * this.count;
      this.starts = grow(this.starts, new Int32Array(n));
      this.ends = grow(this.ends, new Int32Array(n));
      this.prepended = grow(this.prepended, new Uint8Array(n));
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.prepended[this.count++] = prepended ? 1 : 0;
  }
}

/**
 * The pre-tokens of text[from, to) (normalized; no surrogate pair holds a white-space unit, so a unit scan is
 * exact), replacing those in `out`. `startsAtZero(i)` says whether unit i came from the text's first code point
 * (scheme `first`).
 */
export function metaspacePreTokens(
  text: string,
  from: number,
  to: number,
  scheme: PrependScheme,
  startsAtZero: (unit: number) => boolean,
  out: PreTokens,
): void {
  out.count = 0;
  for (let i = from; i < to; ) {
    if (isWhiteSpace(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < to && !isWhiteSpace(text.charCodeAt(end))) end++;
    // the word text[i, end)
    let p = i;
    if (text.charCodeAt(i) !== META) {
      let next = i + 1;
      while (next < end && text.charCodeAt(next) !== META) next++;
      out.push(i, next, scheme === 'always' || (scheme === 'first' && startsAtZero(i)));
      p = next;
    }
    while (p < end) {
      let next = p + 1;
      while (next < end && text.charCodeAt(next) !== META) next++;
      out.push(p, next, false);
      p = next;
    }
    i = end;
  }
}
