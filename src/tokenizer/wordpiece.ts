// Text → WordPiece ids with code-point offsets, in one pass over the text: added-token split, BertNormalizer,
// BertPreTokenizer and the WordPiece model, fused so that no normalised copy of the text is ever built
// (except around added tokens matched in normalised form, as HF matches them).
// Every normalised character remembers the original code point it came from, which is what HF's alignments
// give: a token's offsets run from its first character's origin to its last one's (+1).
import { AddedMatcher, type AddedToken } from './added.js';
import { CJK, KEEP, normalizeText, PUNCT, SLOW, SPACE, type CharTables } from './chars.js';
import type { Vocab } from './vocab.js';

/** Tokens of one text: parallel arrays, appended to. */
export interface TokenSink {
  ids: number[];
  starts: number[];
  ends: number[];
}

/** Code points in text[from, to). */
function codePoints(text: string, from: number, to: number): number {
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

export class WordPiece {
  private orig = new Int32Array(256); // origin code point of each UTF-16 unit of the current word
  /** Tokens matched in the raw text, and those matched in the normalised text (by their normalised form). */
  private readonly raw: AddedMatcher;
  private readonly normalized: AddedMatcher;

  constructor(
    readonly vocab: Vocab,
    readonly tables: CharTables,
    readonly unkId: number,
    readonly maxInputCharsPerWord: number,
    addedTokens: AddedToken[],
  ) {
    this.raw = new AddedMatcher(addedTokens.filter((t) => !t.normalized).map((token) => ({ pattern: token.content, token })));
    this.normalized = new AddedMatcher(
      addedTokens.filter((t) => t.normalized).map((token) => ({ pattern: normalizeText(tables, token.content, 0, token.content.length, 0).text, token })),
    );
  }

  /** Appends the tokens of `text` to `out`; offsets are code-point indices into `text`. */
  tokenize(text: string, out: TokenSink): void {
    if (!this.raw.mayMatch(text) && this.normalized.size === 0) return this.run(text, 0, text.length, 0, undefined, out);
    const splits = this.raw.split(text);
    let cp = 0;
    for (const sp of splits) {
      const cps = splits.length === 1 && !sp.token ? 0 : codePoints(text, sp.start, sp.end);
      if (sp.token) {
        out.ids.push(sp.token.id);
        out.starts.push(cp);
        out.ends.push(cp + cps);
      } else if (this.normalized.size === 0) {
        this.run(text, sp.start, sp.end, cp, undefined, out);
      } else {
        // HF normalises this piece, then looks for the normalised forms of tokens with `normalized: true`.
        const { text: norm, origin } = normalizeText(this.tables, text, sp.start, sp.end, cp);
        for (const np of this.normalized.split(norm)) {
          if (np.token) {
            out.ids.push(np.token.id);
            out.starts.push(origin[np.start]!);
            out.ends.push(origin[np.end - 1]! + 1);
          } else {
            this.run(norm, np.start, np.end, 0, origin, out);
          }
        }
      }
      cp += cps;
    }
  }

  /**
   * Tokens of text[from, to) (no added tokens in it). Offsets count code points from `cp0`, or, for a
   * normalised piece, come from `origin` (the original code point of each UTF-16 unit).
   */
  private run(text: string, from: number, to: number, cp0: number, origin: Int32Array | undefined, out: TokenSink): void {
    const n = to;
    if (this.orig.length < 4 * (to - from) + 8) this.orig = new Int32Array(4 * (to - from) + 8);
    const orig = this.orig;
    const tables = this.tables;
    const bmp = tables.bmp;
    // The current word: a plain slice text[wStart, wEnd) while `clean`, else the string `wStr`.
    let wLen = 0; // UTF-16 units in the word
    let wStart = 0;
    let wEnd = 0;
    let clean = true;
    let wStr = '';

    const flush = (): void => {
      if (wLen === 0) return;
      if (clean && wLen === 1) {
        const id = this.vocab.single[text.charCodeAt(wStart)]!;
        out.ids.push(id >= 0 ? id : this.unkId);
        out.starts.push(orig[0]!);
        out.ends.push(orig[0]! + 1);
      } else {
        this.word(clean ? text.slice(wStart, wEnd) : wStr, wLen, out);
      }
      wLen = 0;
    };

    let cp = cp0; // code-point index of text[i] in the original text
    for (let i = from; i < n; ) {
      if (origin) cp = origin[i]!;
      let c = text.charCodeAt(i);
      let w = 1;
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          w = 2;
        }
      }
      let k = c < 65536 ? bmp[c]! : tables.classOf(c);
      if (k === 255) k = tables.classOf(c);
      if (k === KEEP) {
        if (wLen === 0) {
          wStart = i;
          wEnd = i;
          clean = true;
        }
        if (clean && wEnd !== i) {
          // a dropped character sits inside the word: stop slicing, build the string
          wStr = text.slice(wStart, wEnd);
          clean = false;
        }
        if (clean) wEnd = i + w;
        else wStr += w === 1 ? text[i] : text.slice(i, i + 2);
        orig[wLen++] = cp;
        if (w === 2) orig[wLen++] = cp;
      } else if (k === SPACE) {
        flush();
      } else if (k === PUNCT || k === CJK) {
        flush();
        this.single(c, cp, out);
      } else if (k === SLOW) {
        const info = tables.slow.get(c)!;
        if (info.isolate) flush();
        for (let j = 0; j < info.out.length; j++) {
          const o = info.out[j]!;
          const ko = info.cls[j]!;
          if (ko === SPACE) flush();
          else if (ko === PUNCT) {
            flush();
            this.single(o, cp, out);
          } else {
            if (wLen === 0) {
              clean = false;
              wStr = '';
            } else if (clean) {
              wStr = text.slice(wStart, wEnd);
              clean = false;
            }
            if (o < 65536) {
              wStr += String.fromCharCode(o);
              orig[wLen++] = cp;
            } else {
              wStr += String.fromCodePoint(o);
              orig[wLen++] = cp;
              orig[wLen++] = cp;
            }
          }
        }
        if (info.isolate) flush();
      }
      // DROP: nothing; the next kept character notices the gap.
      i += w;
      cp++;
    }
    flush();
  }

  /** A one-character word (punctuation, CJK ideograph). */
  private single(c: number, cp: number, out: TokenSink): void {
    let id = c < 65536 ? this.vocab.single[c]! : (this.vocab.ids.get(String.fromCodePoint(c)) ?? -1);
    if (id < 0) id = this.unkId;
    out.ids.push(id);
    out.starts.push(cp);
    out.ends.push(cp + 1);
  }

  /** Greedy longest-match-first WordPiece over one word of `len` UTF-16 units. */
  private word(word: string, len: number, out: TokenSink): void {
    const orig = this.orig;
    const first = orig[0]!;
    const last = orig[len - 1]! + 1;
    if (codePoints(word, 0, len) > this.maxInputCharsPerWord) {
      out.ids.push(this.unkId);
      out.starts.push(first);
      out.ends.push(last);
      return;
    }
    const mark = out.ids.length;
    const vocab = this.vocab;
    let start = 0;
    while (start < len) {
      const map = start === 0 ? vocab.ids : vocab.cont;
      let end = Math.min(len, start + (start === 0 ? vocab.maxLen : vocab.maxContLen));
      let id = -1;
      while (end > start) {
        const got = map.get(word.substring(start, end));
        if (got !== undefined) {
          id = got;
          break;
        }
        end--;
      }
      if (id < 0) {
        out.ids.length = mark;
        out.starts.length = mark;
        out.ends.length = mark;
        out.ids.push(this.unkId);
        out.starts.push(first);
        out.ends.push(last);
        return;
      }
      out.ids.push(id);
      out.starts.push(orig[start]!);
      out.ends.push(orig[end - 1]! + 1);
      start = end;
    }
  }
}
