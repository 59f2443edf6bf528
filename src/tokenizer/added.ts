// Added tokens ([CLS], [MASK], tokens a fine-tune added) found in a string as HF tokenizers' AddedVocabulary
// finds them (https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/tokenizer/added_vocabulary.rs):
// leftmost-longest, a rejected match still consumes its text, and the flags of each token:
// `single_word` (no word character right before or after), `lstrip` / `rstrip` (the whitespace beside it
// becomes part of its span). The raw text is searched for tokens with `normalized: false`, then each
// normalized piece between them for the normalized forms of tokens with `normalized: true`.
// The patterns live in a trie, so finding the longest one at a position costs at most the longest pattern's
// length, however many tokens share a prefix; the search is incremental, so a caller that needs only the
// start of a long text stops early.

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

/** Where a search stands: the next position to look at, and the end of the last accepted token's span. */
export interface AddedScan {
  pos: number;
  done: number;
}

/** `next` needs more of the string than it was given (an `rstrip` token's whitespace runs past its end). */
export const MORE = 'more';

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
  /** Trie edges: node * 65536 + UTF-16 unit → child node (node 0 is the root). */
  private readonly edges = new Map<number, number>();
  /** Node → the token whose pattern ends there. */
  private readonly ends = new Map<number, AddedToken>();
  readonly size: number;
  /** Longest pattern, in UTF-16 units: how far past a position the search may look. */
  readonly maxLength: number;

  /** `patterns`: what to look for (the content, or its normalized form) and the token it stands for. */
  constructor(patterns: { pattern: string; token: AddedToken }[]) {
    let nodes = 1;
    let maxLength = 0;
    for (const { pattern, token } of patterns) {
      if (pattern.length === 0) continue;
      this.first[pattern.charCodeAt(0)] = 1;
      let node = 0;
      for (let i = 0; i < pattern.length; i++) {
        const key = node * 65536 + pattern.charCodeAt(i);
        let next = this.edges.get(key);
        if (next === undefined) this.edges.set(key, (next = nodes++));
        node = next;
      }
      // The same pattern twice: the first one listed wins, as before HF's leftmost-longest search.
      if (!this.ends.has(node)) this.ends.set(node, token);
      if (pattern.length > maxLength) maxLength = pattern.length;
    }
    this.size = this.ends.size;
    this.maxLength = maxLength;
  }

  /** False when no pattern can start anywhere in `s` (the common case: then there is nothing to split). */
  mayMatch(s: string): boolean {
    if (this.size === 0) return false;
    const first = this.first;
    for (let i = 0; i < s.length; i++) if (first[s.charCodeAt(i)] === 1) return true;
    return false;
  }

  /** The longest pattern that starts at s[i]: its token and end, or undefined. */
  private longestAt(s: string, i: number): { token: AddedToken; end: number } | undefined {
    let node = 0;
    let found: { token: AddedToken; end: number } | undefined;
    for (let j = i; j < s.length; j++) {
      const next = this.edges.get(node * 65536 + s.charCodeAt(j));
      if (next === undefined) break;
      node = next;
      const token = this.ends.get(node);
      if (token) found = { token, end: j + 1 };
    }
    return found;
  }

  /**
   * The next accepted token whose match starts before `limit`, advancing `scan`; undefined when there is none
   * (then `scan.pos` = `limit`). The caller guarantees that `s` holds every unit a match starting before
   * `limit` could read (the longest pattern + one code point), or `final` (the string ends there); an
   * `rstrip` token whose whitespace reaches the end of a non-final `s` returns MORE and leaves `scan` as it was.
   */
  next(s: string, scan: AddedScan, limit: number, final: boolean): Split | undefined | typeof MORE {
    const n = s.length;
    const first = this.first;
    for (let i = scan.pos; i < limit; ) {
      if (first[s.charCodeAt(i)] !== 1) {
        i++;
        continue;
      }
      const m = this.longestAt(s, i);
      if (!m) {
        i++;
        continue;
      }
      const t = m.token;
      let start = i;
      let end = m.end;
      const resume = end; // the search goes on after the match, taken or not
      if (t.singleWord) {
        const wordBefore = start > 0 && WORD.test(codePointBefore(s, start));
        const wordAfter = end < n && WORD.test(codePointAt(s, end));
        if (wordBefore || wordAfter) {
          i = resume;
          continue;
        }
      }
      if (t.rstrip) {
        while (end < n && SPACE.test(codePointAt(s, end))) end += codePointAt(s, end).length;
        if (end === n && !final) {
          scan.pos = i;
          return MORE;
        }
      }
      if (t.lstrip) {
        let j = start;
        while (j > 0 && SPACE.test(codePointBefore(s, j))) j -= codePointBefore(s, j).length;
        start = Math.max(j, scan.done);
      }
      scan.pos = resume;
      scan.done = end;
      return { start, end, token: t };
    }
    scan.pos = Math.max(scan.pos, limit);
    return undefined;
  }

  /** Pieces covering all of `s`, in order (one piece without a token when nothing matches). */
  split(s: string): Split[] {
    const splits: Split[] = [];
    const scan: AddedScan = { pos: 0, done: 0 };
    for (;;) {
      const done = scan.done;
      const m = this.next(s, scan, s.length, true) as Split | undefined;
      if (!m) break;
      if (done < m.start) splits.push({ start: done, end: m.start });
      splits.push(m);
    }
    if (scan.done < s.length || splits.length === 0) splits.push({ start: scan.done, end: s.length });
    return splits;
  }
}
