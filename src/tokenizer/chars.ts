// Character classes of HF tokenizers' BertNormalizer + BertPreTokenizer, per code point, cached in tables.
// https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/normalizers/bert.rs
// https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/pre_tokenizers/bert.rs
import { NONSPACING_MARK, OTHER, PUNCTUATION } from './unicode9.js';

/** What the basic tokenizer does with one input code point. */
export const KEEP = 0; // part of a word, unchanged by normalisation
export const PUNCT = 1; // a word of its own, unchanged
export const SPACE = 2; // word separator, removed
export const DROP = 3; // removed by clean_text (NUL, U+FFFD, Cc/Cf/Co, lone surrogates)
export const CJK = 4; // CJK ideograph: a word of its own, unchanged
export const SLOW = 5; // normalisation changes it: see `CharTables.slow`
const UNKNOWN = 255;

/** A code point that lower-casing or accent stripping changes: what it becomes and how the pieces split. */
export interface SlowChar {
  isolate: boolean; // a CJK ideograph: spaces were put around it before normalisation
  out: number[]; // code points after NFD / drop Mn / lower-case (may be empty)
  cls: number[]; // KEEP | PUNCT | SPACE for each of `out`, classified after normalisation (as the pre-tokenizer sees them)
}

export interface NormalizerFlags {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

// Categories come from Unicode 9.0 tables, as in HF (the `unicode_categories` crate); whitespace and
// lower-casing from the current Unicode, as Rust's std gives them to HF.
const RE_WHITESPACE = /^\p{White_Space}$/u; // Rust char::is_whitespace

function inRanges(table: readonly number[], c: number): boolean {
  let lo = 0;
  let hi = table.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < table[2 * mid]!) hi = mid - 1;
    else if (c > table[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * BertNormalizer's is_control: Cc, Cf, Co, except \t \n \r (whitespace). Unassigned code points are kept.
 * A lone surrogate (which a Rust string cannot hold, so HF never sees one) is dropped too.
 */
export function isControl(c: number): boolean {
  if (c === 9 || c === 10 || c === 13) return false;
  return inRanges(OTHER, c) || (c >= 0xd800 && c <= 0xdfff);
}

/**
 * Rust's char::is_whitespace, i.e. Unicode White_Space: \t \n \v \f \r and space among ASCII (\v and \f
 * matter when clean_text is off; with it on they are control characters, dropped first), U+0085, U+00A0,
 * U+1680, U+2000–U+200A, U+2028/9, U+202F, U+205F, U+3000. (Python's str.isspace also takes U+001C–U+001F.)
 */
export function isWhitespace(c: number): boolean {
  if (c < 128) return (c >= 9 && c <= 13) || c === 32;
  return RE_WHITESPACE.test(String.fromCodePoint(c));
}

/** ASCII symbols 33-47, 58-64, 91-96, 123-126 count as punctuation (like `$`, `^`, `|`), plus Unicode P*. */
export function isPunctuation(c: number): boolean {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  if (c < 128) return false;
  return inRanges(PUNCTUATION, c);
}

export function isNonspacingMark(c: number): boolean {
  return inRanges(NONSPACING_MARK, c);
}

/** The CJK blocks of tokenizers' is_chinese_char (note its 0x2B920 start, where BERT's Python says 0x2B820). */
export function isCjk(c: number): boolean {
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x20000 && c <= 0x2a6df) ||
    (c >= 0x2a700 && c <= 0x2b73f) ||
    (c >= 0x2b740 && c <= 0x2b81f) ||
    (c >= 0x2b920 && c <= 0x2ceaf) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0x2f800 && c <= 0x2fa1f)
  );
}

/**
 * One code point through strip_accents (NFD, drop Mn) then lowercase, in that order, as BertNormalizer does.
 * Lower-casing is per code point (Rust char::to_lowercase), so there is no final-sigma rule.
 */
export function normalizeChar(c: number, stripAccents: boolean, lowercase: boolean): number[] {
  let cps = [c];
  if (stripAccents) {
    cps = [];
    for (const ch of String.fromCodePoint(c).normalize('NFD')) {
      const p = ch.codePointAt(0)!;
      if (!isNonspacingMark(p)) cps.push(p);
    }
  }
  if (lowercase) {
    const lowered: number[] = [];
    for (const p of cps) {
      // A lone surrogate has no case; toLowerCase would keep it anyway.
      for (const ch of String.fromCodePoint(p).toLowerCase()) lowered.push(ch.codePointAt(0)!);
    }
    cps = lowered;
  }
  return cps;
}

function postClass(c: number): number {
  if (isWhitespace(c)) return SPACE;
  if (isPunctuation(c)) return PUNCT;
  return KEEP;
}

/** Lazily filled per-code-point classes for one set of normaliser flags. */
export class CharTables {
  /** Class of each BMP code point (255 = not computed yet). */
  readonly bmp = new Uint8Array(65536).fill(UNKNOWN);
  readonly astral = new Map<number, number>();
  readonly slow = new Map<number, SlowChar>();

  constructor(readonly flags: NormalizerFlags) {
    for (let c = 0; c < 128; c++) this.bmp[c] = this.compute(c);
  }

  classOf(c: number): number {
    if (c < 65536) {
      const k = this.bmp[c]!;
      return k !== UNKNOWN ? k : (this.bmp[c] = this.compute(c));
    }
    let k = this.astral.get(c);
    if (k === undefined) this.astral.set(c, (k = this.compute(c)));
    return k;
  }

  private compute(c: number): number {
    const f = this.flags;
    if (f.cleanText && (c === 0 || c === 0xfffd || isControl(c))) return DROP;
    if (isWhitespace(c)) return SPACE;
    const raw = f.handleChineseChars && isCjk(c) ? CJK : isPunctuation(c) ? PUNCT : KEEP;
    if (!f.stripAccents && !f.lowercase) return raw;
    const out = normalizeChar(c, f.stripAccents, f.lowercase);
    if (out.length === 1 && out[0] === c) return raw;
    this.slow.set(c, { isolate: raw === CJK, out, cls: out.map(postClass) });
    return SLOW;
  }
}

const NO_ORIGIN = new Int32Array(0);

/**
 * BertNormalizer over text[from, to), as a string: control characters dropped, whitespace → ' ' (clean_text),
 * spaces around CJK ideographs, accents stripped, lower-cased. `origin` holds, per UTF-16 unit of the
 * result, the original code point it came from (counted from `cp0`), as HF's alignments do. Only needed
 * around added tokens matched in normalised form; the tokenizer otherwise normalises on the fly. `withOrigin`
 * false skips `origin` (an added token's own normalised form needs none; a tokenizer may have 10⁵ of them).
 */
export function normalizeText(
  tables: CharTables,
  text: string,
  from: number,
  to: number,
  cp0: number,
  withOrigin = true,
): { text: string; origin: Int32Array } {
  let out = '';
  const origin: number[] = [];
  let cp = cp0;
  for (let i = from; i < to; cp++) {
    const c = text.codePointAt(i)!;
    const ch = String.fromCodePoint(c);
    i += ch.length;
    const k = tables.classOf(c);
    let piece: string;
    if (k === DROP) piece = '';
    else if (k === SPACE) piece = tables.flags.cleanText ? ' ' : ch;
    else if (k === CJK) piece = ` ${ch} `;
    else if (k === SLOW) {
      const info = tables.slow.get(c)!;
      piece = String.fromCodePoint(...info.out);
      if (info.isolate) piece = ` ${piece} `;
    } else piece = ch;
    out += piece;
    if (withOrigin) for (let j = 0; j < piece.length; j++) origin.push(cp);
  }
  return { text: out, origin: withOrigin ? Int32Array.from(origin) : NO_ORIGIN };
}

const shared = new Map<string, CharTables>();

/** Tables are shared between tokenizers with the same flags (they are filled as text is seen). */
export function charTables(flags: NormalizerFlags): CharTables {
  const key = `${+flags.cleanText}${+flags.handleChineseChars}${+flags.stripAccents}${+flags.lowercase}`;
  let t = shared.get(key);
  if (!t) shared.set(key, (t = new CharTables(flags)));
  return t;
}
