// Dynamic batching: the texts of concurrent requests wait in one pool and leave it in length-sorted forwards,
// so that under load the model runs the batches the offline `encode` would.
//
// Each forward starts from the oldest waiting text (so no request starves: the oldest text is in the very next
// forward) and takes the waiting texts closest to it in length from the whole pool, not in arrival order (so
// little compute goes to padding), up to `batchSize` texts and `maxBatchTokens` padded tokens; that batch is
// sorted and cut by `encode`'s rule for the backend (`cutBatch`), and the piece holding the oldest text runs,
// the rest staying in the pool to batch again with what arrives meanwhile. Only texts with the same output
// settings share a forward, so every vector comes out of exactly the code `encode` runs. Nothing waits for a
// batch to fill: a free model slot takes whatever is queued, and a lone request goes at once.
import { padBatch } from '../encoder/batches.js';
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
  /**
   * The forwards a batch (lengths sorted longest first) is cut into, as [from, to) ranges: `encode`'s rule for
   * the backend (`(l) => cutBatch(l, encoder.batching, maxBatchTokens)`). Default: the whole batch, one forward.
   */
  cut?: (lengths: readonly number[]) => [number, number][];
  padId: number;
}

/** A waiting text as `nextBatch` sees it. */
export interface Waiting {
  /** Tokens, special tokens included. */
  length: number;
  /** Output settings: only texts with the same key share a forward. */
  key: string;
  /** Arrival order (smaller is older). */
  seq: number;
}

/**
 * The next forward out of the waiting texts `waiting` (oldest first): indices into it, longest text first.
 * The oldest text and the texts of its key closest to it in length (ties: the older), up to `batchSize` texts
 * and `maxBatchTokens` padded tokens (texts × longest; a single longer text still goes, alone); sorted, cut by
 * `cut`, and the piece holding the oldest text. Pure, for tests.
 */
export function nextBatch(
  waiting: readonly Waiting[],
  limits: { batchSize: number; maxBatchTokens: number },
  cut: (lengths: readonly number[]) => [number, number][] = (l) => [[0, l.length]],
): number[] {
  if (waiting.length === 0) return [];
  const anchor = waiting[0]!;
  const candidates = waiting
    .map((_, i) => i)
    .filter((i) => waiting[i]!.key === anchor.key)
    .sort(
      (a, b) =>
        Math.abs(waiting[a]!.length - anchor.length) - Math.abs(waiting[b]!.length - anchor.length) ||
        waiting[a]!.seq - waiting[b]!.seq,
    );
  const picked: number[] = [];
  let longest = 0;
  for (const i of candidates) {
    if (picked.length >= limits.batchSize) break;
    const l = Math.max(longest, waiting[i]!.length);
    if (picked.length > 0 && (picked.length + 1) * l > limits.maxBatchTokens) continue;
    picked.push(i);
    longest = l;
  }
  picked.sort((a, b) => waiting[b]!.length - waiting[a]!.length || waiting[a]!.seq - waiting[b]!.seq);
  const at = picked.indexOf(0);
  const piece = cut(picked.map((i) => waiting[i]!.length)).find(([from, to]) => from <= at && at < to);
  return piece ? picked.slice(piece[0], piece[1]) : picked;
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
      void this.execute(batch);
    }
  }

  private checkIdle(): void {
    if (this.running === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
  }

  /** Takes the next forward's texts out of the queue (`nextBatch`). */
  private take(): Item[] {
    const picked = nextBatch(
      this.queue.map((it) => ({ length: it.length, key: it.req.key, seq: it.seq })),
      this.options,
      this.options.cut,
    ).map((i) => this.queue[i]!);
    const taken = new Set(picked);
    this.queue = this.queue.filter((it) => !taken.has(it));
    return picked;
  }

  /**
   * Runs one forward (rows longest first, as `encode` orders them). As soon as the model is done, the next
   * forward is taken and started, before this one's answers are handed out: the model never waits for the
   * event loop to write responses. Never throws.
   */
  private async execute(items: Item[]): Promise<void> {
    // A request cancelled since its texts were queued costs nothing more.
    const rows = items.filter((it) => !it.req.done);
    let data: Float32Array | undefined;
    let failure: ApiError | undefined;
    const job =
      rows.length > 0
        ? padBatch(
            rows.map((it) => it.enc),
            rows.map((_, i) => i),
            this.options.padId,
          )
        : undefined;
    const start = now();
    if (job) {
      for (const it of rows) it.req.started ??= start;
      try {
        data = await this.executor.run(job, rows[0]!.req.settings);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        failure = new ApiError(500, `the model failed on a batch: ${msg}`, { teiType: 'Backend' });
      }
    }
    // A failed forward's requests end first, so that none of their other texts go into the next forward.
    if (failure) for (const it of rows) this.fail(it.req, failure);
    this.running--;
    this.pump();
    if (job && data) this.deliver(rows, job, data, now() - start, start);
    this.checkIdle();
  }

  private deliver(
    rows: Item[],
    job: { batch: number; length: number },
    data: Float32Array,
    seconds: number,
    start: number,
  ): void {
    this.rate = this.rate === 0 ? rows.length / seconds : 0.8 * this.rate + 0.2 * (rows.length / seconds);
    this.onBatch({
      texts: rows.length,
      tokens: rows.reduce((n, it) => n + it.length, 0),
      paddedTokens: job.batch * job.length,
      seconds,
      waits: rows.map((it) => start - it.req.submitted),
    });
    const per = data.length / job.batch;
    const end = now();
    rows.forEach((it, b) => {
      const req = it.req;
      if (req.done) return;
      const row = data.slice(b * per, (b + 1) * per);
      req.out[it.index] = req.settings.pooling === 'none' ? row.subarray(0, it.length * (per / job.length)) : row;
      if (--req.left === 0) {
        req.done = true;
        req.resolve({
          vectors: req.out,
          timings: { queue: req.started! - req.submitted, inference: end - req.started! },
        });
      }
    });
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
