// What `sbert inspect PATH` reports: what a weights file or model folder holds, and how its keys map.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tokenizerFor } from '../encoder/load.js';
import { messageOf } from '../errors.js';
import {
  BertTokenizer,
  type SentencePieceSettings,
  type TokenizerSettings,
  NoTokenizerError,
  XLMRobertaTokenizer,
} from '../tokenizer/index.js';
import { groupLabel } from '../compare/compare.js';
import { loadReference } from '../compare/reference.js';
import { openCheckpoint } from '../loader/checkpoint.js';
import type { LoadOptions } from '../loader/canonical.js';
import { CONFIG_LIMITS, toHfConfig } from '../loader/config.js';
import { layersIn } from '../loader/inventory.js';
import { bertNames, keyStyle, knownNames, mapKeys, POOLER_KEYS } from '../loader/keys.js';
import { loadModelDir } from '../loader/model-dir.js';
import { resolveModelDir } from '../loader/resolve.js';
import type { CheckpointFormat } from '../loader/tensor.js';

export interface InspectReport {
  path: string;
  weightsFile: string;
  format: CheckpointFormat;
  dtypes: string[];
  tensors: { name: string; dtype: string; shape: number[] }[];
  config?: Record<string, unknown>;
  pooling?: string;
  normalize?: boolean;
  maxSeqLength?: number;
  keyStyle: 'hf' | 'uer';
  missing: string[];
  unexpected: string[];
  renamed: [string, string][];
  ignoredConfigKeys: string[];
  /** A model folder's tokenizer: its file, the class transformers would build, and each setting with where it came from. */
  tokenizer?: TokenizerReport | { error: string; absent?: true };
  /** For an activation file (`sbert dump`, scripts/dump_reference.py) rather than weights: its batches. */
  reference?: {
    groups: { name: string; batch: number; length: number; tensors: number }[];
    unknown: string[];
    metadata: Record<string, string>;
  };
}

export interface TokenizerReport {
  file: string;
  class: string;
  vocabSize: number;
  settings: Record<string, { value: unknown; source: string }>;
  /** Ids the model's embedding table has no row for (what loading it for encoding would refuse). */
  problem?: string;
}

/** HF's names for the settings, as the files spell them. */
const SETTING_NAMES: Record<keyof TokenizerSettings, string> = {
  doLowerCase: 'do_lower_case',
  stripAccents: 'strip_accents',
  tokenizeChineseChars: 'tokenize_chinese_chars',
  cleanText: 'clean_text',
  modelMaxLength: 'model_max_length',
  unkToken: 'unk_token',
  clsToken: 'cls_token',
  sepToken: 'sep_token',
  padToken: 'pad_token',
  maskToken: 'mask_token',
  maxInputCharsPerWord: 'max_input_chars_per_word',
};

/** The XLM-R tokenizer's settings, named as tokenizer_config.json spells them. */
const XLMR_SETTING_NAMES: Record<keyof SentencePieceSettings, string> = {
  modelMaxLength: 'model_max_length',
  bosToken: 'bos_token',
  eosToken: 'eos_token',
  unkToken: 'unk_token',
  padToken: 'pad_token',
  maskToken: 'mask_token',
  addPrefixSpace: 'add_prefix_space',
};

function tokenizerReport(
  dir: string,
  vocabSize: number,
  configFile: string,
): TokenizerReport | { error: string; absent?: true } {
  let tok;
  try {
    tok = tokenizerFor(dir);
  } catch (e) {
    return { error: messageOf(e), ...(e instanceof NoTokenizerError ? { absent: true as const } : {}) };
  }
  let problem: string | undefined;
  try {
    tok.checkVocabSize(vocabSize, configFile);
  } catch (e) {
    problem = messageOf(e);
  }
  const settings: TokenizerReport['settings'] = {};
  if (tok instanceof XLMRobertaTokenizer) {
    for (const [k, name] of Object.entries(XLMR_SETTING_NAMES) as [keyof SentencePieceSettings, string][]) {
      settings[name] = { value: tok.settings[k], source: tok.sources[k] };
    }
  } else if (tok instanceof BertTokenizer) {
    for (const [k, name] of Object.entries(SETTING_NAMES) as [keyof TokenizerSettings, string][]) {
      settings[name] = { value: tok.settings[k], source: tok.sources[k] };
    }
  }
  return {
    file: tok.file,
    class: tok.tokenizerClass,
    vocabSize: tok.vocabSize,
    settings,
    ...(problem ? { problem } : {}),
  };
}

/**
 * Inspects a weights file (its structure: every view is bounds-checked when it is opened; values are not read)
 * or a model folder (fully loaded).
 */
export function inspect(path: string, opts: LoadOptions = {}): InspectReport {
  // Anything but a folder is opened as a weights file (a FIFO or device is then refused, by name).
  const isFile = existsSync(path) && !statSync(path).isDirectory();
  const dir = isFile ? undefined : resolveModelDir(path);
  const model = dir ? loadModelDir(dir, opts) : undefined;
  const ckpt = openCheckpoint(model?.weightsFile ?? path);
  try {
    const names = [...ckpt.tensors.keys()];
    const tensors = [...ckpt.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));
    if (model) {
      return {
        path: dir!,
        weightsFile: model.weightsFile,
        format: model.format,
        dtypes: model.dtypes,
        tensors,
        config: toHfConfig(model.config),
        ...(model.pooling ? { pooling: model.pooling.mode } : {}),
        ...(model.normalize ? { normalize: true } : {}),
        ...(model.maxSeqLength !== undefined ? { maxSeqLength: model.maxSeqLength } : {}),
        keyStyle: keyStyle(names),
        ...model.report,
        tokenizer: tokenizerReport(dir!, model.config.vocabSize, join(dirname(model.weightsFile), 'config.json')),
      };
    }
    // No config: take the layer count from the keys themselves.
    const keys = mapKeys(names, knownNames(CONFIG_LIMITS.num_hidden_layers));
    const file = {
      path,
      weightsFile: path,
      format: ckpt.format,
      dtypes: [...new Set(tensors.map((t) => t.dtype))],
      tensors,
      keyStyle: keys.style,
      ignoredConfigKeys: [],
    };
    if (keys.canonical.size === 0 && names.some((n) => n === 'input_ids' || n.endsWith('.input_ids'))) {
      const ref = loadReference(path);
      const groups = ref.groups.map((g) => ({
        name: groupLabel(g.name),
        batch: g.inputs.batch,
        length: g.inputs.length,
        tensors: g.tensors.length,
      }));
      return {
        ...file,
        missing: [],
        unexpected: [],
        renamed: [],
        reference: { groups, unknown: ref.unknown, metadata: ckpt.metadata },
      };
    }
    const layers = layersIn(keys);
    const required = [...bertNames(layers), ...POOLER_KEYS];
    return {
      ...file,
      missing: required.filter((n) => !keys.canonical.has(n)),
      unexpected: keys.unexpected,
      renamed: keys.renamed,
    };
  } finally {
    ckpt.close();
  }
}

/** The report as `sbert inspect` prints it without --json. */
export function text(r: InspectReport): string {
  const lines = [
    `path:    ${r.path}`,
    `weights: ${r.weightsFile}`,
    `format:  ${r.format}   dtypes: ${r.dtypes.join(', ')}${r.reference ? '' : `   keys: ${r.keyStyle}`}`,
  ];
  if (r.config) {
    const c = r.config;
    lines.push(
      `config:  ${c.num_hidden_layers} layers, hidden ${c.hidden_size}, ${c.num_attention_heads} heads, intermediate ${c.intermediate_size}, ` +
        `vocab ${c.vocab_size}, positions ${c.max_position_embeddings}, token types ${c.type_vocab_size}, ${c.hidden_act}, eps ${c.layer_norm_eps}, ` +
        `${c.model_type} (${(c.architectures as string[])[0]}${c.model_type === 'bert' ? '' : `, padding_idx ${c.pad_token_id}`})`,
    );
  }
  if (r.pooling) lines.push(`pooling: ${r.pooling}${r.normalize ? ', then L2-normalized' : ''}`);
  if (r.maxSeqLength !== undefined) lines.push(`max_seq_length: ${r.maxSeqLength}`);
  // A loop, not Math.max(...): a header can list more tensors than a call can take arguments.
  let width = 0;
  for (const t of r.tensors) width = Math.max(width, t.name.length);
  lines.push(`tensors (${r.tensors.length}):`);
  for (const t of r.tensors) lines.push(`  ${t.name.padEnd(width)}  ${t.dtype.padEnd(4)}  [${t.shape.join(', ')}]`);
  if (r.reference) {
    const { groups, unknown, metadata } = r.reference;
    lines.push(
      `activations (sbert compare --reference reads them): ${groups.map((g) => `${g.name} ${g.batch} × ${g.length} tokens, ${g.tensors} tensors`).join('; ')}`,
    );
    if (unknown.length) lines.push(`other tensors (${unknown.length}): ${unknown.join(', ')}`);
    for (const [k, v] of Object.entries(metadata))
      lines.push(`metadata ${k}: ${v.length > 200 ? `${v.slice(0, 200)}…` : v}`);
    return lines.join('\n');
  }
  const pooler = r.missing.every((m) => POOLER_KEYS.includes(m)) && r.missing.length ? ' (pooler: optional)' : '';
  lines.push(`missing (${r.missing.length})${pooler}${r.missing.length ? ': ' + r.missing.join(', ') : ''}`);
  lines.push(`unexpected (${r.unexpected.length})${r.unexpected.length ? ': ' + r.unexpected.join(', ') : ''}`);
  lines.push(`renamed (${r.renamed.length})${r.renamed.length ? ':' : ''}`);
  for (const [a, b] of r.renamed) lines.push(`  ${a} → ${b}`);
  if (r.ignoredConfigKeys.length) lines.push(`ignored config keys: ${r.ignoredConfigKeys.join(', ')}`);
  if (r.tokenizer && 'error' in r.tokenizer) lines.push(`tokenizer: ${r.tokenizer.error}`);
  else if (r.tokenizer) {
    const t = r.tokenizer;
    lines.push(`tokenizer: ${t.file}, ${t.vocabSize} ids; class ${t.class}`);
    const width = Math.max(...Object.keys(t.settings).map((k) => k.length));
    for (const [k, { value, source }] of Object.entries(t.settings))
      lines.push(`  ${k.padEnd(width)}  ${JSON.stringify(value).padEnd(8)}  from ${source}`);
    if (t.problem) lines.push(`tokenizer problem: ${t.problem}`);
  }
  return lines.join('\n');
}

/**
 * Why `encode` would refuse this folder for its tokenizer (one line naming the file), or undefined: a tokenizer
 * file that cannot be loaded or does not fit the model. A folder with no tokenizer at all is only reported.
 */
export function tokenizerRefusal(r: InspectReport): string | undefined {
  const t = r.tokenizer;
  if (!t) return undefined;
  if ('error' in t) return t.absent ? undefined : t.error;
  return t.problem;
}
