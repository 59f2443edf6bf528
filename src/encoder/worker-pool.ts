// A pool of encoder worker threads. Batches queue up and go to whichever worker is free, so a slow
// (long) batch never holds back the others; each caller gets its own promise.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import type { BatchJob } from './batches.js';
import type { BatchSettings } from './run-batch.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker.js';

interface Pending {
  req: WorkerRequest;
  resolve(data: Float32Array): void;
  reject(e: Error): void;
}

/** The compiled worker script. Under vitest the sources are .ts, so use the build in dist/. */
function workerScript(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = fileURLToPath(new URL('../../dist/src/encoder/worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new InputError(`encoder worker script not found (${here}); run \`npm run build\` first`);
}

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<number, { worker: Worker; task: Pending }>();
  private nextId = 0;
  private closed = false;

  private constructor(private readonly workers: Worker[], readonly backend: string) {
    this.idle.push(...workers);
    for (const w of workers) {
      w.on('message', (msg: WorkerReply) => this.onReply(w, msg));
      w.on('error', (e) => this.onCrash(w, e));
    }
  }

  static async start(size: number, init: WorkerInit): Promise<WorkerPool> {
    const script = workerScript();
    const workers = Array.from({ length: size }, () => new Worker(script, { workerData: init }));
    try {
      const backends = await Promise.all(workers.map((w) => ready(w)));
      return new WorkerPool(workers, backends[0]!);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
  }

  get size(): number {
    return this.workers.length;
  }

  run(job: Omit<BatchJob, 'rows'>, settings: BatchSettings): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('encoder was disposed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, job, settings }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const task = this.queue.shift()!;
      this.running.set(task.req.id, { worker, task });
      // The job's arrays are copied, not transferred: callers may reuse them.
      worker.postMessage(task.req);
    }
  }

  private onReply(worker: Worker, msg: WorkerReply): void {
    if (msg.type === 'ready') return;
    const entry = this.running.get(msg.id);
    if (!entry) return;
    this.running.delete(msg.id);
    this.idle.push(worker);
    if (msg.type === 'result') entry.task.resolve(msg.data);
    else entry.task.reject(new InputError(msg.message));
    this.pump();
  }

  private onCrash(worker: Worker, e: Error): void {
    for (const [id, entry] of this.running) {
      if (entry.worker === worker) {
        this.running.delete(id);
        entry.task.reject(new Error(`encoder worker crashed: ${e.message}`));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('encoder was disposed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function ready(w: Worker): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMsg = (msg: WorkerReply) => {
      if (msg.type === 'ready') resolve(msg.backend);
      else if (msg.type === 'error' && msg.id === -1) reject(new InputError(`encoder worker failed to start: ${msg.message}`));
      else return;
      w.off('message', onMsg);
    };
    w.on('message', onMsg);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`encoder worker exited with code ${code} before it was ready`)));
  });
}
