// `POST /explorer/explain {a, b, method?, steps?}`: token attributions of the two sentences' similarity, the
// explain library's result as it is (`explain(encoder, a, b)`, what `sbert explain --json` prints).
import type { FastifyInstance } from 'fastify';
import {
  ATTRIBUTION_METHODS,
  type AttributionMethod,
  DEFAULT_METHOD,
  DEFAULT_STEPS,
  explain,
} from '../../explain/index.js';
import { InputError } from '../../errors.js';
import { ApiError, RequestCancelled } from '../errors.js';
import { clientGone } from '../http.js';
import { bodyObject, sentenceOf } from './input.js';
import type { ExplainResponse } from './types.js';

/**
 * Integrated gradients' steps a request may ask for. Each step is a forward and a backward of the sentence, so
 * this bounds a request's work (the library allows up to 10 000, for the CLI).
 */
export const MAX_EXPLAIN_STEPS = 256;

export async function explainRoute(app: FastifyInstance): Promise<void> {
  app.post('/explorer/explain', async (request, reply): Promise<ExplainResponse> => {
    const body = bodyObject(request.body);
    const { encoder } = app.sbert.ready();
    // The same checks and messages as the other routes; explain tokenizes (and cuts) the texts the same way.
    const a = sentenceOf(encoder, body.a, 'a');
    const b = sentenceOf(encoder, body.b, 'b');
    const method = body.method ?? DEFAULT_METHOD;
    if (typeof method !== 'string' || !(ATTRIBUTION_METHODS as readonly string[]).includes(method)) {
      throw new ApiError(
        400,
        `\`method\` must be one of ${ATTRIBUTION_METHODS.join(', ')}, got ${JSON.stringify(method)}`,
        {
          param: 'method',
        },
      );
    }
    const steps = body.steps ?? DEFAULT_STEPS;
    if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > MAX_EXPLAIN_STEPS) {
      throw new ApiError(400, `\`steps\` must be an integer in 1..${MAX_EXPLAIN_STEPS}, got ${JSON.stringify(steps)}`, {
        param: 'steps',
      });
    }
    const signal = clientGone(request, reply);
    try {
      return await explain(encoder, a.text, b.text, { method: method as AttributionMethod, steps, signal });
    } catch (e) {
      // The client went away: its remaining steps were dropped; nobody reads the answer.
      if (signal.aborted) throw new RequestCancelled();
      // A sentence with nothing to attribute is the request's fault; a non-finite result names the weights file
      // (InputError.file) and is the model's.
      if (e instanceof InputError)
        throw new ApiError(e.file ? 500 : 400, e.message, e.file ? { teiType: 'Backend' } : {});
      throw e;
    }
  });
}
