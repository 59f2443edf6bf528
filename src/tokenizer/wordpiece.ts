// Text → WordPiece ids with code-point offsets, in one pass over the text: added-token split, BertNormalizer,
// BertPreTokenizer and the WordPiece model, fused so that no normalised copy of the text is ever built.
// Every normalised character remembers the original code point it came from, which is what HF's alignments
// give: a token's offsets run from its first character's origin to its last one's (+1).
import { CJK, KEEP, PUNCT, SLOW, SPACE, type CharTables } from './chars.js';
import type { Vocab } from './vocab.js';

/** Tokens of one text: parallel arrays, appended to. */
export interface TokenSink {
  ids: number[];
  starts: number[];
  ends: number[];
}

/** A token matched whole in the raw text before normalisation ([CLS], [MASK], ... and added tokens). */
export interface AddedToken {
  content: string;
  id: number;
}

export class WordPiece {
  private orig = new Int32Array(256); // origin code point of each UTF-16 unit of the current word
  private readonly addedFirst = new Uint8Array(65536); // first UTF-16 unit of some added token
  private readonly added = new Map<number, { content: string; id: number; cps: number }[]>();

  constructor(
    readonly vocab: Vocab,
    readonly tables: CharTables,
    readonly unkId: number,
    readonly maxInputCharsPerWord: number,
    addedTokens: AddedToken[],
  ) {
    for (const t of addedTokens) {
      if (t.content.length === 0) continue;
      const first = t.content.charCodeAt(0);
      this.addedFirst[first] = 1;
      let list = this.added.get(first);
      if (!list) this.added.set(first, (list = []));
      list.push({ content: t.content, id: t.id, cps: [...t.content].length });
      list.sort((a, b) => b.content.length - a.content.length); // longest first: leftmost-longest matching
    }
  }

  /** Appends the tokens of `text` to `out`; offsets are code-point indices into `text`. */
  tokenize(text: string, out: TokenSink): void {
    const n = text.length;
    if (this.orig.length < 4 * n + 8) this.orig = new Int32Array(4 * n + 8);
    const orig = this.orig;
    const tables = this.tables;
    const bmp = tables.bmp;
    const addedFirst = this.addedFirst;

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

    let cp = 0; // code-point index of text[i] in the original text
    for (let i = 0; i < n; ) {
      let c = text.charCodeAt(i);
      let w = 1;
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          w = 2;
        }
      }
      if (c < 65536 && addedFirst[c] === 1) {
        const m = this.matchAdded(text, i, c);
        if (m) {
          flush();
          out.ids.push(m.id);
          out.starts.push(cp);
          out.ends.push(cp + m.cps);
          i += m.content.length;
          cp += m.cps;
          continue;
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

  private matchAdded(text: string, i: number, first: number): { content: string; id: number; cps: number } | undefined {
    for (const t of this.added.get(first)!) {
      if (text.startsWith(t.content, i)) return t;
    }
    return undefined;
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
    let chars = len;
    for (let j = 0; j < len; j++) {
      const u = word.charCodeAt(j);
      if (u >= 0xdc00 && u < 0xe000 && j > 0) {
        const h = word.charCodeAt(j - 1);
        if (h >= 0xd800 && h < 0xdc00) chars--;
      }
    }
    if (chars > this.maxInputCharsPerWord) {
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
