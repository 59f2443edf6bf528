// Hugging Face text-embeddings-inference's routes (router/src/http/server.rs): `POST /embed`,
// `POST /similarity` (the model card's sentence-similarity widget), `GET /info`, with TEI's
// `{error, error_type}` errors and its x-compute-* / x-*-time headers.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { cosine } from '../../encoder/similarity.js';
import type { EmbedResult } from '../context.js';
import { ApiError } from '../errors.js';
import { clientGone, sendJsonText, useErrorShape, vectorJson } from '../http.js';
import {
  bodyObject,
  checkDimensions,
  checkText,
  fieldNames,
  optionalBoolean,
  textList,
  truncationDirection,
} from '../texts.js';

function noPrompt(o: Record<string, unknown>): void {
  if (o.prompt_name !== undefined && o.prompt_name !== null) {
    throw new ApiError(400, '`prompt_name` is not supported: this server applies no prompts', { param: 'prompt_name' });
  }
}

/** TEI's response headers (milliseconds, as integers). */
function timingHeaders(reply: FastifyReply, r: EmbedResult, started: number): void {
  const ms = (s: number) => String(Math.round(s * 1000));
  reply.header('x-compute-characters', String(r.characters));
  reply.header('x-compute-tokens', String(r.tokens));
  reply.header('x-total-time', ms(performance.now() / 1000 - started));
  reply.header('x-queue-time', ms(r.timings.queue));
  reply.header('x-inference-time', ms(r.timings.inference));
}

export async function teiRoutes(app: FastifyInstance): Promise<void> {
  useErrorShape(app, 'tei');
  const ctx = app.sbert;

  app.post('/embed', async (request, reply) => {
    const started = performance.now() / 1000;
    const body = bodyObject(request.body);
    const texts = textList(body.inputs, 'inputs', ctx.limits.maxInputs);
    noPrompt(body);
    checkDimensions(body, ctx.ready().encoder.dimension);
    const r = await ctx.embed(texts, {
      normalize: optionalBoolean(body, 'normalize', true),
      truncate: optionalBoolean(body, 'truncate', true),
      direction: truncationDirection(body),
      field: fieldNames(body.inputs, 'inputs'),
      signal: clientGone(request, reply),
    });
    timingHeaders(reply, r, started);
    return sendJsonText(reply, `[${r.vectors.map(vectorJson).join(',')}]`);
  });

  app.post('/similarity', async (request, reply) => {
    const started = performance.now() / 1000;
    const body = bodyObject(request.body);
    const inputs = body.inputs;
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw new ApiError(400, '`inputs` must be an object {"source_sentence": "...", "sentences": ["...", ...]}', {
        param: 'inputs',
      });
    }
    const { source_sentence: source, sentences } = inputs as Record<string, unknown>;
    if (typeof source !== 'string')
      throw new ApiError(400, '`inputs.source_sentence` must be a string', { param: 'inputs.source_sentence' });
    checkText(source, 'inputs.source_sentence');
    const others = textList(sentences, 'inputs.sentences', ctx.limits.maxInputs - 1);
    const params = body.parameters === undefined || body.parameters === null ? {} : body.parameters;
    if (typeof params !== 'object' || Array.isArray(params))
      throw new ApiError(400, '`parameters` must be an object', { param: 'parameters' });
    const p = params as Record<string, unknown>;
    noPrompt(p);
    const r = await ctx.embed([source, ...others], {
      truncate: optionalBoolean(p, 'truncate', true),
      direction: truncationDirection(p),
      field: (i) => (i === 0 ? 'inputs.source_sentence' : `inputs.sentences[${i - 1}]`),
      signal: clientGone(request, reply),
    });
    // Cosine of the model's own vectors, as `sbert similarity` (and sentence-transformers' util.cos_sim).
    const [first, ...rest] = r.vectors;
    timingHeaders(reply, r, started);
    return sendJsonText(reply, JSON.stringify(rest.map((v) => cosine(first!, v))));
  });

  app.get('/info', async () => {
    const { encoder } = ctx.ready();
    return {
      model_id: ctx.modelName,
      model_sha: null,
      model_dtype: 'float32',
      model_type: { embedding: { pooling: encoder.pooling } },
      max_input_length: encoder.maxSeqLength,
      max_batch_tokens: ctx.limits.maxBatchTokens,
      max_batch_requests: ctx.limits.batchSize,
      max_client_batch_size: ctx.limits.maxInputs,
      max_queue: ctx.limits.maxQueue,
      backend: encoder.backend.name,
      dimension: encoder.dimension,
    };
  });
}
