// `POST /explorer/hook {text, name}`: one hook point's activation for one sentence (batch 1), with its shape
// and statistics. Only that point is cached during the forward.
import type { FastifyInstance } from 'fastify';
import { runWithCache } from '../../model/hooks.js';
import { ApiError } from '../errors.js';
import { bodyObject, inputsOf, sentenceOf, wireTensor } from './input.js';
import type { HookResponse, TensorStats } from './types.js';

/** count, min, max, mean and (population) standard deviation of the finite values, in float64. */
export function tensorStats(v: Float32Array): TensorStats {
  let count = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const x of v) {
    if (!Number.isFinite(x)) continue;
    count++;
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x;
  }
  const mean = count ? sum / count : Number.NaN;
  let sq = 0;
  for (const x of v) if (Number.isFinite(x)) sq += (x - mean) ** 2;
  return count
    ? { count, min, max, mean, std: Math.sqrt(sq / count), nonFinite: v.length - count }
    : { count, min: Number.NaN, max: Number.NaN, mean, std: Number.NaN, nonFinite: v.length };
}

export async function hookRoute(app: FastifyInstance): Promise<void> {
  app.post('/explorer/hook', async (request): Promise<HookResponse> => {
    const body = bodyObject(request.body);
    const { encoder } = app.sbert.ready();
    const s = sentenceOf(encoder, body.text, 'text');
    const model = encoder.model;
    const name = body.name;
    if (typeof name !== 'string' || !model.hookNames().includes(name)) {
      throw new ApiError(
        400,
        `\`name\` must be one of the model's hook points (GET /explorer/info), got ${JSON.stringify(name)}`,
        {
          param: 'name',
        },
      );
    }
    const inputs = inputsOf(s.encoding);
    try {
      const { output, cache } = runWithCache(model, inputs, { names: [name] });
      try {
        const t = cache.get(name);
        const values = (await t.data()) as Float32Array;
        return { name, tokens: s.encoding.tokens, stats: tensorStats(values), tensor: wireTensor(values, t.shape) };
      } finally {
        cache.dispose();
        for (const t of new Set([
          output.lastHiddenState,
          ...(output.hiddenStates ?? []),
          ...(output.attentions ?? []),
        ])) {
          t.dispose();
        }
      }
    } finally {
      for (const t of Object.values(inputs)) t.dispose();
    }
  });
}
