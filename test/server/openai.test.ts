// The official `openai` npm client against `POST /v1/embeddings`: the vectors are `encode`'s (≤ 1e-6) and
// sentence-transformers' (the fixture, ≤ 1e-5), in both encodings; usage, model echo, /v1/models, errors.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import type { SbertServer } from '../../src/server/server.js';
import { maxAbsRows, stRefs } from '../encoder/helpers.js';
import { expectOpenAiError, maxAbs, post, TINY, tinyServer } from './helpers.js';

describe('POST /v1/embeddings with the openai client', () => {
  const refs = stRefs('tiny');
  let server: SbertServer;
  let enc: SentenceEncoder;
  let client: OpenAI;
  let expected: Float32Array[];

  beforeAll(async () => {
    server = await tinyServer({ apiKey: 'sk-test', modelName: 'tiny-st' });
    enc = await SentenceEncoder.load(TINY, { backend: 'wasm', workers: 1 });
    expected = await enc.encode(refs.sentences);
    client = new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.shutdown();
    await enc?.dispose();
  });

  it("an array of texts (the client asks for base64 and decodes it): encode's vectors, in order", async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: refs.sentences });
    expect(res.object).toBe('list');
    expect(res.model).toBe('text-embedding-3-small');
    expect(res.data.map((d) => d.index)).toEqual(refs.sentences.map((_, i) => i));
    expect(res.data.every((d) => d.object === 'embedding')).toBe(true);
    const got = res.data.map((d) => d.embedding);
    expect(maxAbs(got, expected)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsRows(got, refs.mean)).toBeLessThanOrEqual(1e-5);
    const tokens = refs.sentences.reduce((n, s) => n + enc.tokenize([s])[0]!.inputIds.length, 0);
    expect(res.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it('encoding_format float and a single string', async () => {
    const res = await client.embeddings.create({ model: 'm', input: refs.sentences[3]!, encoding_format: 'float' });
    expect(res.data).toHaveLength(1);
    expect(Array.isArray(res.data[0]!.embedding)).toBe(true);
    expect(maxAbs([res.data[0]!.embedding], [expected[3]!])).toBeLessThanOrEqual(1e-6);
    // The JSON numbers read back as exactly the float32 values the base64 form carries.
    const b64 = await client.embeddings.create({ model: 'm', input: refs.sentences[3]! });
    expect(res.data[0]!.embedding.map((x) => Math.fround(x))).toEqual(b64.data[0]!.embedding);
    expect(res.usage.prompt_tokens).toBe(enc.tokenize([refs.sentences[3]!])[0]!.inputIds.length);
  });

  it('base64 asked for explicitly is little-endian float32 bytes', async () => {
    const res = await client.embeddings.create({ model: 'm', input: ['那个人很开心'], encoding_format: 'base64' });
    const b64 = res.data[0]!.embedding as unknown as string;
    expect(typeof b64).toBe('string');
    const bytes = Buffer.from(b64, 'base64');
    expect(bytes.length).toBe(4 * enc.dimension);
    const v = Array.from({ length: enc.dimension }, (_, i) => bytes.readFloatLE(4 * i));
    expect(maxAbs([v], await enc.encode(['那个人很开心']))).toBeLessThanOrEqual(1e-6);
  });

  it("concurrent requests (merged into shared batches) each get their own texts' vectors", async () => {
    const slices = [0, 3, 5, 9].map((from, k) => refs.sentences.slice(from, from + 2 + k));
    const answers = await Promise.all(slices.map((input) => client.embeddings.create({ model: 'm', input })));
    for (const [k, res] of answers.entries()) {
      expect(
        maxAbs(
          res.data.map((d) => d.embedding),
          await enc.encode(slices[k]!),
        ),
      ).toBeLessThanOrEqual(1e-6);
    }
  });

  it("a text over the model's length is cut as encode cuts it", async () => {
    const long = '那个人很开心'.repeat(120);
    const res = await client.embeddings.create({ model: 'm', input: [long] });
    expect(maxAbs([res.data[0]!.embedding], await enc.encode([long]))).toBeLessThanOrEqual(1e-6);
    expect(res.usage.prompt_tokens).toBe(enc.maxSeqLength);
  });

  it('the model name is echoed, and /v1/models lists the served one', async () => {
    const res = await post(`${server.url}/v1/embeddings`, { input: 'x' }, { authorization: 'Bearer sk-test' });
    expect((res.body as { model: string }).model).toBe('tiny-st');
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny-st']);
  });

  it("errors reach the client as OpenAI's: status, message, param", async () => {
    const err = await client.embeddings.create({ model: 'm', input: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.param).toBe('input');
    expect(e.type).toBe('invalid_request_error');
    const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${server.url}/v1`, maxRetries: 0 });
    const auth = await bad.embeddings.create({ model: 'm', input: 'x' }).catch((x: unknown) => x);
    expect(auth).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((auth as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  });

  it("dimensions: the model's own size is accepted, another is a 400", async () => {
    const ok = await client.embeddings.create({
      model: 'm',
      input: 'x',
      dimensions: enc.dimension,
      encoding_format: 'float',
    });
    expect(ok.data[0]!.embedding).toHaveLength(enc.dimension);
    const res = await post(
      `${server.url}/v1/embeddings`,
      { input: 'x', dimensions: 8 },
      { authorization: 'Bearer sk-test' },
    );
    expectOpenAiError(res, 400, /`dimensions` must be 32/, 'dimensions');
  });
});
