// Added tokens ([CLS], [MASK], tokens a fine-tune added) found in a string as HF tokenizers' AddedVocabulary
// finds them (https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/tokenizer/added_vocabulary.rs):
// leftmost-longest, a rejected match still consumes its text, and the flags of each token:
// `single_word` (no word character right before or after), `lstrip` / `rstrip` (the whitespace beside it
// becomes part of its span). The raw text is searched for tokens with `normalized: false`, then each
// normalized piece between them for the normalized forms of tokens with `normalized: true`.

/** One added token, with its tokenizer.json flags (absent = false). */
export interface AddedToken {
  content: string;
  id: number;
  singleWord?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  /** Matched in the normalized text (cleaned, lower-cased, accents stripped) rather than the raw text. */
  normalized?: boolean;
  /** Left out by `decode(ids, { skipSpecialTokens: true })`. */
  special?: boolean;
}

/** A piece of the searched string, in UTF-16 units: an added token's span, or text between them. */
export interface Split {
  start: number;
  end: number;
  token?: AddedToken;
}

// Rust regex's Unicode \w and \s, which HF's checks use.
const WORD = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;
const SPACE = /\p{White_Space}/u;

function codePointBefore(s: string, i: number): string {
  const lo = s.charCodeAt(i - 1);
  return i >= 2 && lo >= 0xdc00 && lo < 0xe000 ? s.slice(i - 2, i) : s.slice(i - 1, i);
}

function codePointAt(s: string, i: number): string {
  return String.fromCodePoint(s.codePointAt(i)!);
}

export class AddedMatcher {
  /** 1 where some pattern starts with this UTF-16 unit. */
  private readonly first = new Uint8Array(65536);
  private readonly byFirst = new Map<number, { pattern: string; token: AddedToken }[]>();
  readonly size: number;

  /** `patterns`: what to look for (the content, or its normalized form) and the token it stands for. */
  constructor(patterns: { pattern: string; token: AddedToken }[]) {
    let size = 0;
    for (const p of patterns) {
      if (p.pattern.length === 0) continue;
      const u = p.pattern.charCodeAt(0);
      this.first[u] = 1;
      let list = this.byFirst.get(u);
      if (!list) this.byFirst.set(u, (list = []));
      list.push(p);
      list.sort((a, b) => b.pattern.length - a.pattern.length); // longest first
      size++;
    }
    this.size = size;
  }

  /** False when no pattern can start anywhere in `s` (the common case: then there is nothing to split). */
  mayMatch(s: string): boolean {
    if (this.size === 0) return false;
    const first = this.first;
    for (let i = 0; i < s.length; i++) if (first[s.charCodeAt(i)] === 1) return true;
    return false;
  }

  /** Pieces covering all of `s`, in order (one piece without a token when nothing matches). */
  split(s: string): Split[] {
    const splits: Split[] = [];
    const n = s.length;
    const first = this.first;
    let done = 0; // end of the last accepted token's span
    for (let i = 0; i < n; ) {
      if (first[s.charCodeAt(i)] !== 1) {
        i++;
        continue;
      }
      const m = this.byFirst.get(s.charCodeAt(i))!.find((p) => s.startsWith(p.pattern, i));
      if (!m) {
        i++;
        continue;
      }
      const t = m.token;
      let start = i;
      let end = i + m.pattern.length;
      i = end; // the search goes on after the match, taken or not
      if (t.singleWord) {
        const wordBefore = start > 0 && WORD.test(codePointBefore(s, start));
        const wordAfter = end < n && WORD.test(codePointAt(s, end));
        if (wordBefore || wordAfter) continue;
      }
      if (t.lstrip) {
        let j = start;
        while (j > 0 && SPACE.test(codePointBefore(s, j))) j -= codePointBefore(s, j).length;
        start = Math.max(j, done);
      }
      if (t.rstrip) {
        while (end < n && SPACE.test(codePointAt(s, end))) end += codePointAt(s, end).length;
      }
      if (done < start) splits.push({ start: done, end: start });
      splits.push({ start, end, token: t });
      done = end;
    }
    if (done < n || splits.length === 0) splits.push({ start: done, end: n });
    return splits;
  }
}
