// Reading a BERT tokenizer's files: tokenizer.json or vocab.txt, plus tokenizer_config.json and config.json.
// Which settings win follows transformers 5.17's AutoTokenizer:
// - the class comes from tokenizer_config.json's `tokenizer_class`, else config.json's `tokenizer_class`, else
//   config.json's `model_type` (bert, electra, distilbert, ... → BertTokenizer);
// - a BERT class rebuilds the tokenizer from tokenizer.json's vocabulary and the config's arguments with
//   BertTokenizer's defaults (do_lower_case true, tokenize_chinese_chars true, strip_accents None, clean_text
//   true, max_input_chars_per_word 100, prefix "##"), ignoring tokenizer.json's normalizer and model settings;
// - with no class (or a non-BERT one, i.e. TokenizersBackend) tokenizer.json is used as it is.
// Added tokens get their ids as HF tokenizers' AddedVocabulary gives them: the vocabulary's id when the content
// is in it, else the next id after the vocabulary, in order; the ids written in the file are only checked.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkTruncationSide } from './truncation-side.js';
import { CheckpointError, InputError } from '../errors.js';
import { Vocab } from './vocab.js';
import type { AddedToken } from './added.js';
import { MAX_JSON_ENTRIES, parseJson } from '../io/json.js';
import { readTextOfKind } from '../io/read-file.js';

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

/** Where each setting came from, as `sbert inspect` shows it (e.g. "tokenizer_config.json", "default"). */
export type SettingSources = Record<keyof TokenizerSettings, string>;

export interface TokenizerSpec {
  vocab: Vocab;
  settings: TokenizerSettings;
  addedTokens: AddedToken[];
  /** The tokenizer class transformers would build, and why (for `sbert inspect`). */
  tokenizerClass: string;
  sources: SettingSources;
  /** The file the vocabulary came from: what errors about token ids name. */
  file: string;
}

export interface TokenizerFiles {
  vocab?: string;
  tokenizerJson?: string;
  tokenizerConfig?: string;
  /** The folder's config.json: its `tokenizer_class` / `model_type` choose the class when tokenizer_config.json does not. */
  config?: string;
}

type Json = Record<string, unknown>;

/** transformers 5.17 class names that are BertTokenizer (aliases and subclasses with BERT's defaults), without "Fast". */
const BERT_CLASSES = new Set([
  'BertTokenizer',
  'ElectraTokenizer',
  'LayoutLMTokenizer',
  'LxmertTokenizer',
  'MobileBertTokenizer',
  'SqueezeBertTokenizer',
  'DistilBertTokenizer',
  'ConvBertTokenizer',
]);
/** config.json model types whose AutoTokenizer class is BertTokenizer (TOKENIZER_MAPPING_NAMES). */
const BERT_MODEL_TYPES = new Set([
  'align',
  'bark',
  'bert',
  'blip',
  'bros',
  'chinese_clip',
  'convbert',
  'distilbert',
  'electra',
  'ernie',
  'flava',
  'git',
  'grounding-dino',
  'layoutlm',
  'megatron-bert',
  'mm-grounding-dino',
  'nezha',
  'nomic_bert',
  'qdqbert',
  'realm',
  'retribert',
  'squeezebert',
  'tvp',
  'vilt',
  'visual_bert',
]);
/** HF tokenizers reads token ids as u32. */
const MAX_ID = 2 ** 32 - 1;

// The one place tokenizer files are read: through src/io (regular files only, size-capped, strict UTF-8).
function readText(file: string): string {
  return readTextOfKind(file, 'tokenizer', 'tokenizer file');
}

/**
 * A JSON object file through src/io: bounded nesting and entries checked before parsing, duplicate keys refused
 * (JSON.parse would keep the last without a word). config.json is a settings file (16 MiB), the rest
 * tokenizer files (64 MiB).
 */
function readJson(file: string, kind: 'tokenizer' | 'config' = 'tokenizer'): Json {
  const v = parseJson(readTextOfKind(file, kind, `${kind} file`), file, { maxEntries: MAX_JSON_ENTRIES[kind] });
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CheckpointError('invalid JSON: not a JSON object', file);
  return v as Json;
}

const own = (o: Json, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

/** A special token in tokenizer_config.json is a string or an AddedToken object {content: ...}. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Json).content === 'string')
    return (v as Json).content as string;
  return undefined;
}

function bool(v: unknown, file: string, key: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new CheckpointError(`${key} must be true or false, got ${JSON.stringify(v)}`, file);
  return v;
}

/** One added token with its flags (HF's AddedToken serialization); undefined for an entry without content. */
function addedToken(t: unknown, id: unknown, file: string): (Omit<AddedToken, 'id'> & { fileId: number }) | undefined {
  if (typeof t !== 'object' || t === null || typeof (t as Json).content !== 'string') return undefined;
  const o = t as Json;
  const content = o.content as string;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_ID) {
    throw new CheckpointError(
      `added token ${JSON.stringify(content)}: id ${JSON.stringify(id)} is not a token id (an integer in 0..${MAX_ID})`,
      file,
    );
  }
  const flag = (k: string): boolean => bool(own(o, k), file, `added token ${JSON.stringify(content)}: ${k}`) ?? false;
  return {
    content,
    fileId: id,
    singleWord: flag('single_word'),
    lstrip: flag('lstrip'),
    rstrip: flag('rstrip'),
    normalized: flag('normalized'),
    special: flag('special'),
  };
}

/** The tokenizer class AutoTokenizer would pick, and whether it is BertTokenizer. */
function tokenizerClass(
  tc: Json | undefined,
  config: Json | undefined,
  f: TokenizerFiles,
): { name: string; bert: boolean } {
  const strip = (s: string): string => s.replace(/Fast$/, '');
  const fromTc = tc && own(tc, 'tokenizer_class');
  if (typeof fromTc === 'string')
    return { name: `${fromTc} (${basename(f.tokenizerConfig!)})`, bert: BERT_CLASSES.has(strip(fromTc)) };
  const fromConfig = config && own(config, 'tokenizer_class');
  if (typeof fromConfig === 'string')
    return {
      name: `${fromConfig} (${basename(f.config!)} tokenizer_class)`,
      bert: BERT_CLASSES.has(strip(fromConfig)),
    };
  const type = config && own(config, 'model_type');
  if (typeof type === 'string' && BERT_MODEL_TYPES.has(type))
    return { name: `BertTokenizer (${basename(f.config!)} model_type ${type})`, bert: true };
  return { name: 'none named: tokenizer.json as it is (TokenizersBackend)', bert: false };
}

function positiveInt(v: unknown, min: number, file: string, key: string, why: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new CheckpointError(`${key} must be an integer of at least ${min}${why}, got ${JSON.stringify(v)}`, file);
  }
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
  const sources = Object.fromEntries(Object.keys(settings).map((k) => [k, 'default'])) as SettingSources;
  const tc = f.tokenizerConfig ? readJson(f.tokenizerConfig) : undefined;
  const config = f.config && existsSync(f.config) ? readJson(f.config, 'config') : undefined;
  const cls = tokenizerClass(tc, config, f);
  let vocab: Vocab;
  let file: string;
  const added: (Omit<AddedToken, 'id'> & { fileId?: number })[] = [];
  const tcJson = tc === undefined ? undefined : { json: tc, file: f.tokenizerConfig! };
  if (!f.tokenizerJson) checkTruncationSide(tcJson, undefined);

  if (f.tokenizerJson) {
    file = f.tokenizerJson;
    const name = basename(file);
    const tj = readJson(file);
    checkTruncationSide(tcJson, { json: tj, file });
    const model = own(tj, 'model') as Json | undefined;
    if (!model || typeof model !== 'object') throw new CheckpointError('no "model" section', file);
    if (model.type !== undefined && model.type !== 'WordPiece') {
      throw new CheckpointError(`model type ${JSON.stringify(model.type)} is not supported (only WordPiece)`, file);
    }
    if (typeof model.vocab !== 'object' || model.vocab === null)
      throw new CheckpointError('model.vocab is missing', file);
    // HF parses these even where the class then ignores them, so a bad value fails either way.
    const prefix = own(model, 'continuing_subword_prefix') ?? '##';
    if (typeof prefix !== 'string')
      throw new CheckpointError(
        `model.continuing_subword_prefix must be a string, got ${JSON.stringify(prefix)}`,
        file,
      );
    const maxChars = own(model, 'max_input_chars_per_word');
    if (maxChars !== undefined)
      positiveInt(maxChars, 1, file, 'model.max_input_chars_per_word', ' (longer words become [UNK])');
    const unk = own(model, 'unk_token');
    if (unk !== undefined && typeof unk !== 'string')
      throw new CheckpointError(`model.unk_token must be a string, got ${JSON.stringify(unk)}`, file);
    const v = Vocab.fromMap(model.vocab as Record<string, number>, cls.bert ? '##' : prefix);
    if (typeof v === 'string') throw new CheckpointError(`model.vocab: ${v}`, file);
    vocab = v;
    const norm = own(tj, 'normalizer') as Json | null | undefined;
    const pre = own(tj, 'pre_tokenizer') as Json | null | undefined;
    if (cls.bert) {
      // Rebuilt from the config (below); what tokenizer.json says here is not used.
      const ignored = `BertTokenizer default (${name}'s value not used)`;
      for (const k of [
        'cleanText',
        'maxInputCharsPerWord',
        'doLowerCase',
        'stripAccents',
        'tokenizeChineseChars',
        'unkToken',
      ] as const)
        sources[k] = ignored;
    } else {
      if (typeof unk === 'string') [settings.unkToken, sources.unkToken] = [unk, `${name} model.unk_token`];
      if (maxChars !== undefined)
        [settings.maxInputCharsPerWord, sources.maxInputCharsPerWord] = [maxChars as number, `${name} model`];
      if (norm) {
        if (norm.type !== 'BertNormalizer') {
          throw new CheckpointError(
            `normalizer ${JSON.stringify(norm.type)} is not supported (only BertNormalizer)`,
            file,
          );
        }
        const from = `${name} normalizer`;
        const set = <K extends 'cleanText' | 'tokenizeChineseChars' | 'doLowerCase'>(k: K, key: string): void => {
          const b = bool(own(norm, key), file, `normalizer.${key}`);
          if (b !== undefined) [settings[k], sources[k]] = [b, from];
        };
        set('cleanText', 'clean_text');
        set('tokenizeChineseChars', 'handle_chinese_chars');
        set('doLowerCase', 'lowercase');
        const sa = own(norm, 'strip_accents');
        if (sa !== undefined)
          [settings.stripAccents, sources.stripAccents] = [
            sa === null ? null : bool(sa, file, 'normalizer.strip_accents')!,
            from,
          ];
      } else {
        // No normalizer at all: HF then leaves the text as it is.
        settings.cleanText = settings.tokenizeChineseChars = settings.doLowerCase = false;
        settings.stripAccents = false;
        for (const k of ['cleanText', 'tokenizeChineseChars', 'doLowerCase', 'stripAccents'] as const)
          sources[k] = `${name} (no normalizer)`;
      }
      if (pre && pre.type !== 'BertPreTokenizer') {
        throw new CheckpointError(
          `pre_tokenizer ${JSON.stringify(pre.type)} is not supported (only BertPreTokenizer)`,
          file,
        );
      }
    }
    const list = own(tj, 'added_tokens');
    if (list !== undefined && !Array.isArray(list)) throw new CheckpointError('added_tokens must be a list', file);
    for (const t of (list ?? []) as unknown[]) {
      const a = addedToken(t, typeof t === 'object' && t !== null ? own(t as Json, 'id') : undefined, file);
      if (a) added.push(a);
    }
  } else if (f.vocab) {
    file = f.vocab;
    vocab = Vocab.fromText(readText(f.vocab));
    if (vocab.size === 0) throw new CheckpointError('empty vocabulary', f.vocab);
  } else {
    throw new InputError('no tokenizer.json or vocab.txt given');
  }

  if (tc) {
    const tcFile = f.tokenizerConfig!;
    const from = basename(tcFile);
    // BertTokenizer's arguments: a BERT class, or a vocab.txt folder (which only BertTokenizer reads).
    if (cls.bert || !f.tokenizerJson) {
      const set = <K extends 'doLowerCase' | 'tokenizeChineseChars'>(k: K, key: string): void => {
        const b = bool(own(tc, key), tcFile, key);
        if (b !== undefined) [settings[k], sources[k]] = [b, from];
      };
      set('doLowerCase', 'do_lower_case');
      set('tokenizeChineseChars', 'tokenize_chinese_chars');
      const sa = own(tc, 'strip_accents');
      if (sa !== undefined)
        [settings.stripAccents, sources.stripAccents] = [sa === null ? null : bool(sa, tcFile, 'strip_accents')!, from];
      const unk = tokenName(own(tc, 'unk_token'));
      if (unk !== undefined) [settings.unkToken, sources.unkToken] = [unk, from];
    }
    const mml = own(tc, 'model_max_length');
    if (mml !== undefined && mml !== null) {
      // 1e30 (int(1e30) as JSON) is HF's "no limit"; below 2 there is no room for [CLS] and [SEP].
      if (typeof mml !== 'number' || !(mml >= 2) || (!Number.isInteger(mml) && mml < 1e15)) {
        throw new CheckpointError(
          `model_max_length must be an integer of at least 2 (room for [CLS] and [SEP]), got ${JSON.stringify(mml)}`,
          tcFile,
        );
      }
      [settings.modelMaxLength, sources.modelMaxLength] = [mml, from];
    }
    for (const [k, key] of [
      ['clsToken', 'cls_token'],
      ['sepToken', 'sep_token'],
      ['padToken', 'pad_token'],
      ['maskToken', 'mask_token'],
    ] as const) {
      const v = tokenName(own(tc, key));
      if (v !== undefined) [settings[k], sources[k]] = [v, from];
    }
    // A slow tokenizer's added tokens (transformers ≥ 4.34); with a tokenizer.json, its own list rules.
    const decoder = own(tc, 'added_tokens_decoder');
    if (!f.tokenizerJson && typeof decoder === 'object' && decoder !== null) {
      for (const [id, t] of Object.entries(decoder as Json)) {
        const a = addedToken(t, /^\d+$/.test(id) ? Number(id) : id, tcFile);
        if (a) added.push(a);
      }
    }
  }
  // transformers adds the tokens of a rebuilt class in the order of their ids; tokenizers in file order.
  if (cls.bert || !f.tokenizerJson) added.sort((a, b) => a.fileId! - b.fileId!);

  // HF's WordPiece model looks its unk token up in its own vocabulary, not among the added tokens: without it
  // every unknown word is an error there ("Missing [UNK] token from the vocabulary"), where an id given to it
  // as an added token here embedded an empty vocabulary's every word as that id.
  if (!vocab.ids.has(settings.unkToken))
    throw new CheckpointError(
      `the unknown-word token ${JSON.stringify(settings.unkToken)} (${sources.unkToken}) is not in the vocabulary (the WordPiece model's own, not its added tokens): transformers fails on every word it does not know`,
      file,
    );
  // Special tokens are matched whole in the raw text, like HF's added tokens (vocab.txt: the five specials).
  for (const name of [settings.padToken, settings.unkToken, settings.clsToken, settings.sepToken, settings.maskToken]) {
    if (!added.some((t) => t.content === name)) added.push({ content: name, special: true });
  }
  const addedTokens = assignIds(vocab, added);
  for (const name of [settings.unkToken, settings.clsToken, settings.sepToken, settings.padToken]) {
    if (!addedTokens.some((t) => t.content === name))
      throw new CheckpointError(`special token ${name} is not in the vocabulary`, file);
  }
  return { vocab, settings, addedTokens, tokenizerClass: cls.name, sources, file };
}

/**
 * Ids as HF tokenizers' AddedVocabulary::add_tokens gives them: a content already added or in the vocabulary
 * keeps that id; any other gets the next one from the vocabulary's size on. A special token name that is
 * nowhere (no file id, not in the vocabulary) is left out.
 */
function assignIds(vocab: Vocab, added: (Omit<AddedToken, 'id'> & { fileId?: number })[]): AddedToken[] {
  const at = new Map<string, number>(); // content → its place in `out`
  let next = vocab.entries;
  const out: AddedToken[] = [];
  for (const t of added) {
    if (t.content === '') continue;
    const seen = at.get(t.content);
    const token = t as AddedToken; // ids set in place: a tokenizer may list 10⁵ added tokens
    if (seen !== undefined) {
      // the same content again: same id, and (as HF's map by id) the later flags replace the earlier
      token.id = out[seen]!.id;
      out[seen] = token;
      continue;
    }
    let id = vocab.ids.get(t.content);
    if (id === undefined) {
      if (t.fileId === undefined) continue;
      id = next++;
    }
    token.id = id;
    at.set(t.content, out.length);
    out.push(token);
  }
  for (const t of out) vocab.addToken(t.content, t.id);
  return out;
}

/** The tokenizer files in a model folder: tokenizer.json, else vocab.txt; tokenizer_config.json and config.json when present. */
export function tokenizerFilesIn(dir: string): TokenizerFiles {
  if (!existsSync(dir)) throw new InputError('no such directory', dir);
  const files: TokenizerFiles = {};
  const tj = join(dir, 'tokenizer.json');
  const vt = join(dir, 'vocab.txt');
  const tc = join(dir, 'tokenizer_config.json');
  const config = join(dir, 'config.json');
  if (existsSync(tj)) files.tokenizerJson = tj;
  else if (existsSync(vt)) files.vocab = vt;
  else throw new InputError('no tokenizer.json or vocab.txt in the model folder', dir);
  if (existsSync(tc)) files.tokenizerConfig = tc;
  if (existsSync(config)) files.config = config;
  return files;
}
