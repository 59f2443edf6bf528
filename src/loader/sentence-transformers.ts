// A sentence-transformers folder (`modules.json`): where its Transformer module's weights are, its Pooling and
// Normalize modules, and `sentence_bert_config.json`'s max_seq_length.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { own } from '../io/json.js';
import { readJson } from './json.js';
import { type PoolingConfig, poolingOf } from './pooling-config.js';

/** A JSON value for messages: numbers as JavaScript prints them (1e400 parses to Infinity, which JSON shows as null). */
const shown = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v));

export interface StLayout {
  modelDir: string;
  pooling?: PoolingConfig;
  normalize?: boolean;
  maxSeqLength?: number;
  /** The sentence_bert_config.json that set maxSeqLength. */
  maxSeqLengthFile?: string;
  /**
   * The sentence_bert_config.json that sets `do_lower_case: true`: sentence-transformers then lowercases every
   * text before its tokenizer (a Lowercase normalizer in front), which only a lowercasing tokenizer already does.
   */
  lowerCaseFile?: string;
}

/** The layout `dir/modules.json` describes, or undefined when there is none. */
export function sentenceTransformers(dir: string): StLayout | undefined {
  const modulesFile = join(dir, 'modules.json');
  if (!existsSync(modulesFile)) return undefined;
  const mods = readJson(modulesFile);
  if (!Array.isArray(mods)) throw new CheckpointError('not a list of modules', modulesFile);
  const out: StLayout = { modelDir: dir };
  let transformer = false;
  for (const m of mods as unknown[]) {
    const type = String(own(m, 'type') ?? '');
    const given = own(m, 'path');
    const path = typeof given === 'string' ? given : '';
    if (path.split(/[\\/]/).includes('..'))
      throw new CheckpointError(`module path "${path}" leaves the model folder`, modulesFile);
    if (/\.Transformer$/.test(type)) {
      out.modelDir = join(dir, path);
      transformer = true;
    } else if (/\.Pooling$/.test(type)) out.pooling = poolingOf(join(dir, path, 'config.json'));
    else if (/\.Normalize$/.test(type)) out.normalize = true;
    // Skipping a module (Dense, LayerNorm, a custom one) would change every embedding without a word.
    else
      throw new CheckpointError(
        `module ${JSON.stringify(type || null)} (path ${JSON.stringify(path)}) is not supported: only Transformer, Pooling and Normalize modules run here, and leaving it out would change every embedding`,
        modulesFile,
      );
  }
  if (!transformer) throw new CheckpointError('no Transformer module listed', modulesFile);
  for (const f of [join(out.modelDir, 'sentence_bert_config.json'), join(dir, 'sentence_bert_config.json')]) {
    if (!existsSync(f)) continue;
    const len = own(readJson(f), 'max_seq_length');
    // sentence-transformers truncates to it: [CLS] and [SEP] alone need 2 (checked against the positions at load).
    if (len !== undefined && len !== null && !(typeof len === 'number' && Number.isInteger(len) && len >= 2)) {
      throw new CheckpointError(`max_seq_length must be an integer of at least 2, got ${shown(len)}`, f);
    }
    if (typeof len === 'number') {
      out.maxSeqLength = len;
      out.maxSeqLengthFile = f;
    }
    const lower = own(readJson(f), 'do_lower_case');
    if (lower !== undefined && lower !== null && typeof lower !== 'boolean')
      throw new CheckpointError(`do_lower_case must be true or false, got ${shown(lower)}`, f);
    if (lower === true) out.lowerCaseFile = f;
    break;
  }
  checkNoDefaultPrompt(join(dir, 'config_sentence_transformers.json'));
  return out;
}

/**
 * `config_sentence_transformers.json`'s `default_prompt_name`: sentence-transformers' `encode` then puts that
 * prompt in front of every text (`prompts[name]`). No prompt is applied here, so such a folder would embed other
 * texts than sentence-transformers does: refused, naming the prompt.
 */
function checkNoDefaultPrompt(file: string): void {
  if (!existsSync(file)) return;
  const name = own(readJson(file), 'default_prompt_name');
  if (name === undefined || name === null) return;
  throw new CheckpointError(
    `default_prompt_name ${shown(name)} is not supported: sentence-transformers puts that prompt in front of every text, and this engine applies no prompts`,
    file,
  );
}
