// A pool of encoder worker threads. Batches queue up and go to whichever worker is free, so a slow
// (long) batch never holds back the others; each caller gets its own promise.
// A worker can die at any time (terminated, process.exit in it, out of memory): the batch it was running is
// rejected at once with a clear error, and the worker is replaced (or, if its replacement cannot start, dropped),
// so no call ever waits on a thread that is gone.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { tensorflowWorkersSafe } from '../backend/index.js';
import { InputError, UsageError } from '../errors.js';
import type { BatchJob } from './batches.js';
import type { BatchSettings } from './run-batch.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker.js';

interface Pending {
  req: WorkerRequest;
  resolve(data: Float32Array): void;
  reject(e: Error): void;
}

/** A worker thread died (or failed to start): the batches it had are lost, the pool carries on. */
export class WorkerDiedError extends Error {
  override name = 'WorkerDiedError';
}

export interface PoolOptions {
  /** The worker script (default: the compiled `worker.js`); tests pass a wrapper that injects faults. */
  script?: string;
  /** V8 heap limits per worker (an out-of-memory worker then dies alone instead of the process). */
  resourceLimits?: ResourceLimits;
}

/** The compiled worker script. Under vitest the sources are .ts, so use the build in dist/. */
function workerScript(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = fileURLToPath(new URL('../../dist/src/encoder/worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new InputError(`encoder worker script not found (${here}); run \`npm run build\` first`);
}

/** Why a worker ended, for messages: its error, or its exit code. */
function deathReason(error: Error | undefined, code: number | undefined): string {
  if (error) {
    const oom = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
    return oom ? 'it ran out of memory' : `it threw ${error.message.split('\n')[0]}`;
  }
  return code === undefined ? 'it stopped' : `it exited with code ${code}`;
}

export class WorkerPool {
  private readonly live = new Set<Worker>();
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  /** Replacements being started. */
  private starting = 0;
  private nextId = 0;
  private closed = false;
  /**
   * Deaths since a batch last succeeded: past one per worker, no more replacements, so that workers dying on
   * every batch cannot respawn forever (one round of restarts, then the calls fail), while sporadic deaths over
   * a long life, between successful batches, are always replaced.
   */
  private deathsSinceSuccess = 0;
  private compute = 0;

  private constructor(
    workers: Worker[],
    readonly backend: string,
    private readonly size0: number,
    private readonly init: WorkerInit,
    private readonly script: string,
    private readonly opts: PoolOptions,
  ) {
    for (const w of workers) this.adopt(w);
  }

  static async start(size: number, init: WorkerInit, opts: PoolOptions = {}): Promise<WorkerPool> {
    // tfjs-node's own addon crashes when two threads run ops at once (docs/tensorflow.md); ours has a lock.
    if (init.backend === 'tensorflow' && size > 1 && !tensorflowWorkersSafe())
      throw new UsageError(
        `backend tensorflow: ${size} worker threads need tfjs-node's addon as npm run build:tensorflow builds it ` +
          '(this one lacks the lock that keeps threads running ops at once from crashing it); use 1 worker',
      );
    const script = opts.script ?? workerScript();
    const workers = Array.from({ length: size }, () => spawn(script, init, opts));
    try {
      const backends = await Promise.all(workers.map((w) => ready(w)));
      return new WorkerPool(workers, backends[0]!, size, init, script, opts);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
  }

  /** Live workers. */
  get size(): number {
    return this.live.size;
  }

  /** Seconds the workers spent in forwards that succeeded, all workers together (the rest of their time they idled). */
  get computeSeconds(): number {
    return this.compute;
  }

  /** The live worker threads (for diagnostics and fault-injection tests). */
  get threads(): readonly Worker[] {
    return [...this.live];
  }

  run(job: Omit<BatchJob, 'rows'>, settings: BatchSettings): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('encoder was disposed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, job, settings }, resolve, reject });
      this.pump();
    });
  }

  /** Listens to a started worker: replies, and its death however it comes. */
  private adopt(w: Worker): void {
    this.live.add(w);
    this.idle.push(w);
    let error: Error | undefined;
    w.on('message', (msg: WorkerReply) => this.onReply(w, msg));
    w.on('error', (e) => {
      error = e;
      this.onDeath(w, deathReason(e, undefined));
    });
    w.on('messageerror', (e) => this.onDeath(w, `a message could not be read (${e.message})`));
    w.on('exit', (code) => this.onDeath(w, deathReason(error, code)));
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const task = this.queue.shift()!;
      this.running.set(worker, task);
      // The job's arrays are copied, not transferred: callers may reuse them.
      worker.postMessage(task.req);
    }
    // No worker left and none coming: nothing queued can ever run.
    if (this.live.size === 0 && this.starting === 0) {
      for (const t of this.queue.splice(0))
        t.reject(new WorkerDiedError('every encoder worker has died; no worker is left to run the batch'));
    }
  }

  private onReply(worker: Worker, msg: WorkerReply): void {
    if (msg.type === 'ready') return;
    const task = this.running.get(worker);
    if (!task || task.req.id !== msg.id) return;
    this.running.delete(worker);
    if (this.live.has(worker)) this.idle.push(worker);
    if (msg.type === 'result') {
      this.deathsSinceSuccess = 0;
      this.compute += msg.seconds;
      task.resolve(msg.data);
    } else task.reject(new InputError(msg.message));
    this.pump();
  }

  /** Called once or more per death ('error' then 'exit'): the first call does the work. */
  private onDeath(worker: Worker, why: string): void {
    if (!this.live.delete(worker)) return;
    const at = this.idle.indexOf(worker);
    if (at >= 0) this.idle.splice(at, 1);
    const task = this.running.get(worker);
    this.running.delete(worker);
    void worker.terminate();
    if (task) task.reject(new WorkerDiedError(`an encoder worker died while encoding a batch (${why})`));
    if (!this.closed && ++this.deathsSinceSuccess <= this.size0) this.replace();
    this.pump();
  }

  /** Starts a worker in place of a dead one; if it cannot start, the pool goes on with fewer. */
  private replace(): void {
    this.starting++;
    const w = spawn(this.script, this.init, this.opts);
    ready(w).then(
      () => {
        this.starting--;
        if (this.closed) void w.terminate();
        else this.adopt(w);
        this.pump();
      },
      () => {
        this.starting--;
        void w.terminate();
        this.pump();
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('encoder was disposed'));
    for (const t of this.running.values()) t.reject(new Error('encoder was disposed'));
    this.running.clear();
    const all = [...this.live];
    this.live.clear();
    this.idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }
}

function spawn(script: string, init: WorkerInit, opts: PoolOptions): Worker {
  return new Worker(script, {
    workerData: init,
    ...(opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}),
  });
}

function ready(w: Worker): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = () => {
      w.off('message', onMsg);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    const onMsg = (msg: WorkerReply) => {
      if (msg.type === 'ready') resolve(msg.backend);
      else if (msg.type === 'error' && msg.id === -1)
        reject(new InputError(`encoder worker failed to start: ${msg.message}`));
      else return;
      done();
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    const onExit = (code: number) => {
      done();
      reject(new WorkerDiedError(`encoder worker exited with code ${code} before it was ready`));
    };
    w.on('message', onMsg);
    w.on('error', onError);
    w.on('exit', onExit);
  });
}
