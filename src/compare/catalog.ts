// Which reference tensors we know, where each sits in the data flow, and how its axes meet the mask.
// Keys are those of ../shared/fixtures/README.md (and of scripts/dump_reference.py):
//   [GROUP.]hidden_states.{i}[.firstN]  [GROUP.]attentions.{i}  [GROUP.]layer.{i}.{query,attention_output,intermediate}
//   [GROUP.]last_hidden_state  [GROUP.]pool.{mean,cls,max,mean_sqrt_len}[_normalized]  [GROUP.]st.{mean,cls,...}[_normalized]
import type { Layout } from './diff.js';

/** The pools `sbert dump` writes (those every fixture holds). */
export const POOLS = ['mean', 'cls', 'max', 'mean_sqrt_len', 'mean_normalized'] as const;
/** Every pool we compare: a pooling mode, optionally L2-normalized. */
export const POOL_KINDS = [...POOLS, 'cls_normalized', 'max_normalized', 'mean_sqrt_len_normalized'] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

/** One comparable tensor, named without its group prefix. */
export type TensorKind =
  | { kind: 'position_ids' } // [B, L] ints, compared as [B, L, 1]: the rows of the position table the embeddings take
  | { kind: 'hidden_states'; index: number } // 0 = embeddings output, i = output of layer i - 1
  | { kind: 'attentions'; layer: number }
  | { kind: 'query' | 'attention_output' | 'intermediate'; layer: number }
  | { kind: 'last_hidden_state' }
  | { kind: 'pool'; pool: PoolKind }
  | { kind: 'st'; pool: PoolKind }; // sentence-transformers' encode(): the pooling its name says

export interface ParsedKey {
  /** The tensor, without group prefix and `.firstN` suffix: `hidden_states.3`, `pool.mean`. */
  name: string;
  tensor: TensorKind;
  /** `hidden_states.3.first2` holds only the first 2 sentences of the batch. */
  firstRows?: number;
}

export function parseKey(name: string): ParsedKey | null {
  let m = /^(.*)\.first(\d+)$/.exec(name);
  const firstRows = m ? Number(m[2]) : undefined;
  const base = m ? m[1]! : name;
  let tensor: TensorKind | null = null;
  if (base === 'position_ids') tensor = { kind: 'position_ids' };
  else if ((m = /^hidden_states\.(\d+)$/.exec(base))) tensor = { kind: 'hidden_states', index: Number(m[1]) };
  else if ((m = /^attentions\.(\d+)$/.exec(base))) tensor = { kind: 'attentions', layer: Number(m[1]) };
  else if ((m = /^layer\.(\d+)\.(query|attention_output|intermediate)$/.exec(base))) {
    tensor = { kind: m[2] as 'query' | 'attention_output' | 'intermediate', layer: Number(m[1]) };
  } else if (base === 'last_hidden_state') tensor = { kind: 'last_hidden_state' };
  else if ((m = /^(pool|st)\.(\w+)$/.exec(base)) && (POOL_KINDS as readonly string[]).includes(m[2]!)) {
    tensor = { kind: m[1] as 'pool' | 'st', pool: m[2] as PoolKind };
  }
  if (!tensor) return null;
  if (firstRows !== undefined && (tensor.kind === 'pool' || tensor.kind === 'st' || firstRows === 0)) return null;
  return firstRows === undefined ? { name: base, tensor } : { name: base, tensor, firstRows };
}

export function layoutOf(t: TensorKind): Layout {
  if (t.kind === 'attentions') return 'attention';
  if (t.kind === 'pool' || t.kind === 'st') return 'rows';
  return 'tokens';
}

const STAGE_IN_LAYER = { query: 1, attentions: 2, attention_output: 3, intermediate: 4, output: 5 } as const;
const POOL_ORDER = [...POOL_KINDS, ...POOL_KINDS.map((p) => `st.${p}`)];

/**
 * Position along the forward: embeddings, then per layer query → attention probabilities → attention
 * block output → FFN intermediate → layer output, then the last hidden state and the pools. Sorting by
 * this puts the first tensor that diverges first, which is where a bug (or a bad weight) lives.
 */
export function dataFlowRank(t: TensorKind): number {
  switch (t.kind) {
    case 'position_ids':
      return -1;
    case 'hidden_states':
      return t.index === 0 ? 0 : 10 * t.index + STAGE_IN_LAYER.output; // = 10 * (layer + 1) + 5
    case 'attentions':
      return 10 * (t.layer + 1) + STAGE_IN_LAYER.attentions;
    case 'query':
    case 'attention_output':
    case 'intermediate':
      return 10 * (t.layer + 1) + STAGE_IN_LAYER[t.kind];
    case 'last_hidden_state':
      return 1e6;
    case 'pool':
      return 1e6 + 1 + POOL_ORDER.indexOf(t.pool);
    case 'st':
      return 1e6 + 1 + POOL_ORDER.indexOf(`st.${t.pool}`);
  }
}

/** What a tensor is, in words, for the first-divergence line. */
export function describeKind(t: TensorKind): string {
  switch (t.kind) {
    case 'position_ids':
      return 'position ids';
    case 'hidden_states':
      return t.index === 0 ? 'embeddings output' : `layer ${t.index - 1} output`;
    case 'attentions':
      return `layer ${t.layer} attention probabilities`;
    case 'query':
      return `layer ${t.layer} query projection`;
    case 'attention_output':
      return `layer ${t.layer} attention block output (after its LayerNorm)`;
    case 'intermediate':
      return `layer ${t.layer} FFN intermediate (after the activation)`;
    case 'last_hidden_state':
      return 'last hidden state';
    case 'pool':
      return `${t.pool} pooling`;
    case 'st':
      return `sentence-transformers ${t.pool} embedding`;
  }
}

/**
 * Default tolerance on max abs error, per kind. The fixtures' float32 references are reproduced by an
 * independent float32 forward to ≤ 7e-6 and by a plain tfjs-wasm forward to ~1.2e-5 on full-size BERT-base,
 * so token-level tensors get 2e-5; probabilities live in [0, 1] and unit-norm vectors are small, so they
 * get 1e-5. `pool.mean_sqrt_len` is the mean times √n, so its tolerance (this one or --tolerance) is
 * scaled by √(longest sentence) where it is compared. A real bug or a perturbed weight is orders of
 * magnitude beyond these.
 */
export function defaultTolerance(t: TensorKind): number {
  if (t.kind === 'position_ids') return 0;
  if (t.kind === 'attentions') return 1e-5;
  if ((t.kind === 'pool' || t.kind === 'st') && t.pool.endsWith('_normalized')) return 1e-5;
  return 2e-5;
}
