// BERT's tokenizer as HF BertTokenizerFast runs it (what sentence-transformers uses): [CLS] A [SEP] (B [SEP]),
// longest_first truncation, padding to the longest in a batch, code-point offsets.
import { charTables } from './chars.js';
import {
  readTokenizerFiles,
  type SettingSources,
  tokenizerFilesIn,
  type TokenizerFiles,
  type TokenizerSettings,
} from './files.js';
import type { Vocab } from './vocab.js';
import { WordPiece } from './wordpiece.js';
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

export type { SettingSources, TokenizerSettings, TokenizerFiles } from './files.js';
export { longestFirst, type EncodeOptions, type Encoding } from './encoding.js';

export class BertTokenizer {
  readonly kind = 'wordpiece' as const;
  readonly settings: TokenizerSettings;
  /** Which file (or default) each setting came from. */
  readonly sources: SettingSources;
  /** The class transformers' AutoTokenizer would build for these files, and what named it. */
  readonly tokenizerClass: string;
  /** tokenizer.json or vocab.txt: the file the ids come from. */
  readonly file: string;
  readonly vocab: Vocab;
  readonly padId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number;
  private readonly wordpiece: WordPiece;
  private readonly specialIds: Set<number>;
  private readonly maxId: number;

  private constructor(files: TokenizerFiles) {
    const { vocab, settings, addedTokens, sources, tokenizerClass, file } = readTokenizerFiles(files);
    this.settings = settings;
    this.sources = sources;
    this.tokenizerClass = tokenizerClass;
    this.file = file;
    this.maxId = vocab.size - 1; // added tokens are in the table too
    this.vocab = vocab;
    const idOf = (t: string): number => addedTokens.find((a) => a.content === t)!.id;
    this.padId = idOf(settings.padToken);
    this.clsId = idOf(settings.clsToken);
    this.sepId = idOf(settings.sepToken);
    this.unkId = idOf(settings.unkToken);
    this.specialIds = new Set(addedTokens.filter((t) => t.special).map((t) => t.id));
    const tables = charTables({
      cleanText: settings.cleanText,
      handleChineseChars: settings.tokenizeChineseChars,
      stripAccents: settings.stripAccents ?? settings.doLowerCase,
      lowercase: settings.doLowerCase,
    });
    this.wordpiece = new WordPiece(vocab, tables, this.unkId, settings.maxInputCharsPerWord, addedTokens);
  }

  /** From a model folder: tokenizer.json, else vocab.txt, with tokenizer_config.json and config.json when present. */
  static fromDir(dir: string): BertTokenizer {
    return new BertTokenizer(tokenizerFilesIn(dir));
  }

  static fromFiles(files: TokenizerFiles): BertTokenizer {
    return new BertTokenizer(files);
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  get modelMaxLength(): number {
    return this.settings.modelMaxLength;
  }

  /**
   * Checks that every id this tokenizer can produce has a row in the model's embedding table (`vocab_size`
   * rows, from `configFile`): a CheckpointError naming the tokenizer file otherwise, at load rather than when
   * such a token first appears.
   */
  checkVocabSize(vocabSize: number, configFile: string): void {
    if (this.maxId < vocabSize) return;
    let first = vocabSize;
    while (this.vocab.token(first) === undefined) first++;
    throw idsPastTable(first, this.maxId, this.vocab.token(first), vocabSize, configFile, this.file);
  }

  idToToken(id: number): string {
    const t = this.vocab.token(id);
    if (t === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.vocab.size})`);
    return t;
  }

  /** Word pieces of `text` without special tokens: ids and code-point offsets. */
  tokenizeRaw(text: string): TokenSink {
    const out: TokenSink = { ids: [], starts: [], ends: [] };
    this.wordpiece.tokenize(text, out);
    return out;
  }

  encode(text: string, opts: EncodeOptions = {}): Encoding {
    // The sink starts with [CLS], so its arrays become the encoding's without copying.
    const a: TokenSink = { ids: [this.clsId], starts: [0], ends: [0] };
    const max = opts.maxLength === undefined ? undefined : checkMaxLength(opts.maxLength, 2);
    // HF stops tokenizing at the first word boundary past max_length tokens; the cut below is then the same.
    this.wordpiece.tokenize(text, a, max);
    if (max !== undefined) truncate(a, max - 1);
    a.ids.push(this.sepId);
    a.starts.push(0);
    a.ends.push(0);
    return this.finish(a, a.ids.length);
  }

  /**
   * Whether `encode(text, { maxLength })` is the same for every text that starts with `prefix`: tokenizing
   * stops at `maxLength` tokens inside it, far enough from its end. A reader may then keep only the start of a
   * very long line.
   */
  prefixDecides(prefix: string, maxLength: number): boolean {
    return this.wordpiece.decidedBy(prefix, checkMaxLength(maxLength, 2));
  }

  /**
   * [CLS] first [SEP] second [SEP]; an empty `second` means no pair, as in HF (`if text_pair` is falsy).
   * With `maxLength`, as tokenizers ≥ 0.23: each sequence is first cut to its shortest whole-word prefix of at
   * least `maxLength` tokens (added tokens count but end no prefix), then `longest_first` shares
   * `maxLength - 3` tokens between the two cut lengths.
   */
  encodePair(first: string, second: string, opts: EncodeOptions = {}): Encoding {
    if (second === '') return this.encode(first, opts);
    const max = opts.maxLength === undefined ? undefined : checkMaxLength(opts.maxLength, 3);
    const a: TokenSink = { ids: [this.clsId], starts: [0], ends: [0] };
    this.wordpiece.tokenize(first, a, max);
    const b: TokenSink = { ids: [], starts: [], ends: [] };
    this.wordpiece.tokenize(second, b, max);
    if (max !== undefined) {
      const [n1, n2] = longestFirst(a.ids.length - 1, b.ids.length, max - 3);
      truncate(a, n1 + 1);
      truncate(b, n2);
    }
    a.ids.push(this.sepId);
    a.starts.push(0);
    a.ends.push(0);
    const firstLength = a.ids.length;
    for (let i = 0; i < b.ids.length; i++) {
      a.ids.push(b.ids[i]!);
      a.starts.push(b.starts[i]!);
      a.ends.push(b.ends[i]!);
    }
    a.ids.push(this.sepId);
    a.starts.push(0);
    a.ends.push(0);
    return this.finish(a, firstLength);
  }

  /** Encodes each text; with `padding` (default true) pads all to the longest with [PAD] (mask 0). */
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

  /**
   * Ids back to text, like HF's WordPiece decoder with cleanup: pieces joined by spaces, `##` pieces glued to
   * the previous one, then the spaces before . ? ! , and English clitics removed (" n't" → "n't", ...).
   * CJK characters therefore come back space-separated, as in HF.
   */
  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    const prefix = this.vocab.prefix;
    let text = '';
    let first = true;
    for (const id of ids) {
      if (opts.skipSpecialTokens && this.specialIds.has(id)) continue;
      let t = this.idToToken(id);
      if (!first) t = prefix && t.startsWith(prefix) ? t.slice(prefix.length) : ` ${t}`;
      first = false;
      text += cleanup(t);
    }
    return text;
  }

  /** The encoding of a full sequence (specials included): type 0 up to `firstLength`, then 1. */
  private finish(s: TokenSink, firstLength: number): Encoding {
    const { ids, starts, ends } = s;
    const n = ids.length;
    const tokenTypeIds = new Array<number>(n).fill(0, 0, firstLength).fill(1, firstLength);
    const attentionMask = new Array<number>(n).fill(1);
    const tokens = new Array<string>(n);
    const offsets = new Array<[number, number]>(n);
    const vocab = this.vocab;
    for (let i = 0; i < n; i++) {
      tokens[i] = vocab.token(ids[i]!)!;
      offsets[i] = [starts[i]!, ends[i]!];
    }
    return { inputIds: ids, tokenTypeIds, attentionMask, tokens, offsets };
  }
}

function cleanup(t: string): string {
  return t
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
