// Worker pool faults (issue 14): a worker that dies mid-encode (terminated, process.exit, an uncaught
// exception, out of memory) or while idle must never leave a call hanging. 50 random kills over a long
// encode: every call settles (resolves or rejects), results that do come back equal sentence-transformers'
// reference, and later calls still work. A call that has not settled 30 s after its kill is taken as hung: a
// guard, not a timing assertion (on the 2-core machine under a load of 13 the slowest took 3.3 s, against the
// issue's 5 s on a quiet one, so a tighter guard would fail on a busy machine, not on a hang). The slowest is
// printed, to compare with the 5 s.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensorflowWorkersSafe } from '../../src/backend/index.js';
import { addonHasWorkerLock, WORKER_LOCK_MARKER } from '../../src/backend/tensorflow.js';
import { type BatchJob, padBatch } from '../../src/encoder/batches.js';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { shareWeights } from '../../src/encoder/shared-weights.js';
import { WorkerDiedError, WorkerPool } from '../../src/encoder/worker-pool.js';
import type { WorkerInit } from '../../src/encoder/worker.js';
import { loadModelDir } from '../../src/loader/model-dir.js';
import { BertTokenizer } from '../../src/tokenizer/index.js';
import { UsageError } from '../../src/errors.js';
import { fixture, ROOT } from '../fixtures.js';
import { maxDiff } from '../values.js';
import { stRefs } from './helpers.js';

const SCRIPT = join(ROOT, 'test', 'encoder', 'fault-worker.mjs');
const SETTLE_MS = 30_000;
const settings = { pooling: 'mean', normalize: false } as const;

let tmp: string;
let init: WorkerInit;
let jobs: BatchJob[];
const refs = stRefs('tiny');

beforeAll(() => {
  expect(existsSync(join(ROOT, 'dist', 'src', 'encoder', 'worker.js'))).toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'sbert-pool-'));
  const loaded = loadModelDir(fixture('tiny', 'st'));
  const tok = BertTokenizer.fromDir(loaded.tokenizerDir);
  const enc = refs.sentences.map((s) => tok.encode(s));
  // One sentence per batch: each job's result is one reference row.
  jobs = enc.map((_, i) => padBatch(enc, [i], tok.padId));
  init = {
    backend: 'cpu',
    config: loaded.config,
    weights: shareWeights(loaded.weights),
    source: loaded.weightsFile,
    blasThreads: 1,
  };
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Settles `p` or says it hung (the guard; a call that settles in time is all that is asserted). */
async function settled<T>(p: Promise<T>): Promise<PromiseSettledResult<T> | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), SETTLE_MS)));
  const result = await Promise.race([
    p.then(
      (value) => ({ status: 'fulfilled' as const, value }),
      (reason: unknown) => ({ status: 'rejected' as const, reason }),
    ),
    guard,
  ]);
  clearTimeout(timer);
  return result;
}

/** A result row equals sentence-transformers' st.mean for its sentence. */
function expectReference(i: number, data: Float32Array): void {
  expect(maxDiff(data, refs.mean[i]!), `sentence ${i}`).toBeLessThan(2e-5);
}

async function untilSize(pool: WorkerPool, n: number): Promise<void> {
  for (let t = 0; t < 600 && pool.size !== n; t++) await sleep(50);
  expect(pool.size).toBe(n);
}

type Fault = 'terminate' | 'exit' | 'throw' | 'oom';
function kill(pool: WorkerPool, how: Fault, index: number): void {
  const threads = pool.threads;
  if (threads.length === 0) return;
  const w = threads[index % threads.length]!;
  if (how === 'terminate') void w.terminate();
  else w.postMessage({ fault: how });
}

describe('worker pool faults', () => {
  it('50 random kills over a long encode: every call settles, results are right, later calls work', async () => {
    const pool = await WorkerPool.start(2, init, {
      script: SCRIPT,
      resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
    });
    try {
      let seed = 2024;
      const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
      const faults: Fault[] = ['terminate', 'exit', 'throw', 'terminate', 'exit', 'throw', 'oom'];
      let resolved = 0;
      let rejected = 0;
      let slowest = 0;
      for (let k = 0; k < 50; k++) {
        // The previous kill's replacement has joined (starting a worker is the slow part, and not what is
        // tested: a call waiting for a replacement is waiting, not hanging).
        await untilSize(pool, 2);
        // A call: every sentence, as SentenceEncoder.encode sends them (all batches at once).
        // Observed from the start: a worker hit by an earlier fault may still die under this call.
        const pending = Promise.all(jobs.map((j) => settled(pool.run(j, settings))));
        await sleep(Math.floor(rand() * 40));
        const fault = faults[Math.floor(rand() * faults.length)]!;
        kill(pool, fault, Math.floor(rand() * 2));
        const t0 = performance.now();
        const outcomes = await pending;
        slowest = Math.max(slowest, performance.now() - t0);
        outcomes.forEach((o, i) => {
          expect(o, `kill ${k} (${fault}), batch ${i}`).not.toBe('hung');
          if (o === 'hung') return;
          if (o.status === 'fulfilled') {
            resolved++;
            expectReference(i, o.value);
          } else {
            rejected++;
            expect(o.reason).toBeInstanceOf(WorkerDiedError);
            expect((o.reason as Error).message).toMatch(
              /^an encoder worker died while encoding a batch \((it exited with code \d+|it threw injected fault|it ran out of memory)\)$|^every encoder worker has died/,
            );
          }
        });
      }
      console.log(
        `50 kills: ${resolved} batches resolved, ${rejected} rejected, none hung; slowest call settled ${slowest.toFixed(0)} ms after its kill (issue 14: under 5 000 ms)`,
      );
      expect(rejected).toBeGreaterThan(0);
      // The pool replaced its dead workers; a later call works and is right.
      await untilSize(pool, 2);
      const after = await Promise.all(jobs.map((j) => pool.run(j, settings)));
      after.forEach((data, i) => expectReference(i, data));
    } finally {
      await pool.close();
    }
    // 50 worker starts (≈ 0.3–1 s of CPU each: importing tfjs) dominate; a loaded machine needs the room.
  }, 300_000);

  it('a worker that dies while idle is replaced; the next call does not hang', async () => {
    const pool = await WorkerPool.start(2, init, { script: SCRIPT });
    try {
      for (const how of ['exit', 'terminate', 'throw'] as Fault[]) {
        // Dead before the call is made: the call must not be given to it, nor wait for it.
        const w = pool.threads[0]!;
        const gone = new Promise((r) => w.once('exit', r));
        kill(pool, how, 0);
        await gone;
        const o = await settled(Promise.all(jobs.slice(0, 4).map((j) => pool.run(j, settings))));
        expect(o, how).not.toBe('hung');
        expect((o as PromiseSettledResult<Float32Array[]>).status, how).toBe('fulfilled');
        (o as PromiseFulfilledResult<Float32Array[]>).value.forEach((d, i) => expectReference(i, d));
      }
      await untilSize(pool, 2);
    } finally {
      await pool.close();
    }
  });

  it('when every worker dies and none can be replaced, queued calls reject at once instead of waiting forever', async () => {
    const marker = join(tmp, 'no-more-workers');
    const pool = await WorkerPool.start(2, { ...init, failStartIf: marker } as WorkerInit, { script: SCRIPT });
    try {
      writeFileSync(marker, '');
      const pending = Promise.all(jobs.map((j) => settled(pool.run(j, settings))));
      for (const w of pool.threads) void w.terminate();
      const outcomes = await pending;
      expect(outcomes.filter((o) => o === 'hung')).toEqual([]);
      expect(
        outcomes.some(
          (o) =>
            o !== 'hung' &&
            o.status === 'rejected' &&
            /every encoder worker has died|died while encoding/.test((o.reason as Error).message),
        ),
      ).toBe(true);
      await untilSize(pool, 0);
      const late = await settled(pool.run(jobs[0]!, settings));
      expect(late !== 'hung' && late.status === 'rejected' && (late.reason as Error).message).toBe(
        'every encoder worker has died; no worker is left to run the batch',
      );
    } finally {
      await pool.close();
    }
  });

  it('a worker that dies on every batch is not respawned forever: every call rejects, none hangs', async () => {
    const pool = await WorkerPool.start(2, { ...init, dieOnBatch: true } as WorkerInit, { script: SCRIPT });
    try {
      const outcomes = await Promise.all([...jobs, ...jobs, ...jobs].map((j) => settled(pool.run(j, settings))));
      expect(outcomes.filter((o) => o === 'hung')).toEqual([]);
      expect(outcomes.every((o) => o !== 'hung' && o.status === 'rejected')).toBe(true);
      await untilSize(pool, 0);
    } finally {
      await pool.close();
    }
  });

  it('SentenceEncoder: a worker terminated mid-encode rejects that call with a clear error; the next call works', async () => {
    const enc = await SentenceEncoder.load(fixture('tiny', 'st'), { backend: 'cpu', workers: 2, quiet: true });
    try {
      const many = Array.from({ length: 64 }, (_, i) => refs.sentences[i % refs.sentences.length]!);
      const first = enc.encode(many, { batchSize: 4 });
      const pool = await (enc as unknown as { pool: Promise<WorkerPool> }).pool;
      void pool.threads[0]!.terminate();
      const o = await settled(first);
      expect(o).not.toBe('hung');
      if (o !== 'hung' && o.status === 'rejected')
        expect((o.reason as Error).message).toMatch(
          /^an encoder worker died while encoding a batch \(it exited with code \d+\)$/,
        );
      const again = await enc.encode(refs.sentences);
      again.forEach((v, i) => expectReference(i, v));
    } finally {
      await enc.dispose();
    }
  });
});

describe('WorkerPool on tensorflow without the binding lock', () => {
  // tfjs-node's prebuilt addon crashes when two threads run ops at once (docs/tensorflow.md): more than one worker
  // is refused before any thread starts. Here no tensorflow backend with our addon is active in this thread.
  it.skipIf(tensorflowWorkersSafe())('two workers: a usage error naming the fix; one worker is allowed', async () => {
    const err = await WorkerPool.start(2, { ...init, backend: 'tensorflow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      "backend tensorflow: 2 worker threads need tfjs-node's addon as npm run build:tensorflow builds it " +
        '(this one lacks the lock that keeps threads running ops at once from crashing it); use 1 worker',
    );
  });

  it('the lock is read from the addon file: its marker string in it, or not', () => {
    const yes = join(tmp, 'with.node');
    const no = join(tmp, 'without.node');
    writeFileSync(yes, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0]), Buffer.from(WORKER_LOCK_MARKER)]));
    writeFileSync(no, Buffer.from('\u007fELF\u0000 sbert-tfjs patch: string-list attributes'));
    expect(addonHasWorkerLock(yes)).toBe(true);
    expect(addonHasWorkerLock(no)).toBe(false);
    expect(addonHasWorkerLock(join(tmp, 'missing.node'))).toBe(false);
  });
});
