// Reading a BERT tokenizer's files: vocab.txt or tokenizer.json, plus tokenizer_config.json.
// Settings follow HF: tokenizer.json's BertNormalizer first, then tokenizer_config.json keys override it
// (as BertTokenizerFast.__init__ rebuilds the normalizer from its kwargs), then HF defaults.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, InputError } from '../errors.js';
import { Vocab } from './vocab.js';
import type { AddedToken } from './added.js';

export interface TokenizerSettings {
  doLowerCase: boolean;
  /** null: follows doLowerCase (HF's default). */
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
  cleanText: boolean;
  /** From tokenizer_config.json; HF's "no limit" (1e30) when absent. Not applied unless asked for. */
  modelMaxLength: number;
  unkToken: string;
  clsToken: string;
  sepToken: string;
  padToken: string;
  maskToken: string;
  maxInputCharsPerWord: number;
}

export interface TokenizerSpec {
  vocab: Vocab;
  settings: TokenizerSettings;
  addedTokens: AddedToken[];
}

export interface TokenizerFiles {
  vocab?: string;
  tokenizerJson?: string;
  tokenizerConfig?: string;
}

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, file);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Json;
  } catch (err) {
    throw new CheckpointError(`invalid JSON: ${(err as Error).message}`, file);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, file);
  }
}

/** One added token with its flags (HF's AddedToken serialization); undefined for an entry without content or id. */
function addedToken(t: Json | undefined, id: unknown, file: string): AddedToken | undefined {
  if (typeof t?.content !== 'string' || !Number.isSafeInteger(id) || (id as number) < 0) return undefined;
  const flag = (k: string): boolean => bool(t[k], file, `added token ${JSON.stringify(t.content)}: ${k}`) ?? false;
  return {
    content: t.content,
    id: id as number,
    singleWord: flag('single_word'),
    lstrip: flag('lstrip'),
    rstrip: flag('rstrip'),
    normalized: flag('normalized'),
    special: flag('special'),
  };
}

/** A special token in tokenizer_config.json is a string or an AddedToken object {content: ...}. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

function bool(v: unknown, file: string, key: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new CheckpointError(`${key} must be true or false, got ${JSON.stringify(v)}`, file);
  return v;
}

export function readTokenizerFiles(f: TokenizerFiles): TokenizerSpec {
  const settings: TokenizerSettings = {
    doLowerCase: true,
    stripAccents: null,
    tokenizeChineseChars: true,
    cleanText: true,
    modelMaxLength: 1e30,
    unkToken: '[UNK]',
    clsToken: '[CLS]',
    sepToken: '[SEP]',
    padToken: '[PAD]',
    maskToken: '[MASK]',
    maxInputCharsPerWord: 100,
  };
  let vocab: Vocab | undefined;
  const added: (Omit<AddedToken, 'id'> & { id?: number })[] = [];

  if (f.tokenizerJson) {
    const file = f.tokenizerJson;
    const tj = readJson(file);
    const model = tj.model as Json | undefined;
    if (!model || typeof model !== 'object') throw new CheckpointError('no "model" section', file);
    if (model.type !== undefined && model.type !== 'WordPiece') {
      throw new CheckpointError(`model type ${JSON.stringify(model.type)} is not supported (only WordPiece)`, file);
    }
    if (typeof model.vocab !== 'object' || model.vocab === null) throw new CheckpointError('model.vocab is missing', file);
    const prefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##';
    const v = Vocab.fromMap(model.vocab as Record<string, number>, prefix);
    if (typeof v === 'string') throw new CheckpointError(`model.vocab: ${v}`, file);
    vocab = v;
    if (typeof model.unk_token === 'string') settings.unkToken = model.unk_token;
    if (typeof model.max_input_chars_per_word === 'number') settings.maxInputCharsPerWord = model.max_input_chars_per_word;
    const norm = tj.normalizer as Json | null | undefined;
    if (norm) {
      if (norm.type !== 'BertNormalizer') {
        throw new CheckpointError(`normalizer ${JSON.stringify(norm.type)} is not supported (only BertNormalizer)`, file);
      }
      settings.cleanText = bool(norm.clean_text, file, 'normalizer.clean_text') ?? true;
      settings.tokenizeChineseChars = bool(norm.handle_chinese_chars, file, 'normalizer.handle_chinese_chars') ?? true;
      settings.doLowerCase = bool(norm.lowercase, file, 'normalizer.lowercase') ?? true;
      settings.stripAccents = norm.strip_accents === null ? null : (bool(norm.strip_accents, file, 'normalizer.strip_accents') ?? null);
    }
    const pre = tj.pre_tokenizer as Json | null | undefined;
    if (pre && pre.type !== 'BertPreTokenizer') {
      throw new CheckpointError(`pre_tokenizer ${JSON.stringify(pre.type)} is not supported (only BertPreTokenizer)`, file);
    }
    if (Array.isArray(tj.added_tokens)) {
      for (const t of tj.added_tokens as Json[]) {
        const a = addedToken(t, t?.id, file);
        if (a) added.push(a);
      }
    }
  } else if (f.vocab) {
    vocab = Vocab.fromText(readText(f.vocab));
    if (vocab.size === 0) throw new CheckpointError('empty vocabulary', f.vocab);
  } else {
    throw new InputError('no tokenizer.json or vocab.txt given');
  }

  if (f.tokenizerConfig) {
    const file = f.tokenizerConfig;
    const tc = readJson(file);
    settings.doLowerCase = bool(tc.do_lower_case, file, 'do_lower_case') ?? settings.doLowerCase;
    if ('strip_accents' in tc) settings.stripAccents = tc.strip_accents === null ? null : bool(tc.strip_accents, file, 'strip_accents')!;
    settings.tokenizeChineseChars = bool(tc.tokenize_chinese_chars, file, 'tokenize_chinese_chars') ?? settings.tokenizeChineseChars;
    if (typeof tc.model_max_length === 'number' && tc.model_max_length > 0) settings.modelMaxLength = tc.model_max_length;
    settings.unkToken = tokenName(tc.unk_token) ?? settings.unkToken;
    settings.clsToken = tokenName(tc.cls_token) ?? settings.clsToken;
    settings.sepToken = tokenName(tc.sep_token) ?? settings.sepToken;
    settings.padToken = tokenName(tc.pad_token) ?? settings.padToken;
    settings.maskToken = tokenName(tc.mask_token) ?? settings.maskToken;
    // A slow tokenizer's added tokens (transformers ≥ 4.34); with a tokenizer.json, its own list rules.
    const decoder = tc.added_tokens_decoder;
    if (!f.tokenizerJson && typeof decoder === 'object' && decoder !== null) {
      for (const [id, t] of Object.entries(decoder as Record<string, Json>)) {
        const a = addedToken(t, /^\d+$/.test(id) ? Number(id) : undefined, file);
        if (a) added.push(a);
      }
    }
  }
  for (const t of added) if (t.id !== undefined) vocab.addToken(t.content, t.id);

  // Special tokens are matched whole in the raw text, like HF's added tokens (vocab.txt: the five specials).
  const source = f.tokenizerJson ?? f.vocab!;
  for (const name of [settings.padToken, settings.unkToken, settings.clsToken, settings.sepToken, settings.maskToken]) {
    if (!added.some((t) => t.content === name)) added.push({ content: name, special: true });
  }
  const addedTokens: AddedToken[] = [];
  for (const t of added) {
    const id = t.id ?? vocab.ids.get(t.content);
    if (id !== undefined) addedTokens.push({ ...t, id });
  }
  for (const name of [settings.unkToken, settings.clsToken, settings.sepToken, settings.padToken]) {
    if (!addedTokens.some((t) => t.content === name)) throw new CheckpointError(`special token ${name} is not in the vocabulary`, source);
  }
  return { vocab, settings, addedTokens };
}

/** The tokenizer files in a model folder: tokenizer.json, else vocab.txt; tokenizer_config.json when present. */
export function tokenizerFilesIn(dir: string): TokenizerFiles {
  if (!existsSync(dir)) throw new InputError('no such directory', dir);
  const files: TokenizerFiles = {};
  const tj = join(dir, 'tokenizer.json');
  const vt = join(dir, 'vocab.txt');
  const tc = join(dir, 'tokenizer_config.json');
  if (existsSync(tj)) files.tokenizerJson = tj;
  else if (existsSync(vt)) files.vocab = vt;
  else throw new InputError('no tokenizer.json or vocab.txt in the model folder', dir);
  if (existsSync(tc)) files.tokenizerConfig = tc;
  return files;
}
