// Checkpoint key names → canonical HF `BertModel` names without the `bert.` prefix. Container formats know
// nothing of this; this file knows nothing of containers. Two families: HF-style keys under any of the usual
// wrappers (`bert.`, `module.`, sentence-transformers' `0.auto_model.`, TF-era `gamma`/`beta`), and UER-py's
// native names, mapped as UER-py's `convert_bert_from_uer_to_huggingface.py` does (seg row 0 dropped).
import type { BertConfig } from './config.js';

export const POOLER_KEYS = ['pooler.dense.weight', 'pooler.dense.bias'] as const;

/** Every tensor a `BertModel` needs, with its shape for `c` (pooler excluded: it is optional). */
export function bertShapes(c: BertConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const m = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [c.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H]],
    ['embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ]);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      m.set(`${p}${n}.weight`, [H, H]);
      m.set(`${p}${n}.bias`, [H]);
    }
    m.set(`${p}intermediate.dense.weight`, [I, H]);
    m.set(`${p}intermediate.dense.bias`, [I]);
    m.set(`${p}output.dense.weight`, [H, I]);
    m.set(`${p}output.dense.bias`, [H]);
    for (const n of ['attention.output.LayerNorm', 'output.LayerNorm']) {
      m.set(`${p}${n}.weight`, [H]);
      m.set(`${p}${n}.bias`, [H]);
    }
  }
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

const WRAPPERS = ['module.', '0.auto_model.', 'auto_model.', 'model.', 'bert.'];

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
    const e = UER_EMBEDDING[m[1]!];
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
  else hf = UER_LAYER[module] || undefined;
  return hf ? `encoder.layer.${Number(layer)}.${hf}.${p}` : undefined;
}

/** Maps checkpoint keys to canonical names. `known` says which canonical names a BertModel has. */
export function mapKeys(names: readonly string[], known: (canonical: string) => boolean, style = keyStyle(names)): KeyMap {
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
    if ((POOLER_KEYS as readonly string[]).includes(n)) return true;
    const m = /^encoder\.layer\.(\d+)\.(.+)$/.exec(n);
    if (m) return Number(m[1]) < layers && String(Number(m[1])) === m[1] && LAYER_SUFFIXES.has(m[2]!);
    return EMBEDDING_NAMES.has(n);
  };
}

const EMBEDDING_NAMES = new Set([
  'embeddings.word_embeddings.weight',
  'embeddings.position_embeddings.weight',
  'embeddings.token_type_embeddings.weight',
  'embeddings.LayerNorm.weight',
  'embeddings.LayerNorm.bias',
]);
const LAYER_SUFFIXES = new Set(
  ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense', 'attention.output.LayerNorm',
    'intermediate.dense', 'output.dense', 'output.LayerNorm'].flatMap((m) => [`${m}.weight`, `${m}.bias`]),
);
