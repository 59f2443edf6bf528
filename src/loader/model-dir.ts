// A model folder → config + canonical float32 weights + pooling, for every layout in ../shared/fixtures/tiny/
// (HF, torch zip / legacy, fp16 / bf16, `bert.`-prefixed, sentence-transformers, UER-py native) and the hub
// layouts (`weights/<id>/`, HF cache `models--org--name/snapshots/<rev>/`).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CheckpointError, InputError } from '../errors.js';
import { type BertConfig, parseHfConfig, type ParsedConfig } from './config.js';
import { openCheckpoint } from './checkpoint.js';
import { bertShapes, type KeyMap, keyStyle, knownNames, mapKeys, POOLER_KEYS } from './keys.js';
import type { Checkpoint, CheckpointFormat } from './tensor.js';
import { isUerConfig, parseUerConfig } from './uer.js';
import { weightsRoot } from './paths.js';
import { Weights, type WeightTensor } from './weights.js';

export type PoolingMode = 'mean' | 'cls' | 'max' | 'mean_sqrt_len';
export interface PoolingConfig {
  mode: PoolingMode;
}
export interface LoadReport {
  missing: string[];
  unexpected: string[];
  renamed: [string, string][];
  ignoredConfigKeys: string[];
}
export interface LoadedModel {
  dir: string;
  weightsFile: string;
  format: CheckpointFormat;
  dtypes: string[];
  config: BertConfig;
  /** Canonical HF names without `bert.`, float32, pooler optional. */
  weights: Weights;
  pooling?: PoolingConfig;
  /** sentence-transformers' Normalize module is in modules.json. */
  normalize?: boolean;
  maxSeqLength?: number;
  tokenizerDir: string;
  report: LoadReport;
}

/** Weights files we look for, in order of preference. */
export const WEIGHT_FILES = [
  'model.safetensors',
  'model.safetensors.index.json',
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
  'model.bin',
] as const;

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`not valid JSON (${(e as Error).message})`, file);
  }
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * A folder; an HF cache repo folder (`models--org--name`, → its `refs/main` snapshot); or a hub id, looked
 * up under `weights/<id>/` relative to `cwd`, then `weights/models--org--name/` and the HF hub cache.
 */
export function resolveModelDir(idOrDir: string, cwd = process.cwd()): string {
  const snapshot = (repo: string): string => {
    const snaps = join(repo, 'snapshots');
    const ref = join(repo, 'refs', 'main');
    if (existsSync(ref)) {
      const rev = readFileSync(ref, 'utf8').trim();
      if (isDir(join(snaps, rev))) return join(snaps, rev);
    }
    const revs = readdirSync(snaps).filter((r) => isDir(join(snaps, r)));
    if (!revs.length) throw new InputError('HF cache folder has no snapshots', repo);
    revs.sort((a, b) => statSync(join(snaps, b)).mtimeMs - statSync(join(snaps, a)).mtimeMs);
    return join(snaps, revs[0]!);
  };
  const asDir = (p: string) => (isDir(join(p, 'snapshots')) && !existsSync(join(p, 'config.json')) ? snapshot(p) : p);
  const given = resolve(cwd, idOrDir);
  if (isDir(given)) return asDir(given);
  if (existsSync(given)) throw new InputError('is a file; expected a model folder or a hub id', idOrDir);
  if (/^[\w.-]+(\/[\w.-]+)?$/.test(idOrDir) && !idOrDir.includes('..')) {
    const local = join(weightsRoot(cwd), idOrDir);
    if (isDir(local)) return asDir(local);
    const cacheName = `models--${idOrDir.replace('/', '--')}`;
    const hubCache =
      process.env.HF_HUB_CACHE ?? join(process.env.HF_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface'), 'hub');
    for (const c of [join(weightsRoot(cwd), cacheName), resolve(cwd, hubCache, cacheName)]) if (isDir(join(c, 'snapshots'))) return snapshot(c);
    throw new InputError(`no such folder, and hub id not found under weights/${idOrDir}/ (run \`sbert download ${idOrDir}\`)`, idOrDir);
  }
  throw new InputError('no such folder', idOrDir);
}

function poolingOf(file: string): PoolingConfig {
  const j = readJson(file);
  if (typeof j !== 'object' || j === null) throw new CheckpointError('pooling config is not a JSON object', file);
  const o = j as Record<string, unknown>;
  const byName: Record<string, PoolingMode> = {
    mean: 'mean', mean_tokens: 'mean', cls: 'cls', cls_token: 'cls', max: 'max', max_tokens: 'max',
    mean_sqrt_len: 'mean_sqrt_len', mean_sqrt_len_tokens: 'mean_sqrt_len',
  };
  // sentence-transformers ≥ 5 writes `pooling_mode: "mean"`; older versions one boolean per mode.
  if (typeof o.pooling_mode === 'string') {
    const m = byName[o.pooling_mode];
    if (!m) throw new CheckpointError(`pooling mode "${o.pooling_mode}" is not supported (mean, cls, max, mean_sqrt_len_tokens)`, file);
    return { mode: m };
  }
  const on = Object.entries(o).filter(([k, v]) => k.startsWith('pooling_mode_') && v === true).map(([k]) => k.slice('pooling_mode_'.length));
  if (on.length !== 1) throw new CheckpointError(on.length ? `several pooling modes at once (${on.join(', ')}) are not supported` : 'no pooling mode set', file);
  const m = byName[on[0]!];
  if (!m) throw new CheckpointError(`pooling mode "${on[0]}" is not supported (mean, cls, max, mean_sqrt_len_tokens)`, file);
  return { mode: m };
}

interface StLayout {
  modelDir: string;
  pooling?: PoolingConfig;
  normalize?: boolean;
  maxSeqLength?: number;
}

function sentenceTransformers(dir: string): StLayout | undefined {
  const modulesFile = join(dir, 'modules.json');
  if (!existsSync(modulesFile)) return undefined;
  const mods = readJson(modulesFile);
  if (!Array.isArray(mods)) throw new CheckpointError('not a list of modules', modulesFile);
  const out: StLayout = { modelDir: dir };
  let transformer = false;
  for (const m of mods as Record<string, unknown>[]) {
    const type = String(m?.type ?? '');
    const path = typeof m?.path === 'string' ? m.path : '';
    if (path.split(/[\\/]/).includes('..')) throw new CheckpointError(`module path "${path}" leaves the model folder`, modulesFile);
    if (/\.Transformer$/.test(type)) {
      out.modelDir = join(dir, path);
      transformer = true;
    } else if (/\.Pooling$/.test(type)) out.pooling = poolingOf(join(dir, path, 'config.json'));
    else if (/\.Normalize$/.test(type)) out.normalize = true;
  }
  if (!transformer) throw new CheckpointError('no Transformer module listed', modulesFile);
  for (const f of [join(out.modelDir, 'sentence_bert_config.json'), join(dir, 'sentence_bert_config.json')]) {
    if (!existsSync(f)) continue;
    const sb = readJson(f) as Record<string, unknown>;
    if (typeof sb?.max_seq_length === 'number') out.maxSeqLength = sb.max_seq_length;
    break;
  }
  return out;
}

function weightsFileIn(dir: string): string {
  for (const f of WEIGHT_FILES) if (existsSync(join(dir, f))) return join(dir, f);
  throw new InputError(`no weights file (expected ${WEIGHT_FILES.join(', ')})`, dir);
}

/** Parses config.json (HF or UER style); UER configs take vocab/segment sizes from the checkpoint. */
export function configFor(configFile: string, ckpt: Checkpoint, keys?: KeyMap): ParsedConfig {
  const json = readJson(configFile);
  if (!isUerConfig(json)) return parseHfConfig(configFile, json);
  const k = keys ?? mapKeys([...ckpt.tensors.keys()], knownNames(1 << 20));
  const shapeOf = (n: string) => {
    const src = k.canonical.get(n)?.source;
    return src ? ckpt.tensors.get(src)?.shape[0] : undefined;
  };
  return parseUerConfig(configFile, json, {
    vocabRows: shapeOf('embeddings.word_embeddings.weight'),
    segRows: shapeOf('embeddings.token_type_embeddings.weight'),
  });
}

/** Checkpoint + config → canonical float32 weights, checking every required tensor and every shape. */
export function canonicalWeights(ckpt: Checkpoint, config: BertConfig, configFile: string): { weights: Weights; report: Omit<LoadReport, 'ignoredConfigKeys'> } {
  const names = [...ckpt.tensors.keys()];
  const known = knownNames(config.numHiddenLayers);
  const keys = mapKeys(names, known, keyStyle(names));
  if (keys.conflicts.length) {
    const [a, b, n] = keys.conflicts[0]!;
    throw new CheckpointError(`keys ${a} and ${b} both map to ${n}`, ckpt.file);
  }
  const shapes = bertShapes(config);
  const missing = [...shapes.keys()].filter((n) => !keys.canonical.has(n));
  if (missing.length) {
    const more = missing.length > 4 ? ` and ${missing.length - 4} more` : '';
    throw new CheckpointError(`missing required tensors ${missing.slice(0, 4).join(', ')}${more}`, ckpt.file);
  }
  const H = config.hiddenSize;
  const pooler = new Map<string, number[]>([[POOLER_KEYS[0], [H, H]], [POOLER_KEYS[1], [H]]]);
  const tensors = new Map<string, WeightTensor>();
  for (const [name, { source, dropFirstRow }] of keys.canonical) {
    const entry = ckpt.tensors.get(source)!;
    const want = shapes.get(name) ?? pooler.get(name)!;
    const have = dropFirstRow ? [entry.shape[0]! - 1, ...entry.shape.slice(1)] : entry.shape;
    if (have.length !== want.length || have.some((d, i) => d !== want[i])) {
      throw new CheckpointError(
        `tensor ${source} has shape [${entry.shape}]${dropFirstRow ? ' (row 0 dropped)' : ''}, but ${configFile} implies [${want}]`,
        ckpt.file,
      );
    }
    const data = entry.float32();
    tensors.set(name, { shape: have, data: dropFirstRow ? data.subarray(entry.shape[1]!) : data });
  }
  // A half-present pooler is a broken checkpoint, not an optional one.
  const poolerHave = POOLER_KEYS.filter((k) => tensors.has(k));
  if (poolerHave.length === 1) throw new CheckpointError(`pooler is incomplete (only ${poolerHave[0]})`, ckpt.file);
  return {
    weights: new Weights(tensors, '', ckpt.file),
    report: { missing: POOLER_KEYS.filter((k) => !tensors.has(k)), unexpected: keys.unexpected, renamed: keys.renamed },
  };
}

export function loadModelDir(dir: string): LoadedModel {
  if (!isDir(dir)) throw new InputError(existsSync(dir) ? 'is not a folder' : 'no such folder', dir);
  const st = sentenceTransformers(dir);
  const modelDir = st?.modelDir ?? dir;
  const weightsFile = weightsFileIn(modelDir);
  const configFile = join(modelDir, 'config.json');
  if (!existsSync(configFile)) throw new InputError(`no config.json next to ${weightsFile}`, modelDir);
  const ckpt = openCheckpoint(weightsFile);
  try {
    const { config, ignored } = configFor(configFile, ckpt);
    const { weights, report } = canonicalWeights(ckpt, config, configFile);
    const hasTokenizer = (d: string) => existsSync(join(d, 'tokenizer.json')) || existsSync(join(d, 'vocab.txt'));
    return {
      dir: resolve(dir),
      weightsFile,
      format: ckpt.format,
      dtypes: [...new Set([...ckpt.tensors.values()].map((t) => t.dtype))],
      config,
      weights,
      ...(st?.pooling ? { pooling: st.pooling } : {}),
      ...(st?.normalize ? { normalize: true } : {}),
      ...(st?.maxSeqLength !== undefined ? { maxSeqLength: st.maxSeqLength } : {}),
      tokenizerDir: resolve(hasTokenizer(modelDir) || !hasTokenizer(dir) ? modelDir : dir),
      report: { ...report, ignoredConfigKeys: ignored },
    };
  } finally {
    ckpt.close();
  }
}
