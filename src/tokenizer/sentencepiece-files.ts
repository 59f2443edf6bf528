// Reading an XLM-R (SentencePiece Unigram) tokenizer's files as transformers 5's XLMRobertaTokenizer does:
// `tokenizer.json` when present (its Unigram vocabulary and scores, the `precompiled_charsmap` of its
// `Precompiled` normalizer, its added tokens; its normalizer Sequence and pre-tokenizer are not used), else
// `sentencepiece.bpe.model` converted as XLMRobertaConverter does (fairseq ids: <s> <pad> </s> <unk>, then the
// model's pieces from id 3 on, then <mask>); `tokenizer_config.json` for the special tokens, `add_prefix_space`,
// `model_max_length` and (without tokenizer.json) `added_tokens_decoder`.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkTruncationSide, type TokenizerFileJson } from './truncation-side.js';
import { CheckpointError, InputError } from '../errors.js';
import type { AddedToken } from './added.js';
import { readSentencePieceModel, PieceType } from './sentencepiece-model.js';
import { parseJson } from '../io/json.js';
import { readFileOfKind, readTextOfKind } from '../io/read-file.js';

export interface SentencePieceFiles {
  tokenizerJson?: string;
  sentencepieceModel?: string;
  tokenizerConfig?: string;
}

export interface SentencePieceSettings {
  /** From tokenizer_config.json; HF's "no limit" (1e30) when absent. Not applied unless asked for. */
  modelMaxLength: number;
  bosToken: string;
  eosToken: string;
  unkToken: string;
  padToken: string;
  maskToken: string;
  /** false: no `▁` is prepended to words (prepend_scheme `never`). */
  addPrefixSpace: boolean;
}

/** Where each setting came from, as `sbert inspect` shows it ("tokenizer_config.json" or "default"). */
export type SentencePieceSources = Record<keyof SentencePieceSettings, string>;

export interface SentencePieceSpec {
  pieces: string[];
  scores: number[];
  unkId: number;
  /** The normalizer's compiled rules; undefined: no normalizer. */
  charsmap: Uint8Array | undefined;
  addedTokens: AddedToken[];
  settings: SentencePieceSettings;
  sources: SentencePieceSources;
  /** The class transformers would build, and what named it (for `sbert inspect`). */
  tokenizerClass: string;
  /** The file the vocabulary came from (for messages). */
  source: string;
}

type Json = Record<string, unknown>;

function readBytes(file: string): Buffer {
  // Through src/io: a regular file of at most 64 MiB (a FIFO or /dev/zero is refused by name).
  const bytes = readFileOfKind(file, 'tokenizer', 'tokenizer file');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A JSON object file through src/io: strict UTF-8, bounded nesting, duplicate keys refused. */
function readJsonObject(file: string): Json {
  const v = parseJson(readTextOfKind(file, 'tokenizer', 'tokenizer file'), file);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CheckpointError('invalid JSON: not a JSON object', file);
  return v as Json;
}

/** A special token in tokenizer_config.json is a string or an AddedToken object {content: ...}. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Json).content === 'string')
    return (v as Json).content as string;
  return undefined;
}

function flag(t: Json, key: string, file: string): boolean {
  const v = t[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean')
    throw new CheckpointError(`added token ${JSON.stringify(t.content)}: ${key} must be true or false`, file);
  return v;
}

function addedToken(t: unknown, id: unknown, file: string): AddedToken | undefined {
  if (typeof t !== 'object' || t === null) return undefined;
  const o = t as Json;
  if (typeof o.content !== 'string' || !Number.isSafeInteger(id) || (id as number) < 0) return undefined;
  return {
    content: o.content,
    id: id as number,
    singleWord: flag(o, 'single_word', file),
    lstrip: flag(o, 'lstrip', file),
    rstrip: flag(o, 'rstrip', file),
    normalized: flag(o, 'normalized', file),
    special: flag(o, 'special', file),
  };
}

/** The base64 `precompiled_charsmap` of a `Precompiled` normalizer, alone or inside a `Sequence`. */
function charsmapOf(normalizer: unknown, file: string): Uint8Array | undefined {
  if (typeof normalizer !== 'object' || normalizer === null) return undefined;
  const n = normalizer as Json;
  const list = n.type === 'Sequence' && Array.isArray(n.normalizers) ? (n.normalizers as unknown[]) : [n];
  for (const item of list) {
    if (typeof item !== 'object' || item === null || (item as Json).type !== 'Precompiled') continue;
    const b64 = (item as Json).precompiled_charsmap;
    if (b64 === null || b64 === undefined || b64 === '') return undefined;
    if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) {
      throw new CheckpointError('normalizer: precompiled_charsmap is not a base64 string', file);
    }
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  return undefined;
}

function fromTokenizerJson(
  file: string,
  config: TokenizerFileJson | undefined,
): Omit<SentencePieceSpec, 'settings' | 'sources' | 'tokenizerClass'> {
  const tj = readJsonObject(file);
  checkTruncationSide(config, { json: tj, file });
  const model = tj.model as Json | undefined;
  if (typeof model !== 'object' || model === null) throw new CheckpointError('no "model" section', file);
  if (model.type !== 'Unigram') {
    throw new CheckpointError(`model type ${JSON.stringify(model.type)} is not a SentencePiece Unigram model`, file);
  }
  if (model.byte_fallback === true) throw new CheckpointError('Unigram byte_fallback is not supported', file);
  if (!Array.isArray(model.vocab) || model.vocab.length === 0)
    throw new CheckpointError('model.vocab must be a non-empty list', file);
  const pieces: string[] = [];
  const scores: number[] = [];
  model.vocab.forEach((entry: unknown, i: number) => {
    if (
      !Array.isArray(entry) ||
      typeof entry[0] !== 'string' ||
      typeof entry[1] !== 'number' ||
      !Number.isFinite(entry[1])
    ) {
      throw new CheckpointError(`model.vocab[${i}] must be [piece, finite score]`, file);
    }
    pieces.push(entry[0]);
    scores.push(entry[1]);
  });
  const unk = model.unk_id ?? null;
  if (unk !== null && (!Number.isSafeInteger(unk) || (unk as number) < 0 || (unk as number) >= pieces.length)) {
    throw new CheckpointError(
      `model.unk_id ${JSON.stringify(unk)} is not an id of the vocabulary (${pieces.length} pieces)`,
      file,
    );
  }
  const addedTokens: AddedToken[] = [];
  if (Array.isArray(tj.added_tokens)) {
    for (const t of tj.added_tokens as unknown[]) {
      const a = addedToken(t, (t as Json | null)?.id, file);
      if (a) addedTokens.push(a);
    }
  }
  return {
    pieces,
    scores,
    unkId: unk === null ? 3 : (unk as number),
    charsmap: charsmapOf(tj.normalizer, file),
    addedTokens,
    source: file,
  };
}

function fromSentencePieceModel(
  file: string,
  config: Json | undefined,
  configFile: string | undefined,
): Omit<SentencePieceSpec, 'settings' | 'sources' | 'tokenizerClass'> {
  const m = readSentencePieceModel(new Uint8Array(readBytes(file)), file);
  if (m.trainer.modelType !== 1) {
    throw new CheckpointError(`model_type ${m.trainer.modelType} is not supported (only 1, Unigram)`, file);
  }
  if (m.pieces.length < 3) throw new CheckpointError(`${m.pieces.length} pieces: too few for the XLM-R layout`, file);
  const names = (k: string, d: string): string => tokenContent(config?.[k]) ?? d;
  // XLMRobertaConverter.convert_from_spm: the fairseq specials, the pieces from 3 on (id + 1), then <mask>.
  const pieces = [
    names('bos_token', '<s>'),
    names('pad_token', '<pad>'),
    names('eos_token', '</s>'),
    names('unk_token', '<unk>'),
  ];
  const scores = [0, 0, 0, 0];
  for (const p of m.pieces.slice(3)) {
    pieces.push(p.piece);
    scores.push(p.score);
  }
  pieces.push(names('mask_token', '<mask>'));
  scores.push(0);
  const addedTokens: AddedToken[] = [];
  const decoder = config?.added_tokens_decoder;
  if (typeof decoder === 'object' && decoder !== null) {
    for (const [id, t] of Object.entries(decoder as Json)) {
      const a = addedToken(t, /^\d+$/.test(id) ? Number(id) : undefined, configFile!);
      if (a) addedTokens.push(a);
    }
  }
  // The special tokens named in the config, as transformers registers them (plain: no strip flags).
  const index = new Map<string, number>();
  pieces.forEach((p, i) => index.set(p, i));
  for (const k of ['bos_token', 'pad_token', 'eos_token', 'unk_token', 'mask_token']) {
    const content = names(
      k,
      { bos_token: '<s>', pad_token: '<pad>', eos_token: '</s>', unk_token: '<unk>', mask_token: '<mask>' }[k]!,
    );
    if (!addedTokens.some((t) => t.content === content) && index.has(content)) {
      addedTokens.push({ content, id: index.get(content)!, normalized: false, special: true });
    }
  }
  // SentencePiece's user-defined pieces are added tokens too (control pieces are the specials above).
  m.pieces.forEach((p, i) => {
    if (p.type === PieceType.USER_DEFINED && i >= 3 && !addedTokens.some((t) => t.content === p.piece)) {
      addedTokens.push({ content: p.piece, id: index.get(p.piece) ?? i + 1, normalized: false, special: false });
    }
  });
  const charsmap = m.normalizer.precompiledCharsmap.length > 0 ? m.normalizer.precompiledCharsmap : undefined;
  return { pieces, scores, unkId: 3, charsmap, addedTokens, source: file };
}

export function readSentencePieceFiles(f: SentencePieceFiles): SentencePieceSpec {
  const config = f.tokenizerConfig ? readJsonObject(f.tokenizerConfig) : undefined;
  const cls = config?.tokenizer_class;
  if (cls !== undefined && cls !== null && cls !== 'XLMRobertaTokenizer' && cls !== 'XLMRobertaTokenizerFast') {
    throw new CheckpointError(
      `tokenizer_class ${JSON.stringify(cls)} is not supported with a SentencePiece vocabulary (only XLMRobertaTokenizer)`,
      f.tokenizerConfig,
    );
  }
  let base: Omit<SentencePieceSpec, 'settings' | 'sources' | 'tokenizerClass'>;
  const configJson = config === undefined ? undefined : { json: config, file: f.tokenizerConfig! };
  if (f.tokenizerJson) base = fromTokenizerJson(f.tokenizerJson, configJson);
  else if (f.sentencepieceModel) {
    checkTruncationSide(configJson, undefined);
    base = fromSentencePieceModel(f.sentencepieceModel, config, f.tokenizerConfig);
  } else throw new InputError('no tokenizer.json or sentencepiece.bpe.model given');

  const name = (k: string, d: string): string => tokenContent(config?.[k]) ?? d;
  const from = (k: string): string =>
    config && config[k] !== undefined && config[k] !== null ? basename(f.tokenizerConfig!) : 'default';
  const sources: SentencePieceSources = {
    modelMaxLength: from('model_max_length'),
    bosToken: from('bos_token'),
    eosToken: from('eos_token'),
    unkToken: from('unk_token'),
    padToken: from('pad_token'),
    maskToken: from('mask_token'),
    addPrefixSpace: from('add_prefix_space'),
  };
  const settings: SentencePieceSettings = {
    modelMaxLength: 1e30,
    bosToken: name('bos_token', '<s>'),
    eosToken: name('eos_token', '</s>'),
    unkToken: name('unk_token', '<unk>'),
    padToken: name('pad_token', '<pad>'),
    maskToken: name('mask_token', '<mask>'),
    addPrefixSpace: true,
  };
  if (config) {
    const file = f.tokenizerConfig;
    const mml = config.model_max_length;
    if (mml !== undefined && mml !== null) {
      if (typeof mml !== 'number' || !(mml > 0))
        throw new CheckpointError(`model_max_length must be a positive number, got ${JSON.stringify(mml)}`, file);
      settings.modelMaxLength = mml;
    }
    const aps = config.add_prefix_space;
    if (aps !== undefined && aps !== null) {
      if (typeof aps !== 'boolean') throw new CheckpointError('add_prefix_space must be true or false', file);
      settings.addPrefixSpace = aps;
    }
  }
  const ids = new Map<string, number>();
  for (const t of base.addedTokens) ids.set(t.content, t.id);
  for (const [k, v] of [
    ['bos_token', settings.bosToken],
    ['eos_token', settings.eosToken],
    ['pad_token', settings.padToken],
  ] as const) {
    if (!ids.has(v) && !base.pieces.includes(v))
      throw new CheckpointError(`${k} ${JSON.stringify(v)} is not in the vocabulary`, base.source);
  }
  const why = cls
    ? basename(f.tokenizerConfig!)
    : f.tokenizerJson
      ? `${basename(f.tokenizerJson)} model Unigram`
      : basename(base.source);
  return { ...base, settings, sources, tokenizerClass: `XLMRobertaTokenizer (${why})` };
}

/** The tokenizer files of an XLM-R folder: tokenizer.json, else sentencepiece.bpe.model; tokenizer_config.json when present. */
export function sentencePieceFilesIn(dir: string): SentencePieceFiles {
  if (!existsSync(dir)) throw new InputError('no such directory', dir);
  const files: SentencePieceFiles = {};
  const tj = join(dir, 'tokenizer.json');
  const sp = join(dir, 'sentencepiece.bpe.model');
  const tc = join(dir, 'tokenizer_config.json');
  if (existsSync(tj)) files.tokenizerJson = tj;
  else if (existsSync(sp)) files.sentencepieceModel = sp;
  else throw new InputError('no tokenizer.json or sentencepiece.bpe.model in the model folder', dir);
  if (existsSync(tc)) files.tokenizerConfig = tc;
  return files;
}
