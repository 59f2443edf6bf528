// Dynamic batching: the texts of concurrent requests wait in one queue and leave it in length-sorted
// batches, so that under load the model runs full batches of similar lengths, as the offline `encode` does.
//
// Each batch starts from the oldest waiting text (no request starves) and takes the waiting texts closest to
// it in length (so little compute goes to padding), up to `batchSize` texts and `maxBatchTokens` padded
// tokens. Only texts with the same output settings share a batch, so every vector comes out of exactly the
// code `encode` runs. Nothing waits for a batch to fill: a free model slot takes whatever is queued.
import { cpuChunks, padBatch } from '../encoder/batches.js';
import type { BatchSettings } from '../encoder/run-batch.js';
import type { Encoding } from '../tokenizer/index.js';
import { ApiError, RequestCancelled } from './errors.js';
import type { Executor } from './executor.js';

export interface BatcherOptions {
  /** Texts per forward (`--batch-size`). */
  batchSize: number;
  /** Padded tokens (texts × longest) per forward (`--max-batch-tokens`). */
  maxBatchTokens: number;
  /** Texts that may wait; a request that would overflow it gets 503 (`--max-queue`). */
  maxQueue: number;
  /** Cut a batch where padding would cost more than another forward (CPU backends, as `encode`). */
  splitByPadding: boolean;
  padId: number;
}

/** One forward, for metrics. */
export interface BatchStats {
  texts: number;
  /** Real tokens (unpadded). */
  tokens: number;
  /** texts × longest. */
  paddedTokens: number;
  seconds: number;
  /** Seconds each text waited in the queue before this forward started. */
  waits: number[];
}

export interface SubmitTimings {
  /** Seconds from submission to the start of the request's first forward. */
  queue: number;
  /** Seconds from then until its last vector came back. */
  inference: number;
}

interface Pending {
  settings: BatchSettings;
  key: string;
  out: Float32Array[];
  left: number;
  done: boolean;
  submitted: number;
  started?: number;
  resolve(v: { vectors: Float32Array[]; timings: SubmitTimings }): void;
  reject(e: Error): void;
}

interface Item {
  req: Pending;
  index: number;
  enc: Encoding;
  length: number;
  seq: number;
}

const now = (): number => performance.now() / 1000;

export class Batcher {
  private queue: Item[] = [];
  private running = 0;
  private seq = 0;
  private closed = false;
  private idle: (() => void)[] = [];
  /** Texts per second of model time, smoothed: for Retry-After. */
  private rate = 0;

  constructor(
    private readonly executor: Executor,
    readonly options: BatcherOptions,
    private readonly onBatch: (s: BatchStats) => void = () => {},
  ) {}

  /** Texts waiting for a forward. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Forwards running now. */
  get busy(): number {
    return this.running;
  }

  /**
   * Queues the texts; resolves with one vector per encoding, in order. Rejects with a 503 ApiError when the
   * queue is full or the server is shutting down, and with RequestCancelled when `signal` aborts first (its
   * waiting texts leave the queue; a forward already running finishes for the others in it).
   */
  submit(
    encodings: readonly Encoding[],
    settings: BatchSettings,
    signal?: AbortSignal,
  ): Promise<{ vectors: Float32Array[]; timings: SubmitTimings }> {
    if (this.closed) return Promise.reject(new ApiError(503, 'the server is shutting down', { teiType: 'Unhealthy' }));
    if (encodings.length === 0) return Promise.resolve({ vectors: [], timings: { queue: 0, inference: 0 } });
    const { maxQueue } = this.options;
    if (this.queue.length + encodings.length > maxQueue) {
      const retryAfter = this.retryAfter(encodings.length);
      return Promise.reject(
        new ApiError(
          503,
          `the queue is full (${this.queue.length} texts waiting, limit ${maxQueue}); retry in ${retryAfter} s`,
          { retryAfter, teiType: 'Overloaded', code: 'queue_full' },
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(new RequestCancelled('the client went away'));
    return new Promise((resolve, reject) => {
      const req: Pending = {
        settings,
        key: `${settings.pooling}/${settings.normalize}`,
        out: new Array<Float32Array>(encodings.length),
        left: encodings.length,
        done: false,
        submitted: now(),
        resolve,
        reject,
      };
      encodings.forEach((enc, index) =>
        this.queue.push({ req, index, enc, length: enc.inputIds.length, seq: this.seq++ }),
      );
      signal?.addEventListener('abort', () => this.fail(req, new RequestCancelled('the client went away')), {
        once: true,
      });
      this.pump();
    });
  }

  /** Refuses new work; resolves once everything queued and running has finished. */
  drain(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => {
      this.idle.push(resolve);
      this.checkIdle();
    });
  }

  /** Seconds until `extra` more texts could be taken, from the recent rate; 1–60. */
  private retryAfter(extra: number): number {
    if (this.rate <= 0) return 1;
    return Math.min(60, Math.max(1, Math.ceil((this.queue.length + extra) / this.rate)));
  }

  private pump(): void {
    while (this.running < this.executor.slots && this.queue.length > 0) {
      const batch = this.take();
      this.running++;
      void this.execute(batch).finally(() => {
        this.running--;
        this.pump();
        this.checkIdle();
      });
    }
  }

  private checkIdle(): void {
    if (this.running === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
  }

  /** The oldest waiting text and the waiting texts closest to it in length (same settings), within the limits. */
  private take(): Item[] {
    const anchor = this.queue[0]!;
    const { batchSize, maxBatchTokens } = this.options;
    const candidates = this.queue
      .filter((it) => it.req.key === anchor.req.key)
      .sort((a, b) => Math.abs(a.length - anchor.length) - Math.abs(b.length - anchor.length) || a.seq - b.seq);
    const picked: Item[] = [];
    let longest = 0;
    for (const it of candidates) {
      if (picked.length >= batchSize) break;
      const l = Math.max(longest, it.length);
      if (picked.length > 0 && (picked.length + 1) * l > maxBatchTokens) continue;
      picked.push(it);
      longest = l;
    }
    const taken = new Set(picked);
    this.queue = this.queue.filter((it) => !taken.has(it));
    return picked;
  }

  /** Runs a batch, longest first (as `encode` orders rows), cut as `encode` cuts on CPU backends. Never throws. */
  private async execute(items: Item[]): Promise<void> {
    items.sort((a, b) => b.length - a.length || a.seq - b.seq);
    const { splitByPadding, maxBatchTokens, padId } = this.options;
    const ranges = splitByPadding
      ? cpuChunks(
          items.map((it) => it.length),
          maxBatchTokens,
        )
      : [[0, items.length] as [number, number]];
    for (const [from, to] of ranges) {
      // A request cancelled since the batch was taken costs nothing more.
      const rows = items.slice(from, to).filter((it) => !it.req.done);
      if (rows.length === 0) continue;
      const job = padBatch(
        rows.map((it) => it.enc),
        rows.map((_, i) => i),
        padId,
      );
      const start = now();
      for (const it of rows) it.req.started ??= start;
      let data: Float32Array;
      try {
        data = await this.executor.run(job, rows[0]!.req.settings);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const err = new ApiError(500, `the model failed on a batch: ${msg}`, { teiType: 'Backend' });
        for (const it of rows) this.fail(it.req, err);
        continue;
      }
      const seconds = now() - start;
      this.rate = this.rate === 0 ? rows.length / seconds : 0.8 * this.rate + 0.2 * (rows.length / seconds);
      this.onBatch({
        texts: rows.length,
        tokens: rows.reduce((n, it) => n + it.length, 0),
        paddedTokens: job.batch * job.length,
        seconds,
        waits: rows.map((it) => start - it.req.submitted),
      });
      const per = data.length / job.batch;
      rows.forEach((it, b) => {
        const req = it.req;
        if (req.done) return;
        const row = data.slice(b * per, (b + 1) * per);
        req.out[it.index] = req.settings.pooling === 'none' ? row.subarray(0, it.length * (per / job.length)) : row;
        if (--req.left === 0) {
          req.done = true;
          const end = now();
          req.resolve({
            vectors: req.out,
            timings: { queue: req.started! - req.submitted, inference: end - req.started! },
          });
        }
      });
    }
  }

  /** Ends a request with an error; its waiting texts leave the queue. */
  private fail(req: Pending, e: Error): void {
    if (req.done) return;
    req.done = true;
    this.queue = this.queue.filter((it) => it.req !== req);
    req.reject(e);
    this.checkIdle();
  }
}
