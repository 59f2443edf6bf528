// Helpers every route plugin uses: its family's error shape, a signal for the client going away, and vectors
// as JSON numbers that read back as the same float32.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, openAiErrorBody, RequestCancelled, teiErrorBody, toApiError } from './errors.js';
import { CLIENT_CLOSED } from './metrics.js';

export type ErrorShape = 'openai' | 'tei';

/** Renders every error raised in this plugin's scope (routes, hooks, body parsing) in `shape`. */
export function useErrorShape(app: FastifyInstance, shape: ErrorShape): void {
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply, shape, app.sbert.limits.payloadLimit));
}

export function sendError(
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  shape: ErrorShape,
  payloadLimit?: number,
): void {
  if (err instanceof RequestCancelled) {
    // Nobody is listening; the status is for the metrics and the log.
    reply.code(CLIENT_CLOSED).send();
    return;
  }
  const e = toApiError(err, payloadLimit);
  if (e.status >= 500 && e.status !== 503) request.log.error({ err }, e.message);
  if (e.details.retryAfter !== undefined) reply.header('Retry-After', String(e.details.retryAfter));
  if (e.status === 401) reply.header('WWW-Authenticate', 'Bearer');
  reply.code(e.status).send(shape === 'openai' ? openAiErrorBody(e) : teiErrorBody(e));
}

/** Aborts when the client disconnects before the response is written. */
export function clientGone(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) ac.abort();
  };
  if (request.raw.destroyed) ac.abort();
  else reply.raw.once('close', onClose);
  return ac.signal;
}

/** The shortest decimal with 9 significant digits: reads back as the same float32. */
const f32 = (x: number): string => String(Number(x.toPrecision(9)));

/** A JSON array of the vector's float32 values; a non-finite value (broken weights) is a 500, never `NaN`. */
export function vectorJson(v: Float32Array): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isFinite(x))
      throw new ApiError(500, `the model produced a non-finite value (${x})`, { teiType: 'Backend' });
    s += (i ? ',' : '') + f32(x);
  }
  return `${s}]`;
}

/** Little-endian float32 bytes in base64 (OpenAI's `encoding_format: "base64"`). */
export function vectorBase64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

/** Sends a JSON text built by hand (vectors are formatted above, not by JSON.stringify). */
export function sendJsonText(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}
