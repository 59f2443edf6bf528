// Text → WordPiece ids with code-point offsets, in one pass over the text: added-token split, BertNormalizer,
// BertPreTokenizer and the WordPiece model, fused so that no normalised copy of the text is ever built
// (except around added tokens matched in normalised form, as HF matches them: those pieces are normalised a
// block at a time).
// Every normalised character remembers the original code point it came from, which is what HF's alignments
// give: a token's offsets run from its first character's origin to its last one's (+1).
// Work is bounded by what is used: with a token limit the pass stops at the first word boundary past it (as
// tokenizers ≥ 0.23 does), and a word longer than max_input_chars_per_word, which can only become [UNK], is
// counted, not stored.
import { AddedMatcher, type AddedScan, type AddedToken, MORE, type Split } from './added.js';
import { CJK, isWhitespace, KEEP, normalizeText, PUNCT, SLOW, SPACE, type CharTables } from './chars.js';
import type { Vocab } from './vocab.js';

/** Tokens of one text: parallel arrays, appended to. */
import type { TokenSink } from './encoding.js';
import { codePoints } from './offsets.js';

export type { TokenSink } from './encoding.js';

export class WordPiece {
  /** Raw UTF-16 units normalised per block where tokens match in normalised form (a setting for tests). */
  static normalizeBlock = 8192;
  /** Origin code point of each UTF-16 unit of the current word (grown as needed, up to `cap`). */
  private orig: Int32Array = new Int32Array(256);
  /** Units of a word worth storing: past this many it has more than maxInputCharsPerWord code points. */
  private readonly cap: number;
  /** Tokens matched in the raw text, and those matched in the normalised text (by their normalised form). */
  private readonly raw: AddedMatcher;
  private readonly normalized: AddedMatcher;
  /** Stop after the word that brings the sink to this many tokens. */
  private stopAt = Infinity;
  /** Where the last stop happened (see `tokenize`). */
  private stopIndex = -1;
  // A word left open at the end of a `run` call that continues in the next one (normalised blocks).
  private openLen = 0;
  private openStr = '';
  private openLong = false;
  private openLast = 0;

  constructor(
    readonly vocab: Vocab,
    readonly tables: CharTables,
    readonly unkId: number,
    readonly maxInputCharsPerWord: number,
    addedTokens: AddedToken[],
  ) {
    this.cap = 2 * Math.min(maxInputCharsPerWord, 1 << 28) + 2;
    this.raw = new AddedMatcher(
      addedTokens.filter((t) => !t.normalized).map((token) => ({ pattern: token.content, token })),
    );
    this.normalized = new AddedMatcher(
      addedTokens
        .filter((t) => t.normalized)
        .map((token) => ({
          pattern: normalizeText(tables, token.content, 0, token.content.length, 0, false).text,
          token,
        })),
    );
  }

  /**
   * Appends the tokens of `text` to `out`; offsets are code-point indices into `text`. With `limit`, stops
   * after the first word (not added token) that brings the tokens this call added to `limit` or more: the
   * whole-word prefix that tokenizers ≥ 0.23 keeps before truncating (PreTokenizedString::tokenize_with_limit).
   * Returns where it stopped: a UTF-16 index into `text` before which everything that decided the tokens lies
   * (an upper bound), or -1 when it went to the end.
   */
  tokenize(text: string, out: TokenSink, limit = Infinity): number {
    this.stopAt = out.ids.length + limit;
    this.openLen = 0;
    if (!this.raw.mayMatch(text)) return this.piece(text, 0, text.length, 0, out) ? this.stopIndex : -1;
    const scan: AddedScan = { pos: 0, done: 0 };
    let at = 0; // text before this is done
    let cp = 0; // its length in code points
    for (;;) {
      const m = this.raw.next(text, scan, text.length, true) as Split | undefined; // final: never MORE
      const end = m ? m.start : text.length;
      if (at < end) {
        if (this.piece(text, at, end, cp, out)) return this.stopIndex;
        if (m) cp += codePoints(text, at, end);
      }
      if (!m) return -1;
      // An added token counts towards the limit, but HF checks the limit only after a word. A match may start
      // inside the whitespace an rstrip token before it took: HF's spans then overlap.
      const start = m.start < at ? cp - codePoints(text, m.start, at) : cp;
      cp = start + codePoints(text, m.start, m.end);
      out.ids.push(m.token!.id);
      out.starts.push(start);
      out.ends.push(cp);
      at = m.end;
    }
  }

  private stopped(index: number): true {
    this.stopIndex = index;
    return true;
  }

  /**
   * Whether tokenizing any text that starts with `prefix` stops, at `limit` tokens, within `prefix` and far
   * enough from its end that no added token can reach past it: then the rest of the text cannot change the
   * tokens, and a reader may keep only the prefix of a very long line.
   */
  decidedBy(prefix: string, limit: number): boolean {
    const at = this.tokenize(prefix, { ids: [], starts: [], ends: [] }, limit);
    return at >= 0 && at + Math.max(this.raw.maxLength, this.normalized.maxLength) + 2 <= prefix.length;
  }

  /** The tokens of text[from, to), a piece without raw-matched added tokens; true when the limit stopped it. */
  private piece(text: string, from: number, to: number, cp0: number, out: TokenSink): boolean {
    if (this.normalized.size === 0) return this.run(text, from, to, cp0, undefined, out, false);
    return this.normalizedPiece(text, from, to, cp0, out);
  }

  /**
   * HF normalises a piece, then looks for the normalised forms of tokens with `normalized: true`. The piece is
   * normalised a block at a time: a search position needs the longest pattern's length after it (more for an
   * `rstrip` token's whitespace), words may run on into the next block, and what is done is dropped, so
   * memory stays bounded by the block size however long the piece.
   */
  private normalizedPiece(text: string, from: number, to: number, cp0: number, out: TokenSink): boolean {
    const matcher = this.normalized;
    const block = Math.max(16, WordPiece.normalizeBlock);
    const margin = matcher.maxLength + 2;
    let buf = '';
    let origin = new Int32Array(64);
    let r = from; // raw text before this is in `buf`
    let rcp = cp0;
    const scan: AddedScan = { pos: 0, done: 0 };
    let committed = 0; // buf before this has gone through `run`
    // Where the whitespace ending right before buf[0] began (-1: it did not), for an lstrip token.
    let headSpace = -1;
    const refill = (): void => {
      let r2 = Math.min(to, r + block);
      const hi = text.charCodeAt(r2 - 1);
      if (r2 < to && hi >= 0xd800 && hi < 0xdc00) r2++;
      const part = normalizeText(this.tables, text, r, r2, rcp);
      if (buf.length + part.text.length > origin.length) {
        const grown = new Int32Array(2 * (buf.length + part.text.length));
        grown.set(origin.subarray(0, buf.length));
        origin = grown;
      }
      origin.set(part.origin, buf.length);
      buf += part.text;
      rcp += codePoints(text, r, r2);
      r = r2;
    };
    for (;;) {
      while (r < to && buf.length < scan.pos + margin + block) refill();
      const final = r >= to;
      const m = matcher.next(buf, scan, final ? buf.length : buf.length - margin, final);
      if (m === MORE) {
        refill();
        continue;
      }
      if (m) {
        if (this.run(buf, Math.min(committed, m.start), m.start, 0, origin, out, false)) return this.stopped(r);
        const start = m.token!.lstrip && m.start === 0 && headSpace >= 0 ? headSpace : origin[m.start]!;
        out.ids.push(m.token!.id);
        out.starts.push(start);
        out.ends.push(origin[m.end - 1]! + 1);
        committed = m.end;
        continue;
      }
      if (final)
        return this.run(buf, Math.min(committed, buf.length), buf.length, 0, origin, out, false) && this.stopped(r);
      // Nothing starts before scan.pos: its words go to `run` (the last may go on; never half a surrogate
      // pair), then the buffer is cut two units before (a single_word check looks one code point back).
      const hi = buf.charCodeAt(scan.pos - 1);
      const upTo = hi >= 0xd800 && hi < 0xdc00 ? scan.pos - 1 : scan.pos;
      if (committed < upTo) {
        if (this.run(buf, committed, upTo, 0, origin, out, true)) return this.stopped(r);
        committed = upTo;
      }
      const cut = upTo - 2;
      if (cut <= 0) continue;
      const done = Math.max(0, scan.done);
      if (isWhitespace(buf.codePointAt(cut - 1)!)) {
        let s = cut - 1;
        while (s > done && isWhitespace(buf.charCodeAt(s - 1))) s--;
        if (!(s === 0 && headSpace >= 0)) headSpace = s >= done ? origin[s]! : -1;
      } else headSpace = -1;
      buf = buf.slice(cut);
      origin.copyWithin(0, cut, cut + buf.length);
      scan.pos -= cut;
      scan.done = Math.max(0, scan.done - cut);
      committed -= cut;
    }
  }

  /**
   * Tokens of text[from, to) (no added tokens in it). Offsets count code points from `cp0`, or, for a
   * normalised piece, come from `origin` (the original code point of each UTF-16 unit). With `open`, a word
   * that reaches `to` is kept for the next call instead of ended. True when the limit stopped it.
   */
  private run(
    text: string,
    from: number,
    to: number,
    cp0: number,
    origin: Int32Array | undefined,
    out: TokenSink,
    open: boolean,
  ): boolean {
    const n = to;
    const tables = this.tables;
    const bmp = tables.bmp;
    const cap = this.cap;
    const stopAt = this.stopAt;
    let orig: Int32Array = this.orig;
    // Units of the word to store before growing `orig` or (at `cap`) counting it as too long.
    let room = Math.min(cap, orig.length - 8);
    // The current word: a plain slice text[wStart, wEnd) while `clean`, else the string `wStr`; past `cap`
    // units (`long`) only its extent is kept.
    let wLen = this.openLen; // UTF-16 units in the word
    let wStart = 0;
    let wEnd = 0;
    let clean = wLen === 0;
    let wStr = this.openStr;
    let long = this.openLong;
    let last = this.openLast; // origin of the word's last character
    this.openLen = 0;
    this.openStr = '';

    /** Ends the current word; true when the limit is reached. */
    const flush = (): boolean => {
      if (wLen === 0) return false;
      if (long) {
        out.ids.push(this.unkId);
        out.starts.push(orig[0]!);
        out.ends.push(last + 1);
      } else if (clean && wLen === 1) {
        const id = this.vocab.single[text.charCodeAt(wStart)]!;
        out.ids.push(id >= 0 ? id : this.unkId);
        out.starts.push(orig[0]!);
        out.ends.push(orig[0]! + 1);
      } else {
        this.word(clean ? text.slice(wStart, wEnd) : wStr, wLen, out);
      }
      wLen = 0;
      return out.ids.length >= stopAt;
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
          long = false;
        }
        if (wLen >= room && wLen < cap) room = Math.min(cap, (orig = this.grow()).length - 8);
        if (wLen < room) {
          if (clean && wEnd !== i) {
            // a dropped character sits inside the word: stop slicing, build the string
            wStr = text.slice(wStart, wEnd);
            clean = false;
          }
          if (clean) wEnd = i + w;
          else wStr += w === 1 ? text[i] : text.slice(i, i + 2);
          orig[wLen++] = cp;
          if (w === 2) orig[wLen++] = cp;
        } else {
          long = true;
          wLen += w;
        }
        last = cp;
      } else if (k === SPACE) {
        if (wLen > 0 && flush()) return this.stopped(i + w);
      } else if (k === PUNCT || k === CJK) {
        if (wLen > 0 && flush()) return this.stopped(i + w);
        this.single(c, cp, out);
        if (out.ids.length >= stopAt) return this.stopped(i + w);
      } else if (k === SLOW) {
        const info = tables.slow.get(c)!;
        if (info.isolate && wLen > 0 && flush()) return this.stopped(i + w);
        for (let j = 0; j < info.out.length; j++) {
          const o = info.out[j]!;
          const ko = info.cls[j]!;
          if (ko === SPACE) {
            if (wLen > 0 && flush()) return this.stopped(i + w);
          } else if (ko === PUNCT) {
            if (wLen > 0 && flush()) return this.stopped(i + w);
            this.single(o, cp, out);
            if (out.ids.length >= stopAt) return this.stopped(i + w);
          } else {
            // a word that is not a slice of the text
            if (wLen === 0) {
              wStr = '';
              long = false;
            } else if (clean && !long) wStr = text.slice(wStart, wEnd);
            clean = false;
            if (wLen >= room && wLen < cap) room = Math.min(cap, (orig = this.grow()).length - 8);
            if (wLen < room) {
              wStr += o < 65536 ? String.fromCharCode(o) : String.fromCodePoint(o);
              orig[wLen++] = cp;
              if (o >= 65536) orig[wLen++] = cp;
            } else {
              long = true;
              wLen += o < 65536 ? 1 : 2;
            }
            last = cp;
          }
        }
        if (info.isolate && wLen > 0 && flush()) return this.stopped(i + w);
      }
      // DROP: nothing; the next kept character notices the gap.
      i += w;
      cp++;
    }
    if (open && wLen > 0) {
      // The word goes on in the next call, whose text is another string.
      if (clean && !long) wStr = text.slice(wStart, wEnd);
      this.openLen = wLen;
      this.openStr = wStr;
      this.openLong = long;
      this.openLast = last;
      return false;
    }
    return flush() && this.stopped(n);
  }

  /** `orig` twice as long (up to what a word can use), its contents kept. */
  private grow(): Int32Array {
    const bigger = new Int32Array(Math.min(2 * this.orig.length, this.cap + 16));
    bigger.set(this.orig);
    return (this.orig = bigger);
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
