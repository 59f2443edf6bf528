// The tokenizer the rest of the engine sees: one interface over WordPiece (BERT) and SentencePiece Unigram
// (XLM-R), picked from the files of a model folder as transformers picks the backend's model: tokenizer.json by
// its `model.type`, else sentencepiece.bpe.model, else vocab.txt.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, InputError } from '../errors.js';
import { BertTokenizer } from './bert-tokenizer.js';
import type { EncodeOptions, Encoding, TokenSink } from './encoding.js';
import { XLMRobertaTokenizer } from './xlmr-tokenizer.js';
import { parseJson } from '../io/json.js';
import { readTextOfKind } from '../io/read-file.js';

export type TokenizerKind = 'wordpiece' | 'unigram';

export interface Tokenizer {
  /** `wordpiece`: BERT's `[CLS] A [SEP] B [SEP]`; `unigram`: XLM-R's `<s> A </s></s> B </s>`. */
  readonly kind: TokenizerKind;
  readonly padId: number;
  /** The id that opens a sequence: `[CLS]` or `<s>`. */
  readonly clsId: number;
  /** The id that closes a segment: `[SEP]` or `</s>`. */
  readonly sepId: number;
  readonly unkId: number;
  /** tokenizer_config.json's `model_max_length`; HF's "no limit" (1e30) when absent. Not applied unless asked for. */
  readonly modelMaxLength: number;
  /** Token ids are below this (the vocabulary with added tokens). */
  readonly vocabSize: number;
  /** The file the ids come from (tokenizer.json, vocab.txt, sentencepiece.bpe.model): what errors about ids name. */
  readonly file: string;
  /** The class transformers' AutoTokenizer would build for these files, and what named it. */
  readonly tokenizerClass: string;
  /**
   * Throws a CheckpointError naming `file` when some id this tokenizer can produce has no row in the model's
   * embedding table (`vocabSize` rows, from `configFile`).
   */
  checkVocabSize(vocabSize: number, configFile: string): void;
  /**
   * Whether `encode(text, { maxLength })` is the same for every text that starts with `prefix` (tokenizing stops
   * at `maxLength` tokens inside it, far enough from its end): a reader may then keep only a long line's start.
   */
  prefixDecides(prefix: string, maxLength: number): boolean;
  /** The token of an id; a RangeError outside the vocabulary. */
  idToToken(id: number): string;
  /** The tokens of `text` without special tokens: ids and code-point offsets. */
  tokenizeRaw(text: string): TokenSink;
  /** One text with its special tokens; `maxLength` truncates (HF `truncation=True, max_length=N`). */
  encode(text: string, opts?: EncodeOptions): Encoding;
  /** A pair; an empty `second` means no pair, as in HF. Truncation is `longest_first`. */
  encodePair(first: string, second: string, opts?: EncodeOptions): Encoding;
  /** Encodes each text; with `padding` (default true) pads all to the longest (mask 0). */
  encodeBatch(texts: string[], opts?: EncodeOptions & { padding?: boolean }): Encoding[];
  /** Pairs [a, b] (b null: a single text), padded like `encodeBatch`. */
  encodePairBatch(pairs: [string, string | null][], opts?: EncodeOptions & { padding?: boolean }): Encoding[];
  /** Pads encodings in place to the longest one. */
  pad(encs: Encoding[]): Encoding[];
  /** Ids back to text, as HF's decoder for this tokenizer does. */
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
}

/** `model.type` of a tokenizer.json (the reader then parses it and names any problem). */
function modelTypeOf(file: string): unknown {
  // Through src/io: a regular file of at most 64 MiB (a FIFO or /dev/zero is refused by name).
  const text = readTextOfKind(file, 'tokenizer', 'tokenizer file');
  // HF writes `"model": {"type": ...`; anything else is parsed in full.
  const m = /"model"\s*:\s*\{\s*"type"\s*:\s*"(\w+)"/.exec(text);
  if (m) return m[1];
  try {
    // parseJson: bounded nesting before anything is built; its errors are left to the reader, which names them.
    const model = (parseJson(text, file) as { model?: { type?: unknown } } | null)?.model;
    return typeof model === 'object' && model !== null ? model.type : undefined;
  } catch {
    return undefined;
  }
}

/** A model folder with no tokenizer file at all (weights only, as `sbert synth` writes them). */
export class NoTokenizerError extends InputError {
  override name = 'NoTokenizerError';
}

/**
 * The tokenizer of a model folder: tokenizer.json (WordPiece or Unigram, by its model type), else
 * sentencepiece.bpe.model (XLM-R), else vocab.txt (BERT); tokenizer_config.json when present.
 */
export function loadTokenizer(dir: string): Tokenizer {
  if (!existsSync(dir)) throw new InputError('no such directory', dir);
  const tj = join(dir, 'tokenizer.json');
  if (existsSync(tj)) {
    const type = modelTypeOf(tj);
    if (type === 'Unigram') return XLMRobertaTokenizer.fromDir(dir);
    if (type !== undefined && type !== 'WordPiece') {
      throw new CheckpointError(
        `tokenizer model type ${JSON.stringify(type)} is not supported (WordPiece, Unigram)`,
        tj,
      );
    }
    return BertTokenizer.fromDir(dir);
  }
  if (existsSync(join(dir, 'sentencepiece.bpe.model'))) return XLMRobertaTokenizer.fromDir(dir);
  if (existsSync(join(dir, 'vocab.txt'))) return BertTokenizer.fromDir(dir);
  throw new NoTokenizerError('no tokenizer.json, sentencepiece.bpe.model or vocab.txt in the model folder', dir);
}
