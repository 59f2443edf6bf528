// Request bodies: JSON in UTF-8, read as strictly as the model files are. Fastify's default parser decoded
// invalid UTF-8 (and a body sent as `charset=latin1`) to U+FFFD, so "café" in Latin-1 was embedded as "caf",
// and kept the last of two equal keys (`{"inputs": "a", "inputs": "b"}` embedded "b"); text-embeddings-inference
// and OpenAI's API refuse both.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_JSON_DEPTH, scanJson } from '../io/json.js';
import { ApiError } from './errors.js';

/** The `charset` parameter of a Content-Type, lower-cased, or undefined. */
function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '');
  return m ? m[1]!.toLowerCase() : undefined;
}

/** Fastify's (secure-json-parse's) refusal of keys that reach an object's prototype, kept. */
function noPrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new ApiError(400, 'the body holds a key "__proto__", which is not accepted');
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype'))
    throw new ApiError(400, 'the body holds a "constructor" object with a "prototype", which is not accepted');
  return value;
}

/** The body as JSON: UTF-8 only, no duplicate key, no nesting deeper than MAX_JSON_DEPTH; each refusal a 4xx. */
export function parseJsonBody(request: FastifyRequest, body: Buffer): unknown {
  const charset = charsetOf(request.headers['content-type']);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    throw new ApiError(415, `the body is declared as charset=${charset}: send JSON in UTF-8`);
  if (body.length === 0) throw new ApiError(400, 'the body is empty: send a JSON object');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new ApiError(400, 'the body is not valid UTF-8: send JSON in UTF-8');
  }
  const scan = scanJson(text);
  if (scan.tooDeep) throw new ApiError(400, `the body is not valid JSON (nested deeper than ${MAX_JSON_DEPTH} levels)`);
  if (scan.duplicate !== undefined)
    throw new ApiError(400, `the body gives the key ${scan.duplicate} twice (which one counts is ambiguous)`);
  try {
    return /__proto__|constructor/.test(text) ? JSON.parse(text, noPrototypeKeys) : JSON.parse(text);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, 'the body is not valid JSON');
  }
}

/** Replaces Fastify's JSON parser with `parseJsonBody` (the body limit still applies before it runs). */
export function useJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseJsonBody(request, body as Buffer));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
