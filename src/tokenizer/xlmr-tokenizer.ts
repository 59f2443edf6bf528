// XLM-RoBERTa's SentencePiece tokenizer as transformers 5.17 runs it (XLMRobertaTokenizer on the tokenizers
// backend, what sentence-transformers uses): added tokens split from the raw text, each stretch between them
// normalized by `Precompiled` alone, pre-tokenized by WhitespaceSplit + Metaspace (`▁`, prepend always),
// segmented by the Unigram model; `<s> A </s>` / `<s> A </s></s> B </s>` with type ids 0, `longest_first`
// truncation, padding with `<pad>`; offsets in code points of the text.
import { AddedMatcher } from './added.js';
import {
  checkMaxLength,
  encodeAll,
  type EncodeOptions,
  type Encoding,
  idsPastTable,
  longestFirst,
  padEncodings,
  type TokenSink,
  truncate,
} from './encoding.js';
import { METASPACE, metaspacePreTokens, type PrependScheme, PreTokens } from './metaspace.js';
import { codePoints } from './offsets.js';
import { identityNormalized, Precompiled, type Normalized } from './precompiled.js';
import {
  readSentencePieceFiles,
  sentencePieceFilesIn,
  type SentencePieceFiles,
  type SentencePieceSettings,
  type SentencePieceSources,
} from './sentencepiece-files.js';
import { Unigram } from './unigram.js';

export type { SentencePieceFiles, SentencePieceSettings } from './sentencepiece-files.js';

export class XLMRobertaTokenizer {
  readonly kind = 'unigram' as const;
  readonly settings: SentencePieceSettings;
  /** Which file (or default) each setting came from. */
  readonly sources: SentencePieceSources;
  /** The class transformers' AutoTokenizer would build, and what named it. */
  readonly tokenizerClass: string;
  /** tokenizer.json or sentencepiece.bpe.model: the file the ids come from. */
  readonly file: string;
  readonly model: Unigram;
  readonly padId: number;
  /** `<s>` (bos, which XLM-R also uses as cls) */
  readonly clsId: number;
  /** `</s>` (eos, also sep) */
  readonly sepId: number;
  readonly unkId: number;
  private readonly normalizer: Precompiled | undefined;
  private readonly scheme: PrependScheme;
  /** Added tokens matched in the raw text, and those matched in the normalized text. */
  private readonly raw: AddedMatcher;
  private readonly normalized: AddedMatcher;
  /** Added tokens whose ids lie outside the model's vocabulary. */
  private readonly extra = new Map<number, string>();
  private readonly specialIds: Set<number>;
  private readonly size: number;
  // scratch
  private readonly pre = new PreTokens();
  /** After `tokenize`: the code point past the word where the limit stopped it; -1 when it did not stop there. */
  private stopCp = -1;
  /** Code points after `stopCp` that a prefix must still hold for `prefixDecides`. */
  private readonly margin: number;

  private constructor(files: SentencePieceFiles) {
    const spec = readSentencePieceFiles(files);
    this.settings = spec.settings;
    this.sources = spec.sources;
    this.tokenizerClass = spec.tokenizerClass;
    this.file = spec.source;
    this.model = new Unigram(spec.pieces, spec.scores, spec.unkId);
    this.normalizer = spec.charsmap ? new Precompiled(spec.charsmap, spec.source) : undefined;
    this.scheme = spec.settings.addPrefixSpace ? 'always' : 'never';
    let size = spec.pieces.length;
    for (const t of spec.addedTokens) {
      if (t.id >= spec.pieces.length) {
        this.extra.set(t.id, t.content);
        size = Math.max(size, t.id + 1);
      }
    }
    this.size = size;
    const idOf = (content: string): number => {
      const added = spec.addedTokens.find((t) => t.content === content);
      return added ? added.id : this.model.idOf(content);
    };
    this.padId = idOf(spec.settings.padToken);
    this.clsId = idOf(spec.settings.bosToken);
    this.sepId = idOf(spec.settings.eosToken);
    this.unkId = spec.unkId;
    this.specialIds = new Set(spec.addedTokens.filter((t) => t.special).map((t) => t.id));
    this.margin = 16 + spec.addedTokens.reduce((m, t) => Math.max(m, t.content.length), 0);
    this.raw = new AddedMatcher(
      spec.addedTokens.filter((t) => !t.normalized).map((token) => ({ pattern: token.content, token })),
    );
    this.normalized = new AddedMatcher(
      spec.addedTokens
        .filter((t) => t.normalized)
        .map((token) => ({ pattern: this.normalize(token.content, 0, token.content.length, 0).text, token })),
    );
  }

  /** From a model folder: tokenizer.json, else sentencepiece.bpe.model, with tokenizer_config.json when present. */
  static fromDir(dir: string): XLMRobertaTokenizer {
    return new XLMRobertaTokenizer(sentencePieceFilesIn(dir));
  }

  static fromFiles(files: SentencePieceFiles): XLMRobertaTokenizer {
    return new XLMRobertaTokenizer(files);
  }

  /** Model pieces plus added tokens beyond them (HF's `len(tokenizer)`). */
  get vocabSize(): number {
    return this.size;
  }

  get modelMaxLength(): number {
    return this.settings.modelMaxLength;
  }

  checkVocabSize(vocabSize: number, configFile: string): void {
    if (this.size <= vocabSize) return;
    throw idsPastTable(
      vocabSize,
      this.size - 1,
      this.idToTokenOrUndefined(vocabSize),
      vocabSize,
      configFile,
      this.file,
    );
  }

  /**
   * Whether `encode(text, { maxLength })` is the same for every text starting with `prefix`: tokenizing stops
   * (tokenizers' limit) after a word that ends inside `prefix` with a separator after it, and far enough from
   * the end that no added token, grapheme cluster or normalization rule reaching past it can change what came
   * before (a cluster the cut shortens to under 6 bytes lies within its last 5 characters).
   */
  prefixDecides(prefix: string, maxLength: number): boolean {
    this.tokenize(prefix, { ids: [], starts: [], ends: [] }, checkMaxLength(maxLength, 2));
    return this.stopCp >= 0 && this.stopCp + this.margin <= codePoints(prefix, 0, prefix.length);
  }

  private idToTokenOrUndefined(id: number): string | undefined {
    return id < this.model.size ? this.model.pieces[id] : this.extra.get(id);
  }

  idToToken(id: number): string {
    const t = Number.isInteger(id) && id >= 0 && id < this.model.size ? this.model.pieces[id] : this.extra.get(id);
    if (t === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.size})`);
    return t;
  }

  /** Pieces of `text` without special tokens: ids and code-point offsets. */
  tokenizeRaw(text: string): TokenSink {
    const out: TokenSink = { ids: [], starts: [], ends: [] };
    this.tokenize(text, out, Infinity);
    return out;
  }

  encode(text: string, opts: EncodeOptions = {}): Encoding {
    const a: TokenSink = { ids: [this.clsId], starts: [0], ends: [0] };
    const max = opts.maxLength === undefined ? undefined : checkMaxLength(opts.maxLength, 2);
    this.tokenize(text, a, max ?? Infinity);
    if (max !== undefined) truncate(a, max - 1);
    push(a, this.sepId);
    return this.finish(a);
  }

  /** `<s> first </s></s> second </s>`; an empty `second` means no pair, as in HF (`if text_pair` is falsy). */
  encodePair(first: string, second: string, opts: EncodeOptions = {}): Encoding {
    if (second === '') return this.encode(first, opts);
    const max = opts.maxLength === undefined ? undefined : checkMaxLength(opts.maxLength, 4);
    const a: TokenSink = { ids: [this.clsId], starts: [0], ends: [0] };
    this.tokenize(first, a, max ?? Infinity);
    const b: TokenSink = { ids: [], starts: [], ends: [] };
    this.tokenize(second, b, max ?? Infinity);
    if (max !== undefined) {
      // Each side was tokenized only up to `max` tokens (whole pre-tokens), as tokenizers 0.23 does before
      // `longest_first` compares the lengths.
      const [n1, n2] = longestFirst(a.ids.length - 1, b.ids.length, max - 4);
      truncate(a, n1 + 1);
      truncate(b, n2);
    }
    push(a, this.sepId);
    push(a, this.sepId);
    for (let i = 0; i < b.ids.length; i++) {
      a.ids.push(b.ids[i]!);
      a.starts.push(b.starts[i]!);
      a.ends.push(b.ends[i]!);
    }
    push(a, this.sepId);
    return this.finish(a);
  }

  /** Encodes each text; with `padding` (default true) pads all to the longest with `<pad>` (mask 0). */
  encodeBatch(texts: string[], opts: EncodeOptions & { padding?: boolean } = {}): Encoding[] {
    return encodeAll(this, texts, opts);
  }

  /** Pairs [a, b] (b null: a single text), padded like `encodeBatch`. */
  encodePairBatch(pairs: [string, string | null][], opts: EncodeOptions & { padding?: boolean } = {}): Encoding[] {
    return encodeAll(this, pairs, opts);
  }

  /** Pads encodings in place to the longest one. */
  pad(encs: Encoding[]): Encoding[] {
    return padEncodings(encs, this.padId, this.settings.padToken);
  }

  /** Ids back to text with HF's Metaspace decoder: `▁` becomes a space, except in the first token where it goes. */
  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    let text = '';
    let first = true;
    for (const id of ids) {
      if (opts.skipSpecialTokens && this.specialIds.has(id)) continue;
      const t = this.idToToken(id);
      text += first && this.scheme !== 'never' ? t.replaceAll(METASPACE, '') : t.replaceAll(METASPACE, ' ');
      first = false;
    }
    return text;
  }

  /**
   * Appends the tokens of `text` to `out`; offsets are code-point indices into `text`. Stops after the first
   * pre-token that brings the count to `limit` or more (tokenizers' `tokenize_with_limit`, used when truncating).
   */
  private tokenize(text: string, out: TokenSink, limit: number): void {
    const run: Run = { out, limit: limit === Infinity ? Infinity : out.ids.length + limit, done: false, last: true };
    this.stopCp = -1;
    if (!this.raw.mayMatch(text)) {
      this.stretch(text, 0, text.length, 0, run);
      return;
    }
    let cp = 0;
    for (const sp of this.raw.split(text)) {
      if (run.done) return;
      run.last = sp.end === text.length;
      const cps = codePoints(text, sp.start, sp.end);
      if (sp.token) {
        out.ids.push(sp.token.id);
        out.starts.push(cp);
        out.ends.push(cp + cps);
      } else {
        this.stretch(text, sp.start, sp.end, cp, run);
      }
      cp += cps;
    }
  }

  private normalize(text: string, from: number, to: number, cp0: number): Normalized {
    if (this.normalizer) return this.normalizer.normalize(text, from, to, cp0);
    return identityNormalized(text, from, to, cp0);
  }

  /** A stretch of text between added tokens: normalized, then its normalized added tokens, then the model. */
  private stretch(text: string, from: number, to: number, cp0: number, run: Run): void {
    if (from === to) return;
    const norm = this.normalize(text, from, to, cp0);
    if (this.normalized.size === 0 || !this.normalized.mayMatch(norm.text)) {
      this.words(norm, 0, norm.text.length, run);
      return;
    }
    const out = run.out;
    for (const np of this.normalized.split(norm.text)) {
      if (run.done) return;
      if (np.token) {
        out.ids.push(np.token.id);
        out.starts.push(norm.start[np.start]!);
        out.ends.push(norm.end[np.end - 1]!);
      } else {
        const last = run.last;
        run.last = last && np.end === norm.text.length;
        this.words(norm, np.start, np.end, run);
        run.last = last;
      }
    }
  }

  /** Pre-tokenizes norm.text[from, to) and segments each pre-token. */
  private words(norm: Normalized, from: number, to: number, run: Run): void {
    const out = run.out;
    const pre = this.pre;
    metaspacePreTokens(norm.text, from, to, this.scheme, (u) => norm.start[u] === 0, pre);
    const model = this.model;
    for (let p = 0; p < pre.count; p++) {
      const s = pre.starts[p]!;
      const e = pre.ends[p]!;
      const prepended = pre.prepended[p] === 1;
      const count = model.segment(norm.text, s, e, prepended);
      const tokens = model.tokens;
      // unit u of the pre-token → unit of norm.text (the prepended `▁` shares the first character's alignment)
      const shift = prepended ? s - 1 : s;
      for (let k = 3 * (count - 1); k >= 0; k -= 3) {
        const a = Math.max(tokens[k + 1]! + shift, s);
        const b = Math.max(tokens[k + 2]! - 1 + shift, s);
        out.ids.push(tokens[k]!);
        out.starts.push(norm.start[a]!);
        out.ends.push(norm.end[b]!);
      }
      if (out.ids.length >= run.limit) {
        run.done = true;
        // Where the text stopped mattering: past this word, unless it may run on past the end of the text.
        this.stopCp = e === to && run.last ? -1 : norm.end[e - 1]!;
        return;
      }
    }
  }

  private finish(s: TokenSink): Encoding {
    const { ids, starts, ends } = s;
    const n = ids.length;
    const tokens = new Array<string>(n);
    const offsets = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) {
      tokens[i] = this.idToToken(ids[i]!);
      offsets[i] = [starts[i]!, ends[i]!];
    }
    return {
      inputIds: ids,
      tokenTypeIds: new Array<number>(n).fill(0),
      attentionMask: new Array<number>(n).fill(1),
      tokens,
      offsets,
    };
  }
}

/** One call's output and where it stops. */
interface Run {
  out: TokenSink;
  /** Stop once out.ids reaches this length (at the end of a pre-token). */
  limit: number;
  done: boolean;
  /** The piece being tokenized reaches the end of the text. */
  last: boolean;
}

function push(s: TokenSink, id: number): void {
  s.ids.push(id);
  s.starts.push(0);
  s.ends.push(0);
}
