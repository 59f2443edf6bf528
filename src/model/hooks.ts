// TransformerLens-style access to a forward's internals: run with a cache of named activations, run
// with hooks that read or replace them, and head ablation / masking built on those hooks. The names are
// `model.hookNames()`, declared by the layers where each tensor is made; docs/hooks.md lists them with shapes.
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import { combineHooks, type HookContext, type HookFn, type Hooks, hookList } from '../layers/hook.js';
import type { BertInputs, BertModel, BertModelOutput } from './bert.js';
import { recordGradients } from './gradients.js';

export { combineHooks };
export type { HookContext, HookFn, Hooks };

/** Activations by full hook name; owns its tensors until `dispose()`. */
export class ActivationCache {
  constructor(
    readonly tensors: Map<string, tf.Tensor>,
    /** Every hook name of the model (for the shorthand). */
    readonly hookNames: readonly string[],
  ) {}

  has(name: string, layer?: number): boolean {
    return this.tensors.has(this.resolve(name, layer));
  }

  /**
   * `get('blocks.0.attn.hook_pattern')`, or TransformerLens's shorthand `get('pattern', 0)`,
   * `get('resid_post', 3)`, `get('full_embed')`: the one point under `blocks.{layer}.` (or top level)
   * whose name ends in `hook_<short>`; or a name relative to the block, `get('ln1.hook_normalized', 3)`.
   */
  get(name: string, layer?: number): tf.Tensor {
    const full = this.resolve(name, layer);
    const t = this.tensors.get(full);
    if (!t) throw new UsageError(`hook point ${full} was not cached (pass it in names)`);
    return t;
  }

  /** The full hook name for a full name or a shorthand. */
  resolve(name: string, layer?: number): string {
    if (layer === undefined && this.hookNames.includes(name)) return name;
    const prefix = layer === undefined ? '' : `blocks.${layer}.`;
    if (this.hookNames.includes(prefix + name)) return prefix + name;
    const short = name.startsWith('hook_') ? name : `hook_${name}`;
    const matches = this.hookNames.filter(
      (n) =>
        n.startsWith(prefix) &&
        (layer !== undefined || !n.startsWith('blocks.')) &&
        (n === prefix + short || n.endsWith(`.${short}`)),
    );
    if (matches.length === 1) return matches[0]!;
    const what = layer === undefined ? `"${name}"` : `"${name}" in layer ${layer}`;
    throw new UsageError(matches.length ? `${what} is ambiguous: ${matches.join(', ')}` : `no hook point ${what}`);
  }

  keys(): string[] {
    return [...this.tensors.keys()];
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}

export interface CacheOptions {
  /** Which points to cache (all when absent): full names, or a predicate on them. */
  names?: readonly string[] | ((name: string) => boolean);
  /** More hooks to run in the same forward (they run before the caching one, so it sees their result). */
  hooks?: Hooks;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
  /**
   * A scalar function of the forward's output (a loss, a cosine, one logit): the run then also returns `grads`,
   * d f / d (each cached point) under the same names, and `value` = f (TransformerLens's backward hooks,
   * `run_with_cache(incl_bwd=True)`, whose `name_grad` entries these are). The forward runs on tfjs's plain ops.
   */
  gradients?: (output: BertModelOutput) => tf.Scalar;
}

export interface CacheRun {
  output: BertModelOutput;
  cache: ActivationCache;
}

export interface GradientCacheRun extends CacheRun {
  /** d f / d (each cached point), same names and shapes as `cache`; the caller disposes it. */
  grads: ActivationCache;
  /** f of the output (a scalar tensor the caller disposes). */
  value: tf.Scalar;
}

/**
 * One forward, caching the selected activations (cloned: the cache and the output are disposed independently);
 * with `gradients`, also one backward pass caching the gradients of that scalar at the same points.
 */
export function runWithCache(
  model: BertModel,
  inputs: BertInputs,
  opts: CacheOptions & { gradients: (output: BertModelOutput) => tf.Scalar },
): GradientCacheRun;
export function runWithCache(model: BertModel, inputs: BertInputs, opts?: CacheOptions): CacheRun;
export function runWithCache(
  model: BertModel,
  inputs: BertInputs,
  opts: CacheOptions = {},
): CacheRun | GradientCacheRun {
  const all = model.hookNames();
  const sel = opts.names;
  const wanted = sel === undefined ? all : typeof sel === 'function' ? all.filter(sel) : [...sel];
  for (const n of wanted) if (!all.includes(n)) throw new UsageError(`unknown hook point "${n}"`);
  const tensors = new Map<string, tf.Tensor>();
  const hooks: Hooks = { ...opts.hooks };
  for (const name of wanted) {
    const store: HookFn = (t) => {
      tensors.get(name)?.dispose();
      tensors.set(name, tf.keep(tf.clone(t)));
    };
    hooks[name] = [...hookList(hooks[name]), store];
  }
  const forwardOpts = { outputHiddenStates: opts.outputHiddenStates, outputAttentions: opts.outputAttentions };
  let output: BertModelOutput | undefined;
  try {
    const target = opts.gradients;
    if (!target) {
      output = model.forward(inputs, { ...forwardOpts, hooks });
      return { output, cache: new ActivationCache(tensors, all) };
    }
    const { value, grads } = recordGradients(wanted, (probes) => {
      output = model.forward(inputs, { ...forwardOpts, hooks: combineHooks(hooks, probes) });
      // The output outlives the gradient tape's scope.
      for (const t of outputTensors(output)) tf.keep(t);
      return target(output);
    });
    return { output: output!, cache: new ActivationCache(tensors, all), grads: new ActivationCache(grads, all), value };
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    if (output) tf.dispose(outputTensors(output));
    throw e;
  }
}

function outputTensors(o: BertModelOutput): tf.Tensor[] {
  return [o.lastHiddenState, ...(o.hiddenStates ?? []), ...(o.attentions ?? [])];
}

/** One forward with hooks (each may read or replace its tensor). */
export function runWithHooks(
  model: BertModel,
  inputs: BertInputs,
  hooks: Hooks,
  opts: { outputHiddenStates?: boolean; outputAttentions?: boolean } = {},
): BertModelOutput {
  return model.forward(inputs, { ...opts, hooks });
}

export interface HeadRef {
  layer: number;
  head: number;
}

function checkHead(model: BertModel, { layer, head }: HeadRef): void {
  const c = model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= c.numHiddenLayers)
    throw new UsageError(`layer ${layer} out of range 0..${c.numHiddenLayers - 1}`);
  if (!Number.isInteger(head) || head < 0 || head >= c.numAttentionHeads)
    throw new UsageError(`head ${head} out of range 0..${c.numAttentionHeads - 1}`);
}

/**
 * Zero-ablation: the heads' outputs `z` (before the attention output projection) are set to 0,
 * so nothing upstream of `blocks.{layer}.attn.hook_z` changes.
 */
export function ablateHeads(model: BertModel, heads: readonly HeadRef[]): Hooks {
  const byLayer = new Map<number, number[]>();
  for (const h of heads) {
    checkHead(model, h);
    byLayer.set(h.layer, [...(byLayer.get(h.layer) ?? []), h.head]);
  }
  const nh = model.config.numAttentionHeads;
  const hooks: Hooks = {};
  for (const [layer, hs] of byLayer) {
    const keep = Array.from({ length: nh }, (_, i) => (hs.includes(i) ? 0 : 1));
    hooks[`blocks.${layer}.attn.hook_z`] = (z) => tf.mul(z, tf.tensor4d(keep, [1, 1, nh, 1])); // z: [B, L, heads, d]
  }
  return hooks;
}

/**
 * HF's `head_mask`: `mask[layer][head]` multiplies that head's attention probabilities (0 masks it,
 * 1 keeps it). As in HF, the returned attentions and `hook_pattern` show the masked probabilities.
 */
export function headMask(model: BertModel, mask: readonly (readonly number[])[]): Hooks {
  const { numHiddenLayers: nl, numAttentionHeads: nh } = model.config;
  if (mask.length !== nl || mask.some((r) => r.length !== nh)) throw new UsageError(`head mask must be [${nl}][${nh}]`);
  const hooks: Hooks = {};
  mask.forEach((row, layer) => {
    if (row.every((v) => v === 1)) return;
    hooks[`blocks.${layer}.attn.hook_pattern`] = (p) => tf.mul(p, tf.tensor4d([...row], [1, nh, 1, 1])); // p: [B, heads, L, L]
  });
  return hooks;
}
