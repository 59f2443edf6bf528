// text-embeddings-inference's routes: /embed (normalize, truncate, truncation_direction), /similarity (the
// model card's widget), /info, and TEI's headers; vectors are `encode`'s (≤ 1e-6) and the fixture's (≤ 1e-5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine } from '../../src/encoder/similarity.js';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import type { SbertServer } from '../../src/server/server.js';
import { maxAbsRows, stRefs } from '../encoder/helpers.js';
import { expectTeiError, get, maxAbs, post, TINY, tinyServer } from './helpers.js';

// The server batches texts other than encode does: other padded shapes, so a BLAS may block and round its sums
// differently (oneDNN on an AMD EPYC: 1.2e-6 on the tiny model, 2026-12-01).
const BATCHING_TOLERANCE = 5e-6;

describe('TEI routes', () => {
  const refs = stRefs('tiny');
  let server: SbertServer;
  let enc: SentenceEncoder;

  beforeAll(async () => {
    server = await tinyServer();
    enc = await SentenceEncoder.load(TINY, { backend: 'wasm', workers: 1 });
  });
  afterAll(async () => {
    await server?.shutdown();
    await enc?.dispose();
  });

  it("/embed normalizes by default (TEI's default): st.mean_normalized", async () => {
    const res = await post(`${server.url}/embed`, { inputs: refs.sentences });
    expect(res.status).toBe(200);
    const got = res.body as number[][];
    expect(maxAbs(got, await enc.encode(refs.sentences, { normalize: true }))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    expect(maxAbsRows(got, refs.normalized)).toBeLessThanOrEqual(1e-5);
    const tokens = enc.tokenize(refs.sentences).reduce((n, e) => n + e.inputIds.length, 0);
    expect(res.headers.get('x-compute-tokens')).toBe(String(tokens));
    expect(res.headers.get('x-compute-characters')).toBe(String(refs.sentences.reduce((n, s) => n + [...s].length, 0)));
    for (const h of ['x-total-time', 'x-queue-time', 'x-inference-time']) expect(res.headers.get(h)).toMatch(/^\d+$/);
  });

  it('/embed normalize: false gives the pooled vectors (st.mean); a string input gives one row', async () => {
    const res = await post(`${server.url}/embed`, { inputs: refs.sentences, normalize: false });
    expect(maxAbsRows(res.body as number[][], refs.mean)).toBeLessThanOrEqual(1e-5);
    expect(maxAbs(res.body as number[][], await enc.encode(refs.sentences))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    const one = await post(`${server.url}/embed`, { inputs: refs.sentences[2], normalize: false });
    expect(maxAbs(one.body as number[][], [refs.mean[2]!])).toBeLessThanOrEqual(1e-5);
  });

  it('over-length: cut on the right by default (= encode), on the left when asked, 400 with truncate: false', async () => {
    const head = '那个人很开心。'.repeat(80);
    const long = `${head}但是那只猫在吃东西`;
    const right = await post(`${server.url}/embed`, { inputs: [long], normalize: false });
    expect(maxAbs(right.body as number[][], await enc.encode([long]))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    expect(right.headers.get('x-compute-tokens')).toBe(String(enc.maxSeqLength));

    // Left: [CLS] + the text's last maxSeqLength − 2 tokens + [SEP] — the same as encoding that tail alone.
    const left = await post(`${server.url}/embed`, { inputs: [long], normalize: false, truncation_direction: 'Left' });
    const pieces = enc.tokenizer.encode(long).tokens.slice(1, -1);
    const tail = pieces.slice(pieces.length - (enc.maxSeqLength - 2));
    expect(tail.at(-1)).toBe('西');
    const ids = enc.tokenizer.encode(tail.join('')).inputIds; // Chinese characters: one token each, no spaces
    expect(ids.length).toBe(enc.maxSeqLength);
    expect(maxAbs(left.body as number[][], await enc.encode([tail.join('')]))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    expect(maxAbs(left.body as number[][], right.body as number[][])).toBeGreaterThan(1e-3);

    const refused = await post(`${server.url}/embed`, { inputs: ['短', long], truncate: false });
    const n = enc.tokenizer.encode(long).inputIds.length;
    expectTeiError(
      refused,
      400,
      new RegExp(`^\`inputs\\[1\\]\` has ${n} tokens, more than the model's ${enc.maxSeqLength}`),
      'Validation',
    );
    const fits = await post(`${server.url}/embed`, { inputs: ['短'], truncate: false });
    expect(fits.status).toBe(200);
  });

  it('/similarity: cosine of the source to each sentence, as `sbert similarity`', async () => {
    const [source, ...others] = ['那个人很开心', '那个人非常开心', '那只猫很开心', '那个人在吃东西'];
    const res = await post(`${server.url}/similarity`, { inputs: { source_sentence: source, sentences: others } });
    expect(res.status).toBe(200);
    const [a, ...rest] = await enc.encode([source!, ...others]);
    const want = rest.map((v) => cosine(a!, v));
    const got = res.body as number[];
    expect(got).toHaveLength(3);
    got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(BATCHING_TOLERANCE));
  });

  it('/similarity validates its nested fields', async () => {
    const url = `${server.url}/similarity`;
    expectTeiError(await post(url, { inputs: ['a', 'b'] }), 400, /`inputs` must be an object/, 'Validation');
    expectTeiError(
      await post(url, { inputs: { source_sentence: 1, sentences: ['a'] } }),
      400,
      /source_sentence` must be a string/,
      'Validation',
    );
    expectTeiError(await post(url, { inputs: { source_sentence: 'a', sentences: [] } }), 400, /empty array/, 'Empty');
    expectTeiError(
      await post(url, { inputs: { source_sentence: 'a', sentences: ['b', 2] } }),
      400,
      /`inputs.sentences\[1\]` must be a string/,
      'Validation',
    );
    expectTeiError(
      await post(url, { inputs: { source_sentence: 'a', sentences: ['b'] }, parameters: 3 }),
      400,
      /`parameters` must be an object/,
      'Validation',
    );
    const long = '好'.repeat(600);
    expectTeiError(
      await post(url, { inputs: { source_sentence: 'a', sentences: ['b', long] }, parameters: { truncate: false } }),
      400,
      /^`inputs.sentences\[1\]` has 602 tokens/,
      'Validation',
    );
  });

  it('/embed validates its fields', async () => {
    const url = `${server.url}/embed`;
    expectTeiError(await post(url, {}), 400, /`inputs` is required/, 'Validation');
    expectTeiError(
      await post(url, { inputs: 'a', normalize: 'yes' }),
      400,
      /`normalize` must be true or false/,
      'Validation',
    );
    expectTeiError(
      await post(url, { inputs: 'a', truncate: 1 }),
      400,
      /`truncate` must be true or false/,
      'Validation',
    );
    expectTeiError(
      await post(url, { inputs: 'a', truncation_direction: 'middle' }),
      400,
      /truncation_direction/,
      'Validation',
    );
    expectTeiError(await post(url, { inputs: 'a', prompt_name: 'query' }), 400, /prompt_name/, 'Validation');
    expectTeiError(await post(url, { inputs: 'a', dimensions: 16 }), 400, /`dimensions` must be 32/, 'Validation');
    expectTeiError(await post(url, { inputs: [[101, 102]] }), 400, /token ids are not accepted/, 'Validation');
  });

  it('/info describes the model and the limits', async () => {
    const res = await get(`${server.url}/info`);
    expect(res.body).toMatchObject({
      model_id: TINY,
      model_dtype: 'float32',
      model_type: { embedding: { pooling: 'mean' } },
      max_input_length: enc.maxSeqLength,
      max_batch_tokens: 8192,
      max_client_batch_size: 2048,
      dimension: 32,
    });
  });
});

describe('two worker threads', () => {
  it("concurrent requests over two model threads: every vector is encode's", async () => {
    const server = await tinyServer({ workers: 2, batchSize: 3 });
    const enc = await SentenceEncoder.load(TINY, { backend: 'wasm', workers: 1 });
    try {
      const refs = stRefs('tiny');
      const groups = [0, 2, 4, 6, 8].map((k) => refs.sentences.slice(k, k + 4));
      const answers = await Promise.all(
        groups.map((inputs) => post(`${server.url}/embed`, { inputs, normalize: false })),
      );
      for (const [k, a] of answers.entries())
        expect(maxAbs(a.body as number[][], await enc.encode(groups[k]!))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
      expect(server.context.batcher!.options.batchSize).toBe(3);
    } finally {
      await server.shutdown();
      await enc.dispose();
    }
  });
});
