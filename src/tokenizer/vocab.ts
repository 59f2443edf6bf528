// WordPiece vocabulary: token ↔ id, with the lookups the greedy longest-match needs kept cheap.

const TRAILING_SPACE = /\p{White_Space}+$/u; // Rust's str::trim_end
/** Larger ids would make the id → token table itself a memory bomb; real vocabularies stay far below. */
const MAX_VOCAB_ID = 10_000_000;

export class Vocab {
  /** token → id (on duplicate lines the last one wins, as in HF's load_vocab). */
  readonly ids = new Map<string, number>();
  /** continuation pieces without their `##` prefix → id, so lookups need no string concatenation. */
  readonly cont = new Map<string, number>();
  /** id of each one-UTF-16-unit token, -1 when absent: the fast path for CJK characters and punctuation. */
  readonly single = new Int32Array(65536).fill(-1);
  /** Longest token and continuation piece, in UTF-16 units: no longer substring can match. */
  readonly maxLen: number;
  readonly maxContLen: number;
  /** Distinct tokens in the vocabulary file (HF's get_vocab_size): added tokens not in it get ids from here on. */
  readonly entries: number;
  private readonly tokens: (string | undefined)[];

  constructor(
    tokens: string[],
    readonly prefix = '##',
    entries?: number,
  ) {
    this.tokens = tokens;
    let maxLen = 1;
    let maxContLen = 1;
    tokens.forEach((t, id) => {
      if (t === undefined) return;
      this.ids.set(t, id);
      if (t.length > maxLen) maxLen = t.length;
      if (t.length === 1) this.single[t.charCodeAt(0)] = id;
      if (prefix && t.startsWith(prefix) && t.length > prefix.length) {
        const piece = t.slice(prefix.length);
        this.cont.set(piece, id);
        if (piece.length > maxContLen) maxContLen = piece.length;
      }
    });
    this.maxLen = maxLen;
    this.maxContLen = maxContLen;
    this.entries = entries ?? this.ids.size;
  }

  get size(): number {
    return this.tokens.length;
  }

  /** An added token from tokenizer.json whose id lies outside `model.vocab` (HF keeps those apart). */
  addToken(content: string, id: number): void {
    if (this.tokens[id] !== undefined) return;
    this.tokens[id] = content;
    if (!this.ids.has(content)) this.ids.set(content, id);
  }

  token(id: number): string | undefined {
    return this.tokens[id];
  }

  /**
   * vocab.txt: one token per line, id = line number, trailing whitespace trimmed as HF's WordPiece reader does
   * (the Chinese vocab has U+2028 and "##\u2028" lines, which HF reads as "" and "##").
   */
  static fromText(text: string, prefix = '##'): Vocab {
    const lines = text.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return new Vocab(
      lines.map((l) => l.replace(TRAILING_SPACE, '')),
      prefix,
    );
  }

  /** tokenizer.json `model.vocab`: {token: id}. Returns a problem description for an invalid id. */
  static fromMap(map: Record<string, number>, prefix = '##'): Vocab | string {
    const tokens: string[] = [];
    const entries = Object.entries(map);
    for (const [t, id] of entries) {
      if (!Number.isInteger(id) || id < 0 || id > MAX_VOCAB_ID) {
        return `token ${JSON.stringify(t)} has id ${JSON.stringify(id)}, expected an integer in 0..${MAX_VOCAB_ID}`;
      }
      tokens[id] = t;
    }
    return new Vocab(tokens, prefix, entries.length);
  }
}
