// `POST /explorer/similarity {a, b, ablate?}`: the two sentences' similarity as `sbert similarity` computes it,
// the cosine of their mean-pooled hidden states at every layer, and the same with heads zero-ablated
// (`ablateHeads`: each head's z set to 0 before the attention's output projection, in both sentences).
import * as tf from '@tensorflow/tfjs-core';
import type { FastifyInstance } from 'fastify';
import { cosine } from '../../encoder/similarity.js';
import type { SentenceEncoder } from '../../encoder/sentence-encoder.js';
import { ablateHeads, type Hooks, runWithHooks } from '../../model/hooks.js';
import { l2Normalize, pool } from '../../model/pooling.js';
import { ApiError } from '../errors.js';
import { bodyObject, inputsOf, type Sentence, sentenceOf } from './input.js';
import type { HeadId, SimilarityProfile, SimilarityResponse } from './types.js';

interface Vectors {
  /** The model's sentence embedding (its pooling and normalisation). */
  embedding: Float32Array;
  /** Mean-pooled hidden_states[i], i = 0 … layers. */
  layers: Float32Array[];
}

/** One sentence alone (batch 1) through the model with `hooks`. */
async function vectorsOf(encoder: SentenceEncoder, s: Sentence, hooks: Hooks): Promise<Vectors> {
  const model = encoder.model;
  const [embedding, layers] = tf.tidy(() => {
    const inputs = inputsOf(s.encoding);
    const out = runWithHooks(model, inputs, hooks, { outputHiddenStates: true });
    const pooled = pool(out.lastHiddenState, inputs.attentionMask, encoder.pooling);
    const means = out.hiddenStates!.map((h) => pool(h, inputs.attentionMask, 'mean'));
    return [encoder.loaded.normalize ? l2Normalize(pooled) : pooled, tf.concat(means, 0)];
  });
  try {
    const [e, l] = (await Promise.all([embedding.data(), layers.data()])) as Float32Array[];
    const H = encoder.dimension;
    return { embedding: e!, layers: Array.from({ length: l!.length / H }, (_, i) => l!.subarray(i * H, (i + 1) * H)) };
  } finally {
    embedding.dispose();
    layers.dispose();
  }
}

async function profile(encoder: SentenceEncoder, a: Sentence, b: Sentence, hooks: Hooks): Promise<SimilarityProfile> {
  const va = await vectorsOf(encoder, a, hooks);
  const vb = await vectorsOf(encoder, b, hooks);
  return { similarity: cosine(va.embedding, vb.embedding), layers: va.layers.map((v, i) => cosine(v, vb.layers[i]!)) };
}

/** `ablate`: absent, or an array of {layer, head} within the model, each once. */
function headList(value: unknown, layers: number, heads: number): HeadId[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new ApiError(400, '`ablate` must be an array of {"layer", "head"}', { param: 'ablate' });
  const seen = new Set<string>();
  return value.map((h: unknown, i) => {
    const o = (h ?? {}) as Record<string, unknown>;
    const ok = (v: unknown, n: number) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < n;
    if (!ok(o.layer, layers) || !ok(o.head, heads)) {
      throw new ApiError(
        400,
        `\`ablate[${i}]\` must be {"layer": 0..${layers - 1}, "head": 0..${heads - 1}}, got ${JSON.stringify(h)}`,
        { param: `ablate[${i}]` },
      );
    }
    const key = `${o.layer}/${o.head}`;
    if (seen.has(key)) throw new ApiError(400, `\`ablate\` names layer ${o.layer} head ${o.head} twice`);
    seen.add(key);
    return { layer: o.layer as number, head: o.head as number };
  });
}

export async function similarityRoute(app: FastifyInstance): Promise<void> {
  app.post('/explorer/similarity', async (request): Promise<SimilarityResponse> => {
    const body = bodyObject(request.body);
    const { encoder } = app.sbert.ready();
    const a = sentenceOf(encoder, body.a, 'a');
    const b = sentenceOf(encoder, body.b, 'b');
    const { numHiddenLayers, numAttentionHeads } = encoder.loaded.config;
    const heads = headList(body.ablate, numHiddenLayers, numAttentionHeads);
    const base = await profile(encoder, a, b, {});
    const out: SimilarityResponse = {
      ...base,
      tokens: { a: a.encoding.inputIds.length, b: b.encoding.inputIds.length },
    };
    if (heads.length > 0) out.ablated = { ...(await profile(encoder, a, b, ablateHeads(encoder.model, heads))), heads };
    return out;
  });
}
