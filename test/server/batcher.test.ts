// Dynamic batching: texts of concurrent requests share length-sorted batches within --batch-size and
// --max-batch-tokens, each vector equals `encode`'s, settings never mix, and the oldest text always goes next.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuChunks } from '../../src/encoder/batches.js';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { Batcher, type BatchStats } from '../../src/server/batcher.js';
import { ApiError } from '../../src/server/errors.js';
import { inProcessExecutor } from '../../src/server/executor.js';
import { corpus } from '../fixtures.js';
import { readFileSync } from 'node:fs';
import { Gate, maxAbs, TINY, until } from './helpers.js';

// The server batches texts other than encode does: other padded shapes, so a BLAS may block and round its sums
// differently (oneDNN on an AMD EPYC: 1.2e-6 on the tiny model, 2026-12-01).
const BATCHING_TOLERANCE = 5e-6;

const sts = readFileSync(corpus('sts-b.test.tsv'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .flatMap((l) => l.split('\t').slice(0, 2));

describe('Batcher', () => {
  let enc: SentenceEncoder;
  let tensors = 0;

  beforeAll(async () => {
    enc = await SentenceEncoder.load(TINY, { backend: 'wasm', workers: 1 });
    await enc.encode(['warm-up']);
    tensors = tf.memory().numTensors;
  });
  afterAll(async () => {
    expect(tf.memory().numTensors).toBe(tensors);
    await enc?.dispose();
  });

  function batcher(
    gate: Gate,
    opts: { batchSize: number; maxBatchTokens: number; maxQueue?: number },
    stats: BatchStats[] = [],
  ) {
    return new Batcher(
      gate.wrap(inProcessExecutor(enc)),
      { maxQueue: 10_000, padId: enc.tokenizer.padId, ...opts },
      (s) => stats.push(s),
    );
  }
  const settings = { pooling: 'mean' as const, normalize: false };

  it("merges concurrent requests into full, length-sorted batches; every vector is encode's", async () => {
    const gate = new Gate();
    const stats: BatchStats[] = [];
    const b = batcher(gate, { batchSize: 8, maxBatchTokens: 8 * 512 }, stats);
    gate.close();
    // 24 requests of 1–16 STS-B sentences, submitted while the model is held.
    const requests = Array.from({ length: 24 }, (_, k) => sts.slice(k * 17, k * 17 + 1 + ((k * 7) % 16)));
    const pending = requests.map((texts) => b.submit(enc.tokenize(texts), settings));
    await until(() => gate.taken === 1, 'the first batch');
    const total = requests.reduce((n, r) => n + r.length, 0);
    // The first request's texts went to the model as soon as they came; everything else waits.
    expect(b.queueDepth).toBe(total - requests[0]!.length);
    gate.open();
    const results = await Promise.all(pending);
    for (const [k, r] of results.entries()) {
      expect(maxAbs(r.vectors, await enc.encode(requests[k]!))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    }
    // Then full batches (but the last)...
    const sizes = gate.ran.map((j) => j.batch);
    expect(sizes[0]).toBe(requests[0]!.length);
    expect(sizes.slice(1, -1).every((n) => n === 8)).toBe(true);
    expect(sizes.reduce((n, x) => n + x, 0)).toBe(total);
    // ...of similar lengths: less than half the padding of batches taken in arrival order.
    const waste = stats.slice(1).reduce((n, s) => n + s.paddedTokens - s.tokens, 0);
    const lengths = requests
      .slice(1)
      .flat()
      .map((t) => enc.tokenize([t])[0]!.inputIds.length);
    let fifoWaste = 0;
    for (let i = 0; i < lengths.length; i += 8) {
      const chunk = lengths.slice(i, i + 8);
      fifoWaste += Math.max(...chunk) * chunk.length - chunk.reduce((n, x) => n + x, 0);
    }
    expect(waste).toBeLessThan(0.5 * fifoWaste);
  });

  it('never exceeds --max-batch-tokens (texts × longest), splitting a batch-size worth of long texts', async () => {
    const gate = new Gate();
    const stats: BatchStats[] = [];
    const b = batcher(gate, { batchSize: 32, maxBatchTokens: 600 }, stats);
    const texts = Array.from({ length: 12 }, (_, i) => '好'.repeat(40 + 20 * i)); // 42 … 262 tokens
    const r = await b.submit(enc.tokenize(texts), settings);
    expect(maxAbs(r.vectors, await enc.encode(texts))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    for (const s of stats) expect(s.paddedTokens).toBeLessThanOrEqual(600);
    expect(stats.reduce((n, s) => n + s.texts, 0)).toBe(12);
    // A text longer than the budget still runs, alone.
    const long = await b.submit(enc.tokenize(['好'.repeat(700)]), settings);
    expect(maxAbs(long.vectors, await enc.encode(['好'.repeat(700)]))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    expect(stats.at(-1)).toMatchObject({ texts: 1, paddedTokens: 512 });
  });

  it('requests with other settings never share a batch; the oldest text goes first', async () => {
    const gate = new Gate();
    const b = batcher(gate, { batchSize: 8, maxBatchTokens: 4096 });
    gate.close();
    const hold = b.submit(enc.tokenize(['先']), settings);
    await until(() => gate.taken === 1, 'the first batch');
    const plain = b.submit(enc.tokenize(sts.slice(0, 3)), settings);
    const unit = b.submit(enc.tokenize(sts.slice(3, 6)), { pooling: 'mean', normalize: true });
    const more = b.submit(enc.tokenize(sts.slice(6, 9)), settings);
    gate.open();
    const [, p, u, m] = await Promise.all([hold, plain, unit, more]);
    expect(gate.ran.map((j) => [j.batch, j.settings.normalize])).toEqual([
      [1, false],
      [6, false], // the oldest waiting text is plain's: plain and more go together
      [3, true],
    ]);
    expect(maxAbs(p.vectors, await enc.encode(sts.slice(0, 3)))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    expect(maxAbs(u.vectors, await enc.encode(sts.slice(3, 6), { normalize: true }))).toBeLessThanOrEqual(
      BATCHING_TOLERANCE,
    );
    expect(maxAbs(m.vectors, await enc.encode(sts.slice(6, 9)))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
  });

  it('starts the next forward before handing out the answers of the one that finished', async () => {
    const gate = new Gate();
    const b = batcher(gate, { batchSize: 8, maxBatchTokens: 4096 });
    gate.close();
    const first = b.submit(enc.tokenize(['先']), settings);
    await until(() => gate.taken === 1, 'the first batch');
    const second = b.submit(enc.tokenize(sts.slice(0, 3)), settings);
    // When the first request's answer comes, the second forward has already gone to the model: the model never
    // waits while the event loop writes responses.
    const takenWhenAnswered = first.then(() => gate.taken);
    gate.open();
    expect(await takenWhenAnswered).toBe(2);
    expect(maxAbs((await second).vectors, await enc.encode(sts.slice(0, 3)))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
  });

  it("cuts a batch by the rule it is given and runs the oldest text's piece; the rest waits for the next forward", async () => {
    const gate = new Gate();
    const stats: BatchStats[] = [];
    const b = new Batcher(
      gate.wrap(inProcessExecutor(enc)),
      {
        batchSize: 8,
        maxBatchTokens: 4096,
        maxQueue: 100,
        padId: enc.tokenizer.padId,
        cut: (l) => cpuChunks(l, 4096, { overheadTokens: 4, minTokens: 1 }),
      },
      (s) => stats.push(s),
    );
    gate.close();
    const hold = b.submit(enc.tokenize(['先']), settings);
    await until(() => gate.taken === 1, 'the first batch');
    const texts = ['好'.repeat(40), '好', '好'.repeat(40), '好', '好'.repeat(40), '好'];
    const r = b.submit(enc.tokenize(texts), settings);
    expect(b.queueDepth).toBe(6);
    gate.open(); // the held forward goes...
    gate.close(); // ...and the next one is held once taken
    await hold;
    await until(() => gate.taken === 2, 'the second batch');
    // Taken when the model came free: the three long texts (the oldest is long); the short ones wait.
    expect(b.queueDepth).toBe(3);
    gate.open();
    expect(maxAbs((await r).vectors, await enc.encode(texts))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    expect(stats.slice(1).map((s) => [s.texts, s.paddedTokens])).toEqual([
      [3, 3 * 42],
      [3, 3 * 3],
    ]);
  });

  it('a forward that fails ends its requests with a 500 (their other texts never run); the rest go on', async () => {
    const gate = new Gate();
    const model = inProcessExecutor(enc);
    const b = new Batcher(
      // The model fails on any batch of long texts.
      gate.wrap({
        ...model,
        run: (job, s) => (job.length > 30 ? Promise.reject(new Error('boom')) : model.run(job, s)),
      }),
      { batchSize: 2, maxBatchTokens: 4096, maxQueue: 100, padId: enc.tokenizer.padId },
    );
    gate.close();
    const hold = b.submit(enc.tokenize(['先']), settings);
    await until(() => gate.taken === 1, 'the first batch');
    // Four long texts (two forwards of two): the first long forward fails, and the request's other two texts
    // leave the queue with it, before the next forward is taken.
    const long = b.submit(enc.tokenize(Array.from({ length: 4 }, (_, i) => '好'.repeat(40 + i))), settings);
    const short = b.submit(enc.tokenize(sts.slice(0, 2)), settings);
    const failure = long.catch((e: unknown) => e);
    gate.open();
    await hold;
    const e = await failure;
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 500, message: 'the model failed on a batch: boom' });
    expect(maxAbs((await short).vectors, await enc.encode(sts.slice(0, 2)))).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    // Forwards that reached the model: the held one, the failed one, the short one.
    expect(gate.ran.map((j) => [j.batch, j.length])).toEqual([
      [1, 3],
      [2, 43],
      [2, Math.max(...enc.tokenize(sts.slice(0, 2)).map((x) => x.inputIds.length))],
    ]);
    expect(b.queueDepth).toBe(0);
  });

  it('drain refuses new work and waits for what is queued', async () => {
    const gate = new Gate();
    const b = batcher(gate, { batchSize: 2, maxBatchTokens: 4096 });
    gate.close();
    const r = b.submit(enc.tokenize(sts.slice(0, 5)), settings);
    await until(() => gate.taken === 1, 'the first batch');
    let drained = false;
    const d = b.drain().then(() => (drained = true));
    await expect(b.submit(enc.tokenize(['x']), settings)).rejects.toThrow(/shutting down/);
    expect(drained).toBe(false);
    gate.open();
    await d;
    expect((await r).vectors).toHaveLength(5);
  });
});
