// Where the server's batches run: on worker threads (the default on CPU backends, so that a forward of
// several seconds never blocks the event loop that answers probes, new requests and disconnects), or in the
// server's own thread (what a GPU wants: its work is asynchronous, and a few batches can be queued at once).
import type { BackendName } from '../backend/index.js';
import type { BatchJob } from '../encoder/batches.js';
import { type BatchSettings, runBatch } from '../encoder/run-batch.js';
import { GPU_BACKENDS, type SentenceEncoder } from '../encoder/sentence-encoder.js';
import { shareWeights } from '../encoder/shared-weights.js';
import { WorkerPool } from '../encoder/worker-pool.js';
import { blasThreadsPerWorker } from '../backend/blas/index.js';

export interface Executor {
  /** Batches that may run at once (a worker each; or batches queued on a GPU). */
  readonly slots: number;
  /** Where the model runs, for logs: `in-process` or `N worker threads`. */
  readonly where: string;
  /** One padded batch → [batch, hidden] pooled vectors (or [batch, length, hidden] with pooling `none`). */
  run(job: Omit<BatchJob, 'rows'>, settings: BatchSettings): Promise<Float32Array>;
  /** Seconds spent computing forwards so far (in the worker threads, or here): the model's busy time. */
  computeSeconds(): number;
  close(): Promise<void>;
}

/** In the calling thread, on the encoder's model. */
export function inProcessExecutor(encoder: SentenceEncoder): Executor {
  const model = encoder.model;
  let compute = 0;
  return {
    slots: GPU_BACKENDS.has(encoder.backend.name) ? 4 : 1,
    where: 'in-process',
    run: async (job, settings) => {
      const start = performance.now();
      try {
        return await runBatch(model, job, settings);
      } finally {
        compute += (performance.now() - start) / 1000;
      }
    },
    computeSeconds: () => compute,
    close: async () => {},
  };
}

/** On `size` worker threads over one shared copy of the weights (the encoder's own pool machinery). */
export async function workerExecutor(encoder: SentenceEncoder, size: number): Promise<Executor> {
  const pool = await WorkerPool.start(size, {
    backend: encoder.backend.name as BackendName,
    blasThreads: blasThreadsPerWorker(size),
    config: encoder.loaded.config,
    weights: shareWeights(encoder.loaded.weights),
    source: encoder.loaded.weightsFile,
  });
  return {
    slots: size,
    where: `${size} worker thread${size === 1 ? '' : 's'}`,
    run: (job, settings) => pool.run(job, settings),
    computeSeconds: () => pool.computeSeconds,
    close: () => pool.close(),
  };
}

/** `workers` 0 → in-process; otherwise that many threads. Default: in-process on a GPU, one thread elsewhere. */
export function defaultWorkers(backend: string): number {
  return GPU_BACKENDS.has(backend) ? 0 : 1;
}

export function startExecutor(encoder: SentenceEncoder, workers: number): Promise<Executor> {
  return workers === 0 ? Promise.resolve(inProcessExecutor(encoder)) : workerExecutor(encoder, workers);
}
