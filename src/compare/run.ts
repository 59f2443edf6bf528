// Our side of a comparison: run BertModel on a reference batch and hand back, by reference name, the
// tensors it names: HF outputs (hidden states, attentions) from the forward, the layer internals from
// hook points, pools from src/model/pooling.
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';
import type { BertModel } from '../model/bert.js';
import { runWithCache } from '../model/hooks.js';
import { l2Normalize, pool, type PoolingMode } from '../model/pooling.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { parseKey } from './catalog.js';
import {
  type ActivationSource,
  type CompareOptions,
  type ComparisonReport,
  compareReference,
  type OurTensor,
} from './compare.js';
import { loadReference, type RefBatch, type Reference } from './reference.js';

/** Hook point giving HF's per-layer internals (names from src/model/hooks.ts). */
const HOOK_OF = {
  query: (l: number) => `blocks.${l}.attn.hook_q`, // [B, L, heads, d_head]: the merged query, same memory layout
  attention_output: (l: number) => `blocks.${l}.ln1.hook_out`, // after the attention block's LayerNorm
  intermediate: (l: number) => `blocks.${l}.mlp.hook_post`,
} as const;

/** Sentences per forward: bounds memory when a reference asks for every attention map of a big batch. */
const ROWS_PER_FORWARD = 16;

/**
 * `names` are reference keys (`hidden_states.3`, `pool.mean`, …) or, for `sbert dump`, hook point names
 * (`blocks.0.attn.hook_pattern`), returned as the hook caches them.
 */
export function bertSource(model: BertModel, file = 'reference', rowsPerForward = ROWS_PER_FORWARD): ActivationSource {
  const { numHiddenLayers: N } = model.config;
  const allHooks = new Set(model.hookNames());
  return async (inputs: RefBatch, names: string[]) => {
    const hookNames = new Set<string>();
    let hidden = false;
    let attentions = false;
    for (const name of names) {
      const t = parseKey(name)?.tensor;
      if (!t && allHooks.has(name)) {
        hookNames.add(name);
        continue;
      }
      if (!t) throw new Error(`not a reference tensor or hook point name: ${name}`);
      const layer = t.kind === 'hidden_states' ? t.index - 1 : 'layer' in t ? t.layer : 0;
      if (layer >= N)
        throw new InputError(`${name} is beyond the model's ${N === 1 ? 'only layer' : `${N} layers`}`, file);
      if (t.kind === 'hidden_states') hidden = true;
      else if (t.kind === 'attentions') attentions = true;
      else if (t.kind === 'query' || t.kind === 'attention_output' || t.kind === 'intermediate')
        hookNames.add(HOOK_OF[t.kind](t.layer));
    }

    const { batch: B, length: L } = inputs;
    const out = new Map<string, OurTensor>();
    for (let r0 = 0; r0 < B; r0 += rowsPerForward) {
      const rows = Math.min(rowsPerForward, B - r0);
      const part = (a: Int32Array): tf.Tensor2D => tf.tensor2d(a.subarray(r0 * L, (r0 + rows) * L), [rows, L], 'int32');
      const batch = {
        inputIds: part(inputs.inputIds),
        attentionMask: part(inputs.attentionMask),
        tokenTypeIds: part(inputs.tokenTypeIds),
      };
      const { output, cache } = runWithCache(model, batch, {
        names: [...hookNames],
        outputHiddenStates: hidden,
        outputAttentions: attentions,
      });
      try {
        for (const name of names) {
          const t = parseKey(name)?.tensor ?? { kind: 'hook' as const };
          let ours: tf.Tensor;
          let owned = false;
          switch (t.kind) {
            case 'hook':
              ours = cache.get(name);
              break;
            case 'hidden_states':
              ours = output.hiddenStates![t.index]!;
              break;
            case 'attentions':
              ours = output.attentions![t.layer]!;
              break;
            case 'query':
            case 'attention_output':
            case 'intermediate':
              ours = cache.get(HOOK_OF[t.kind](t.layer));
              break;
            case 'last_hidden_state':
              ours = output.lastHiddenState;
              break;
            case 'position_ids':
              ours = tf.tidy(() => tf.expandDims(tf.cast(model.positionIds(batch.inputIds), 'float32'), 2));
              owned = true;
              break;
            case 'pool':
            case 'st': {
              // st.* is what sentence-transformers' encode() returns: the pooling its name says, normalized or not.
              const normalized = t.pool.endsWith('_normalized');
              const mode = (normalized ? t.pool.slice(0, -'_normalized'.length) : t.pool) as PoolingMode;
              const pooled = pool(output.lastHiddenState, batch.attentionMask, mode);
              ours = normalized ? tf.tidy(() => l2Normalize(pooled)) : pooled;
              if (ours !== pooled) pooled.dispose();
              owned = true;
              break;
            }
          }
          const data = (await ours.data()) as Float32Array;
          const shape = t.kind === 'query' ? [rows, L, model.config.hiddenSize] : ours.shape;
          if (owned) ours.dispose();
          let dst = out.get(name);
          if (!dst) {
            dst = { shape: [B, ...shape.slice(1)], data: new Float32Array(B * (data.length / rows)) };
            out.set(name, dst);
          }
          dst.data.set(data, r0 * (data.length / rows));
        }
      } finally {
        cache.dispose();
        const seen = new Set<tf.Tensor>([
          output.lastHiddenState,
          ...(output.hiddenStates ?? []),
          ...(output.attentions ?? []),
        ]);
        for (const x of seen) x.dispose();
        for (const x of Object.values(batch)) x.dispose();
      }
    }
    return out;
  };
}

/**
 * Runs `model` on every id batch of the reference (main, pairs.*, long.*, ...) and compares every tensor
 * it knows. `tokenizer` only labels the worst positions with their tokens.
 */
export async function runComparison(
  model: BertModel,
  tokenizer: Tokenizer | undefined,
  ref: string | Reference,
  opts: CompareOptions = {},
): Promise<ComparisonReport> {
  const reference = typeof ref === 'string' ? loadReference(ref) : ref;
  const safe = (id: number): string => {
    try {
      return tokenizer!.idToToken(id);
    } catch {
      return `id ${id}`; // outside the vocabulary: the reference was made with another tokenizer
    }
  };
  const idToToken = opts.idToToken ?? (tokenizer ? safe : undefined);
  return compareReference(reference, bertSource(model, reference.file), { ...opts, idToToken });
}
