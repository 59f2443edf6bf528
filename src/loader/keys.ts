// Checkpoint key names → canonical HF `BertModel` names without the `bert.` / `roberta.` prefix. Containers know
// nothing of this; this file knows nothing of containers. Two families: HF-style keys under any of the usual
// wrappers (`bert.`, `module.`, sentence-transformers' `0.auto_model.`, TF-era `gamma`/`beta`), and UER-py's
// native names, mapped as UER-py's `convert_bert_from_uer_to_huggingface.py` does (seg row 0 dropped).
import type { BertConfig } from './config.js';

type Dims = (c: BertConfig) => number[];
const H: Dims = (c) => [c.hiddenSize];
const HH: Dims = (c) => [c.hiddenSize, c.hiddenSize];
const linear = (module: string, dims: Dims, bias: Dims): [string, Dims][] => [
  [`${module}.weight`, dims],
  [`${module}.bias`, bias],
];

// HF's BertModel parameters without the `bert.` prefix, in module order, with their shapes (nn.Linear weights are
// [out, in]): the one table the canonical names, the loader's shape checks and the synthetic weights derive from.
const EMBEDDINGS: readonly [string, Dims][] = [
  ['embeddings.word_embeddings.weight', (c) => [c.vocabSize, c.hiddenSize]],
  ['embeddings.position_embeddings.weight', (c) => [c.maxPositionEmbeddings, c.hiddenSize]],
  ['embeddings.token_type_embeddings.weight', (c) => [c.typeVocabSize, c.hiddenSize]],
  ...linear('embeddings.LayerNorm', H, H),
];
/** Under `encoder.layer.{i}.` */
const LAYER: readonly [string, Dims][] = [
  ...linear('attention.self.query', HH, H),
  ...linear('attention.self.key', HH, H),
  ...linear('attention.self.value', HH, H),
  ...linear('attention.output.dense', HH, H),
  ...linear(
    'intermediate.dense',
    (c) => [c.intermediateSize, c.hiddenSize],
    (c) => [c.intermediateSize],
  ),
  ...linear('output.dense', (c) => [c.hiddenSize, c.intermediateSize], H),
  ...linear('attention.output.LayerNorm', H, H),
  ...linear('output.LayerNorm', H, H),
];
/** Optional: sentence encoders do not use it, and many checkpoints leave it out. */
const POOLER: readonly [string, Dims][] = linear('pooler.dense', HH, H);

export const POOLER_KEYS = POOLER.map(([name]) => name) as readonly string[];
const EMBEDDING_NAMES = new Set(EMBEDDINGS.map(([name]) => name));
const LAYER_SUFFIXES = new Set(LAYER.map(([name]) => name));

/** Every tensor a `BertModel` needs, with its shape for `c` (the pooler too when `pooler` is set). */
export function bertShapes(c: BertConfig, { pooler = false } = {}): Map<string, number[]> {
  const m = new Map<string, number[]>(EMBEDDINGS.map(([name, dims]) => [name, dims(c)]));
  for (let l = 0; l < c.numHiddenLayers; l++)
    for (const [name, dims] of LAYER) m.set(`encoder.layer.${l}.${name}`, dims(c));
  if (pooler) for (const [name, dims] of POOLER) m.set(name, dims(c));
  return m;
}

/** Canonical names of a `layers`-layer BertModel (no shapes needed), pooler excluded. */
export function bertNames(layers: number): string[] {
  const names = [...EMBEDDING_NAMES];
  for (let l = 0; l < layers; l++) for (const s of LAYER_SUFFIXES) names.push(`encoder.layer.${l}.${s}`);
  return names;
}

export type KeyStyle = 'hf' | 'uer';

export interface KeyMap {
  style: KeyStyle;
  /** canonical name → source key in the checkpoint, and whether the first row is dropped (UER seg). */
  canonical: Map<string, { source: string; dropFirstRow: boolean }>;
  /** [checkpoint key, canonical name] for keys that were not already canonical. */
  renamed: [string, string][];
  /** Keys that map to nothing we use (heads, `position_ids`, UER's second stream, ...). */
  unexpected: string[];
  /** Two checkpoint keys that claim the same canonical name. */
  conflicts: [string, string, string][];
}

const UER_MARKERS = /^(embedding\.|encoder\.(encoder_\d+\.)?transformer\.\d+\.)/;

export function keyStyle(names: readonly string[]): KeyStyle {
  return names.some((n) => UER_MARKERS.test(n)) ? 'uer' : 'hf';
}

const WRAPPERS = ['module.', '0.auto_model.', 'auto_model.', 'model.', 'bert.', 'roberta.'];

/** A key's canonical HF name, or undefined when it is not part of a BertModel. */
function hfName(key: string, known: (n: string) => boolean): string | undefined {
  let k = key;
  for (let changed = true; changed; ) {
    changed = false;
    for (const w of WRAPPERS) {
      if (k.startsWith(w) && !known(k)) {
        k = k.slice(w.length);
        changed = true;
      }
    }
  }
  // TF-converted checkpoints name LayerNorm parameters gamma/beta (HF renames them the same way).
  k = k.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
  return known(k) ? k : undefined;
}

// UER-py name (after `embedding.[embedding_0.]` / `encoder.[encoder_0.]transformer.{i}.`) → HF name.
const UER_EMBEDDING: Record<string, string> = {
  'word.embedding.weight': 'word_embeddings.weight',
  'word_embedding.weight': 'word_embeddings.weight',
  'pos.embedding.weight': 'position_embeddings.weight',
  'position_embedding.weight': 'position_embeddings.weight',
  'seg.embedding.weight': 'token_type_embeddings.weight',
  'segment_embedding.weight': 'token_type_embeddings.weight',
  'layer_norm.gamma': 'LayerNorm.weight',
  'layer_norm.beta': 'LayerNorm.bias',
  'layer_norm.weight': 'LayerNorm.weight',
  'layer_norm.bias': 'LayerNorm.bias',
};
const UER_LAYER: Record<string, string> = {
  'self_attn.linear_layers.0': 'attention.self.query',
  'self_attn.linear_layers.1': 'attention.self.key',
  'self_attn.linear_layers.2': 'attention.self.value',
  'self_attn.final_linear': 'attention.output.dense',
  layer_norm_1: 'attention.output.LayerNorm',
  feed_forward: '', // handled below (linear_1 / linear_2)
  layer_norm_2: 'output.LayerNorm',
};

function uerName(key: string): string | undefined {
  // Dual-stream models (sbert): stream 0 is the encoder; stream 1 is left unused (it shares its storages anyway).
  let m = /^embedding\.(?:embedding_0\.)?(.+)$/.exec(key);
  if (m) {
    const e = Object.hasOwn(UER_EMBEDDING, m[1]!) ? UER_EMBEDDING[m[1]!] : undefined;
    return e ? `embeddings.${e}` : undefined;
  }
  m = /^encoder\.(?:encoder_0\.)?transformer\.(\d+)\.(.+)\.(weight|bias|gamma|beta)$/.exec(key);
  if (!m) return undefined;
  const [, layer, module, param] = m as unknown as [string, string, string, string];
  const isNorm = module.startsWith('layer_norm');
  const p = param === 'gamma' ? 'weight' : param === 'beta' ? 'bias' : param;
  if ((param === 'gamma' || param === 'beta') && !isNorm) return undefined;
  let hf: string | undefined;
  if (module === 'feed_forward.linear_1') hf = 'intermediate.dense';
  else if (module === 'feed_forward.linear_2') hf = 'output.dense';
  else hf = (Object.hasOwn(UER_LAYER, module) && UER_LAYER[module]) || undefined;
  return hf ? `encoder.layer.${Number(layer)}.${hf}.${p}` : undefined;
}

/** Maps checkpoint keys to canonical names. `known` says which canonical names a BertModel has. */
export function mapKeys(
  names: readonly string[],
  known: (canonical: string) => boolean,
  style = keyStyle(names),
): KeyMap {
  const out: KeyMap = { style, canonical: new Map(), renamed: [], unexpected: [], conflicts: [] };
  for (const key of names) {
    const name = style === 'uer' ? uerName(key) : hfName(key, known);
    if (name === undefined || !known(name)) {
      out.unexpected.push(key);
      continue;
    }
    const prev = out.canonical.get(name);
    if (prev) {
      out.conflicts.push([prev.source, key, name]);
      continue;
    }
    const dropFirstRow = style === 'uer' && name === 'embeddings.token_type_embeddings.weight';
    out.canonical.set(name, { source: key, dropFirstRow });
    if (name !== key) out.renamed.push([key, name]);
  }
  return out;
}

/** Canonical names a model with `layers` layers can have (for mapping before the config is fully known). */
export function knownNames(layers: number): (n: string) => boolean {
  return (n) => {
    if (POOLER_KEYS.includes(n)) return true;
    const m = /^encoder\.layer\.(\d+)\.(.+)$/.exec(n);
    if (m) return Number(m[1]) < layers && String(Number(m[1])) === m[1] && LAYER_SUFFIXES.has(m[2]!);
    return EMBEDDING_NAMES.has(n);
  };
}
