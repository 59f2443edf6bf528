// OpenAI's embeddings API (https://platform.openai.com/docs/api-reference/embeddings): `POST /v1/embeddings`
// and `GET /v1/models`, with OpenAI's error object. Vectors are `encode`'s with the model's own
// normalisation; texts over the model's length are cut (OpenAI would refuse them).
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { clientGone, sendJsonText, useErrorShape, vectorBase64, vectorJson } from '../http.js';
import { bodyObject, checkDimensions, fieldNames, optionalString, textList } from '../texts.js';

const STARTED = Math.floor(Date.now() / 1000);

export async function openAiRoutes(app: FastifyInstance): Promise<void> {
  useErrorShape(app, 'openai');
  const ctx = app.sbert;

  app.post('/v1/embeddings', async (request, reply) => {
    const body = bodyObject(request.body);
    const texts = textList(body.input, 'input', ctx.limits.maxInputs);
    const model = optionalString(body, 'model') ?? ctx.modelName;
    optionalString(body, 'user');
    const format = optionalString(body, 'encoding_format') ?? 'float';
    if (format !== 'float' && format !== 'base64') {
      throw new ApiError(400, `\`encoding_format\` must be "float" or "base64", got ${JSON.stringify(format)}`, {
        param: 'encoding_format',
      });
    }
    checkDimensions(body, ctx.ready().encoder.dimension);
    const r = await ctx.embed(texts, { field: fieldNames(body.input, 'input'), signal: clientGone(request, reply) });
    const data = r.vectors.map((v, i) => {
      const embedding = format === 'base64' ? JSON.stringify(vectorBase64(v)) : vectorJson(v);
      return `{"object":"embedding","index":${i},"embedding":${embedding}}`;
    });
    const usage = JSON.stringify({ prompt_tokens: r.tokens, total_tokens: r.tokens });
    return sendJsonText(
      reply,
      `{"object":"list","data":[${data.join(',')}],"model":${JSON.stringify(model)},"usage":${usage}}`,
    );
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: [{ id: ctx.modelName, object: 'model', created: STARTED, owned_by: 'sbert-tfjs' }],
  }));
}
