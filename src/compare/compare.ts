// Compare every tensor of a reference file with what an activation source (our model) computes for the
// same ids, in data-flow order, so the first tensor past its tolerance is where the divergence starts.
import { InputError } from '../errors.js';
import { dataFlowRank, defaultTolerance, describeKind, layoutOf } from './catalog.js';
import { compareTensors, describeIndex, type Layout } from './diff.js';
import type { RefBatch, RefGroup, RefTensor, Reference } from './reference.js';

export interface OurTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Runs one batch and returns our value for each requested tensor, named as in the reference without
 * group prefix (`hidden_states.1`, `attentions.0`, `layer.0.query`, `pool.mean`, `st.mean`, ...).
 * Throws an InputError for a name the model cannot give (say `hidden_states.12` of a 2-layer model).
 */
export type ActivationSource = (inputs: RefBatch, names: string[]) => Promise<Map<string, OurTensor>>;

export interface CompareOptions {
  /** One max-abs tolerance for every tensor; default: per kind, see `defaultTolerance`. */
  tolerance?: number;
  /** Groups to compare ('main' for the unprefixed batch); default: all but fp16 and bf16. */
  groups?: string[];
  /** Names the token at a position, for worst-index labels. */
  idToToken?: (id: number) => string;
}

export interface TensorResult {
  key: string;
  group: string;
  shape: number[];
  layout: Layout;
  /** What the tensor is, in words: `layer 1 output`. */
  what: string;
  maxAbs: number;
  meanAbs: number;
  count: number;
  worst: number[] | null;
  /** `[sentence 3, token 7 (开), dim 12]` */
  worstLabel: string;
  refValue: number;
  ourValue: number;
  tolerance: number;
  ok: boolean;
}

export interface ComparisonReport {
  file: string;
  /** Main group first, then pairs, long, ...; within a group in data-flow order. */
  results: TensorResult[];
  ok: boolean;
  /** The first tensor past its tolerance, in that order. */
  firstFailure: TensorResult | null;
  skipped: { key: string; reason: string }[];
}

export const groupLabel = (name: string): string => (name === '' ? 'main' : name);
/** Groups whose tensors were computed from weights rounded to half precision: only for such models. */
export const ROUNDED_GROUPS = ['fp16', 'bf16'];

export async function compareReference(
  ref: Reference,
  source: ActivationSource,
  opts: CompareOptions = {},
): Promise<ComparisonReport> {
  if (opts.tolerance !== undefined && !(opts.tolerance >= 0))
    throw new RangeError(`tolerance must be ≥ 0, got ${opts.tolerance}`);
  const known = ref.groups.map((g) => groupLabel(g.name));
  for (const g of opts.groups ?? []) {
    if (!known.includes(g)) throw new InputError(`no group "${g}" (it has: ${known.join(', ')})`, ref.file);
  }
  const wanted = (g: RefGroup): boolean =>
    opts.groups ? opts.groups.includes(groupLabel(g.name)) : !ROUNDED_GROUPS.includes(g.name);

  const results: TensorResult[] = [];
  const skipped: ComparisonReport['skipped'] = ref.unknown.map((key) => ({
    key,
    reason: 'not a tensor sbert compare knows',
  }));
  for (const group of ref.groups) {
    if (!wanted(group)) {
      const reason = ROUNDED_GROUPS.includes(group.name)
        ? `for a checkpoint stored in ${group.name} (select with --groups ${group.name})`
        : `group not selected`;
      for (const t of group.tensors) skipped.push({ key: t.key, reason });
      continue;
    }
    if (group.tensors.length === 0) continue;
    const sorted = [...group.tensors].sort((a, b) => dataFlowRank(a.tensor) - dataFlowRank(b.tensor));
    const ours = await source(group.inputs, [...new Set(sorted.map((t) => t.name))]);
    for (const t of sorted) {
      const mine = ours.get(t.name);
      if (!mine) throw new Error(`activation source gave no ${t.name}`);
      results.push(compareOne(ref.file, group, t, mine, opts));
    }
  }
  const firstFailure = results.find((r) => !r.ok) ?? null;
  return { file: ref.file, results, ok: firstFailure === null, firstFailure, skipped };
}

function compareOne(file: string, group: RefGroup, t: RefTensor, mine: OurTensor, opts: CompareOptions): TensorResult {
  const { inputs } = group;
  const layout = layoutOf(t.tensor);
  // `.firstN` tensors hold the first N sentences of the batch: compare those rows of ours.
  const rows = t.firstRows ?? inputs.batch;
  if (rows > inputs.batch)
    throw new InputError(
      `${t.key} has ${rows} sentences but the batch has ${inputs.batch === 1 ? '1 sentence' : inputs.batch}`,
      file,
    );
  const perRow = mine.shape.slice(1).reduce((a, b) => a * b, 1);
  const expectedShape = [rows, ...mine.shape.slice(1)];
  if (t.shape.length !== expectedShape.length || t.shape.some((d, i) => d !== expectedShape[i])) {
    throw new InputError(`${t.key} has shape [${t.shape}] but the model gives [${expectedShape}] for it`, file);
  }
  const data = rows === mine.shape[0] ? mine.data : mine.data.subarray(0, rows * perRow);
  const mask = inputs.attentionMask.subarray(0, rows * inputs.length);
  const d = compareTensors(t.data, data, t.shape, layout, layout === 'rows' ? null : mask, inputs.length);
  let tolerance = opts.tolerance ?? defaultTolerance(t.tensor);
  // mean_sqrt_len is the mean times √n: its float32 error grows by the same factor, so does its tolerance.
  if (t.tensor.kind === 'pool' && t.tensor.pool === 'mean_sqrt_len')
    tolerance *= Math.sqrt(longestRow(mask, inputs.length));
  const idToToken = opts.idToToken;
  const tokenOf = idToToken ? (b: number, l: number) => idToToken(inputs.inputIds[b * inputs.length + l]!) : undefined;
  return {
    key: t.key,
    group: groupLabel(group.name),
    shape: t.shape,
    layout,
    what: describeKind(t.tensor),
    maxAbs: d.maxAbs,
    meanAbs: d.meanAbs,
    count: d.count,
    worst: d.worst,
    worstLabel: d.maxAbs > 0 ? describeIndex(d.worst, layout, tokenOf) : '-',
    refValue: d.refValue,
    ourValue: d.ourValue,
    tolerance,
    ok: d.maxAbs <= tolerance,
  };
}

/** The most real tokens in any row of a [B, L] mask. */
function longestRow(mask: Int32Array, L: number): number {
  let best = 0;
  for (let b = 0; b * L < mask.length; b++) {
    let n = 0;
    for (let l = 0; l < L; l++) n += mask[b * L + l]!;
    best = Math.max(best, n);
  }
  return best;
}
