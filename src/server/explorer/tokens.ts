// `POST /explorer/tokens {texts: [a, b?]}`: each sentence's tokens, ids and the characters each covers, as the
// model sees the sentence alone (cut to the model's length).
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { bodyObject, sentenceOf } from './input.js';
import type { TokenizedSentence, TokensResponse } from './types.js';

export async function tokensRoute(app: FastifyInstance): Promise<void> {
  app.post('/explorer/tokens', async (request): Promise<TokensResponse> => {
    const body = bodyObject(request.body);
    const { encoder } = app.sbert.ready();
    const texts = body.texts;
    if (!Array.isArray(texts) || texts.length < 1 || texts.length > 2) {
      throw new ApiError(400, '`texts` must be an array of one or two sentences', { param: 'texts' });
    }
    const tok = encoder.tokenizer;
    const sentences = texts.map((_, i): TokenizedSentence => {
      const { text, encoding: e, truncated } = sentenceOf(encoder, texts[i], `texts[${i}]`);
      const chars = [...text]; // code points, as the offsets count
      const last = e.inputIds.length - 1;
      return {
        text,
        tokens: e.tokens,
        ids: e.inputIds,
        offsets: e.offsets,
        covers: e.offsets.map(([s, t]) => chars.slice(s, t).join('')),
        special: e.inputIds.map((_, j) => j === 0 || j === last),
        unknown: e.inputIds.map((id) => id === tok.unkId),
        truncated,
      };
    });
    return { maxLength: encoder.maxSeqLength, sentences };
  });
}
