// SentenceEncoder against sentence-transformers' own encode() output (st.mean / st.mean_normalized).
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../fixtures.js';
import { syntheticModelDir } from '../synthetic.js';
import { wasmBlasActive } from '../../src/backend/blas/index.js';
import { tensorflowOnCpu } from '../../src/backend/index.js';
import { defaultWorkers, SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { InputError } from '../../src/errors.js';
import { runWithCache } from '../../src/model/hooks.js';
import { MAIN_BACKEND } from '../model/helpers.js';
import { maxAbsRows, shuffledWithDuplicates, stRefs } from './helpers.js';

describe(`SentenceEncoder on tiny (sentence-transformers folder, ${MAIN_BACKEND})`, () => {
  const refs = stRefs('tiny');
  let enc: SentenceEncoder;
  let tensorsBefore = 0;
  let beforeModel = 0;

  beforeAll(async () => {
    enc = await SentenceEncoder.load(fixture('tiny', 'st'), { backend: MAIN_BACKEND, workers: 1 });
    beforeModel = tf.memory().numTensors;
    await enc.encode(['warm-up: the model is uploaded on first use']);
    tensorsBefore = tf.memory().numTensors;
  });
  afterAll(async () => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    await enc.dispose();
    expect(tf.memory().numTensors).toBe(beforeModel);
  });

  it('equals st.mean in input order for shuffled, duplicated and empty sentences', async () => {
    const order = shuffledWithDuplicates(refs.sentences.length);
    expect(refs.sentences).toContain('');
    const got = await enc.encode(
      order.map((i) => refs.sentences[i]!),
      { batchSize: 4 },
    );
    expect(
      maxAbsRows(
        got,
        order.map((i) => refs.mean[i]!),
      ),
    ).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('normalize: equals st.mean_normalized', async () => {
    const got = await enc.encode(refs.sentences, { normalize: true });
    expect(maxAbsRows(got, refs.normalized)).toBeLessThanOrEqual(1e-5);
  });

  it('the batch size does not change the numbers (≤ 1e-5)', async () => {
    const one = await enc.encode(refs.sentences, { batchSize: 1 });
    const all = await enc.encode(refs.sentences, { batchSize: 64 });
    expect(maxAbsRows(one, all)).toBeLessThanOrEqual(1e-5);
  });

  it('concurrent encode calls give what sequential ones give', async () => {
    const a = refs.sentences.slice(0, 7);
    const b = refs.sentences.slice(7);
    const [ca, cb] = await Promise.all([enc.encode(a, { batchSize: 2 }), enc.encode(b, { batchSize: 3 })]);
    expect(maxAbsRows([...ca, ...cb], refs.mean)).toBeLessThanOrEqual(1e-5);
  });

  it('encodeTokens: one [tokens, hidden] array per sentence, mean of which is st.mean', async () => {
    const toks = await enc.encodeTokens(refs.sentences);
    const means = toks.map((rows) => {
      const m = new Float32Array(enc.dimension);
      for (const r of rows) for (let j = 0; j < m.length; j++) m[j]! += r[j]! / rows.length;
      return m;
    });
    expect(toks.map((t) => t.length)).toEqual(refs.sentences.map((s) => enc.tokenizer.encode(s).inputIds.length));
    expect(maxAbsRows(means, refs.mean)).toBeLessThanOrEqual(1e-5);
  });

  it("model + inputs: the hook API on the encoder's own model (cached resid_post = last hidden state)", async () => {
    const inputs = enc.inputs(refs.sentences.slice(0, 3));
    const { output, cache } = runWithCache(enc.model, inputs, {
      names: (n) => n.endsWith('hook_normalized_resid_post'),
    });
    const last = cache.get(`blocks.${enc.model.config.numHiddenLayers - 1}.hook_normalized_resid_post`);
    expect(await last.data()).toEqual(await output.lastHiddenState.data());
    cache.dispose();
    tf.dispose([output.lastHiddenState, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds!]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('pooling and option errors are usage errors', async () => {
    await expect(enc.encode(['x'], { batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(enc.encode(['x'], { pooling: 'median' as never })).rejects.toThrow(/unknown pooling "median"/);
  });

  it('a lone surrogate is refused (InputError naming the sentence), as HF and the CLI refuse it; pairs are fine', async () => {
    for (const [text, code, at] of [
      ['那个人\ud800很开心', 'd800', 4],
      ['\udfff', 'dfff', 1],
      ['开心\ud83d', 'd83d', 3], // the first half of an emoji, cut off
    ] as const) {
      const err = await enc.encode(['那个人很开心', text]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toBe(
        `sentence 2 holds a lone surrogate \\u${code} at character ${at}, which is not a Unicode character`,
      );
      await expect(enc.encodeTokens([text])).rejects.toThrow(/sentence 1 holds a lone surrogate/);
      expect(() => enc.tokenize([text])).toThrow(InputError);
    }
    // a whole pair is a character: 😂 encodes as the fixture's sentence with it does
    const [v] = await enc.encode(['今天天气真好😂👍🔥']);
    const want = refs.mean[refs.sentences.indexOf('今天天气真好😂👍🔥')]!;
    expect(maxAbsRows([v!], [want])).toBeLessThanOrEqual(1e-5);
  });
});

describe(`SentenceEncoder with 2 worker threads (${MAIN_BACKEND})`, () => {
  it('gives the same numbers as 1 worker (tiny, ≤ 1e-6) and st.mean', async () => {
    const refs = stRefs('tiny');
    const sentences = shuffledWithDuplicates(refs.sentences.length).map((i) => refs.sentences[i]!);
    const one = await SentenceEncoder.load(fixture('tiny', 'hf'), { backend: MAIN_BACKEND, workers: 1 });
    const two = await SentenceEncoder.load(fixture('tiny', 'hf'), { backend: MAIN_BACKEND, workers: 2 });
    try {
      const a = await one.encode(sentences, { batchSize: 3 });
      const b = await two.encode(sentences, { batchSize: 3 });
      expect(maxAbsRows(a, b)).toBeLessThanOrEqual(1e-6);
    } finally {
      await one.dispose();
      await two.dispose();
    }
  });
});

describe(`SentenceEncoder on synthetic BERT-base (${MAIN_BACKEND})`, () => {
  it('equals st.mean and st.mean_normalized (≤ 1e-5), in input order', async () => {
    const refs = stRefs('base');
    const enc = await SentenceEncoder.load(syntheticModelDir('base'), { backend: MAIN_BACKEND, workers: 1 });
    try {
      const order = shuffledWithDuplicates(refs.sentences.length);
      const got = await enc.encode(
        order.map((i) => refs.sentences[i]!),
        { batchSize: 8 },
      );
      expect(
        maxAbsRows(
          got,
          order.map((i) => refs.mean[i]!),
        ),
      ).toBeLessThanOrEqual(1e-5);
      const norm = await enc.encode(refs.sentences, { normalize: true, batchSize: 32 });
      expect(maxAbsRows(norm, refs.normalized)).toBeLessThanOrEqual(1e-5);
    } finally {
      await enc.dispose();
    }
  });
});

describe('defaultWorkers', () => {
  it('starts worker threads only where kernels use one core per process (cpu, wasm without a BLAS), for ≥ 256 sentences', () => {
    // wasm with a BLAS (src/backend/blas) runs its matmuls on every core already
    expect(defaultWorkers('wasm', 256)).toBe(wasmBlasActive() ? 1 : availableParallelism());
    expect(defaultWorkers('cpu', 10_000)).toBe(availableParallelism());
    expect(defaultWorkers('wasm', 255)).toBe(1);
    // A GPU is one device. tensorflow: a pool from 1 024 sentences, only once tfjs-node (CPU) runs it
    // (test/backend/tensorflow.test.ts); before, or without it, in process.
    if (!tensorflowOnCpu()) expect(defaultWorkers('tensorflow', 10_000)).toBe(1);
    expect(defaultWorkers('tensorflow', 1023)).toBe(1);
    expect(defaultWorkers('webgpu', 10_000)).toBe(1);
  });
});
