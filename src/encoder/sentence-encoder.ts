// SentenceEncoder: sentence-transformers' encode() on our engine. Text → tokenizer → length-sorted padded
// batches → BertModel (in process, or on a pool of worker threads) → pooling → vectors in input order.
import { availableParallelism } from 'node:os';
import { blasThreadsPerWorker, wasmBlasActive } from '../backend/blas/index.js';
import {
  type BackendChoice,
  type BackendName,
  setupBackend,
  tensorflowOnCpu,
  tensorflowWorkersSafe,
} from '../backend/index.js';
import { InputError, UsageError } from '../errors.js';
import { firstNonFinite } from '../loader/finite.js';
import { DEFAULT_MODEL_ID } from '../hub/paths.js';
import { type DownloadEvents, ensureModel } from '../hub/ensure.js';
import type { LoadedModel } from '../loader/index.js';
import * as tf from '@tensorflow/tfjs-core';
import { type BertInputs, BertModel } from '../model/bert.js';
import { POOLING_MODES, type PoolingMode } from '../model/pooling.js';
import { maxTokens } from '../loader/config.js';
import { type Encoding, loneSurrogateAt, type Tokenizer } from '../tokenizer/index.js';
import {
  type BatchJob,
  encodeJobs,
  GPU_BACKENDS,
  MAX_FORWARD_TOKENS,
  padBatch,
  WASM_BLAS_BATCHING,
} from './batches.js';
import { loadModelAndTokenizer } from './load.js';
import { type BatchSettings, runBatch } from './run-batch.js';
import { shareWeights } from './shared-weights.js';
import { gpuBatchesInFlight } from './in-flight.js';
import { checkWorkers } from './max-workers.js';
import { WorkerPool } from './worker-pool.js';

export interface EncoderLoadOptions {
  /** tfjs backend; `auto` picks tensorflow → webgpu → wasm → cpu, whichever is present. */
  backend?: BackendName;
  /**
   * Worker threads for large encodes; default: one per core on wasm (without a BLAS) and cpu when a call has ≥ 256
   * sentences, and on tensorflow (CPU) when it has ≥ 1 024; else 1 (a BLAS under wasm uses every core in one
   * process; webgpu and tfjs-node-gpu compute on the GPU). Given (> 1), the pool starts in `load`, so that load
   * includes its start-up; by default it starts on the first call that uses it.
   */
  workers?: number;
  /** Truncate longer inputs to this many tokens (default: the model's `max_seq_length`). */
  maxSeqLength?: number;
  /** Hub revision when `idOrDir` must be downloaded. */
  revision?: string;
  /** Called while a hub id is downloaded on first use (the library itself prints nothing). */
  onDownload?: DownloadEvents;
  /** @deprecated The library prints nothing anyway; kept so existing callers compile. */
  quiet?: boolean;
  /**
   * Load weights holding NaN or ±Inf (refused by default, naming the tensor). Outputs stay guarded: an
   * encode whose result is not finite is an error, never a NaN in a vector.
   */
  allowNonFinite?: boolean;
}

export interface EncodeOptions {
  batchSize?: number;
  /** L2-normalise the pooled vectors (default: the model's `Normalize` module, else false). */
  normalize?: boolean;
  /** Overrides the model's pooling (`1_Pooling/config.json`, else mean). */
  pooling?: PoolingMode;
  /** Called after each batch with the number of sentences done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** Re-exported for the server, which sizes batches as the encoder does. */
export { GPU_BACKENDS, MAX_FORWARD_TOKENS };

/** Sentences per call below which a worker pool does not pay for its start-up. */
export const POOL_THRESHOLD = 256;
/**
 * The same on tensorflow, whose one process already uses every core: a pool there takes 9–17 % less time a pass
 * once started, and its start (≈ 1.3 s on 2 cores, less the 0.55 s of the in-process upload it saves) pays from
 * ≈ 450–750 sentences on; 1 024 keeps a margin (docs/tensorflow.md#a-pool-of-workers).
 */
export const TENSORFLOW_POOL_THRESHOLD = 1024;

/**
 * Worker threads for a call of `sentences` sentences when `workers` was not set: one per core where the kernels
 * run on one core per process (cpu; wasm without a BLAS) from POOL_THRESHOLD sentences, and on tensorflow's CPU
 * build from TENSORFLOW_POOL_THRESHOLD when its addon is ours (tensorflowWorkersSafe): its intra-op threads idle
 * while a forward's serial parts run (op dispatch, small ops, JavaScript), and two forwards side by side fill them.
 * A BLAS under wasm already uses every core, and webgpu and tfjs-node-gpu compute on the GPU: in process.
 */
export function defaultWorkers(backend: string, sentences: number): number {
  const cores = availableParallelism();
  const oneCore = backend === 'cpu' || (backend === 'wasm' && !wasmBlasActive());
  if (oneCore && sentences >= POOL_THRESHOLD) return cores;
  const tensorflowPool = backend === 'tensorflow' && tensorflowOnCpu() && tensorflowWorkersSafe();
  if (tensorflowPool && cores > 1 && sentences >= TENSORFLOW_POOL_THRESHOLD) return cores;
  return 1;
}

/**
 * The batching key `backend` cuts batches by in this process (cutBatch, encodeJobs, batchingOf): its name, or
 * WASM_BLAS_BATCHING for the wasm backend while its matmuls run on a BLAS (a forward is priced apart there).
 */
export function batchingKey(backend: string): string {
  return backend === 'wasm' && wasmBlasActive() ? WASM_BLAS_BATCHING : backend;
}

export class SentenceEncoder {
  private local?: BertModel;
  private pool?: Promise<WorkerPool>;
  private disposed = false;

  private constructor(
    readonly loaded: LoadedModel,
    readonly tokenizer: Tokenizer,
    readonly backend: BackendChoice,
    readonly maxSeqLength: number,
    private readonly workers: number | undefined,
  ) {}

  /** A model folder or hub id (looked up under `weights/<id>/`, downloaded when missing). */
  static async load(idOrDir: string = DEFAULT_MODEL_ID, opts: EncoderLoadOptions = {}): Promise<SentenceEncoder> {
    if (opts.workers !== undefined) checkWorkers(opts.workers, 1);
    const dir = await ensureModel(idOrDir, { revision: opts.revision, ...opts.onDownload });
    const { loaded, tokenizer } = loadModelAndTokenizer(dir, { allowNonFinite: opts.allowNonFinite });
    const backend = await setupBackend(opts.backend ?? 'auto');
    const room = maxTokens(loaded.config); // RoBERTa: max_position_embeddings less the padding offset
    const maxSeqLength = opts.maxSeqLength ?? loaded.maxSeqLength ?? Math.min(room, tokenizer.modelMaxLength);
    if (!(Number.isInteger(maxSeqLength) && maxSeqLength >= 2 && maxSeqLength <= room)) {
      throw new UsageError(`max sequence length must be an integer in [2, ${room}], got ${maxSeqLength}`);
    }
    const enc = new SentenceEncoder(loaded, tokenizer, backend, maxSeqLength, opts.workers);
    // Workers asked for: started here (every call will use them), so that a failure to start is load's.
    if (opts.workers !== undefined && opts.workers > 1) {
      try {
        await enc.startPool(opts.workers);
      } catch (e) {
        await enc.dispose();
        throw e;
      }
    }
    return enc;
  }

  /**
   * The batching key this encoder's batches are cut by (batchingKey of its backend): what the server's batcher
   * and the benchmarks that run an anchor on our batches pass to cutBatch / encodeJobs.
   */
  get batching(): string {
    return batchingKey(this.backend.name);
  }

  get dimension(): number {
    return this.loaded.config.hiddenSize;
  }

  get pooling(): PoolingMode {
    return this.loaded.pooling?.mode ?? 'mean';
  }

  /** One vector per sentence, in input order. */
  async encode(sentences: readonly string[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    const pooling = opts.pooling ?? this.pooling;
    if (!POOLING_MODES.includes(pooling))
      throw new UsageError(`unknown pooling "${pooling}" (choose from ${POOLING_MODES.join(', ')})`);
    return this.run(sentences, { pooling, normalize: opts.normalize ?? this.loaded.normalize ?? false }, opts);
  }

  /** The last hidden state of each sentence's tokens ([CLS] … [SEP], unpadded): one [tokens, hidden] array per sentence. */
  async encodeTokens(
    sentences: readonly string[],
    opts: Omit<EncodeOptions, 'pooling' | 'normalize'> = {},
  ): Promise<Float32Array[][]> {
    const flat = await this.run(sentences, { pooling: 'none', normalize: false }, opts);
    const H = this.dimension;
    return flat.map((rows) => Array.from({ length: rows.length / H }, (_, t) => rows.subarray(t * H, (t + 1) * H)));
  }

  /**
   * Each sentence's token ids, as the model's tokenizer gives them. Throws `InputError` for a string holding a lone
   * surrogate (`'\ud800'`): no Unicode character, which HF's tokenizers refuse (Python cannot encode it to UTF-8)
   * and which would otherwise be dropped silently, as the CLI and the server refuse it.
   */
  tokenize(sentences: readonly string[]): Encoding[] {
    return sentences.map((s, i) => {
      if (typeof s !== 'string') throw new UsageError(`sentences must be strings, got ${typeof s}`);
      const at = loneSurrogateAt(s);
      if (at >= 0)
        throw new InputError(
          `sentence ${i + 1} holds a lone surrogate \\u${s.charCodeAt(at).toString(16)} at character ${at + 1}, which is not a Unicode character`,
        );
      return this.tokenizer.encode(s, { maxLength: this.maxSeqLength });
    });
  }

  private async run(
    sentences: readonly string[],
    settings: BatchSettings,
    opts: EncodeOptions,
  ): Promise<Float32Array[]> {
    if (this.disposed) throw new UsageError('this SentenceEncoder was disposed');
    const batchSize = opts.batchSize ?? 32;
    if (!(Number.isInteger(batchSize) && batchSize >= 1))
      throw new UsageError(`batchSize must be a positive integer, got ${batchSize}`);
    const encodings = this.tokenize(sentences);
    const jobs = encodeJobs(encodings, batchSize, this.tokenizer.padId, this.batching);
    const out = new Array<Float32Array>(sentences.length);
    let done = 0;
    const place = (job: BatchJob, data: Float32Array) => {
      // The last line of defence: never hand out a NaN or an infinity (JSON cannot even hold one).
      const bad = firstNonFinite(data);
      if (bad >= 0) {
        const row = job.rows[Math.floor(bad / (data.length / job.batch))]!;
        throw new InputError(
          `the model's output for sentence ${row + 1} is not finite (${data[bad]}): its weights overflow or hold NaN/Inf`,
          this.loaded.weightsFile,
        );
      }
      const per = data.length / job.batch;
      job.rows.forEach((r, b) => {
        const row = data.slice(b * per, (b + 1) * per);
        // Token-level output: keep only the sentence's own tokens.
        out[r] = settings.pooling === 'none' ? row.subarray(0, encodings[r]!.inputIds.length * this.dimension) : row;
      });
      done += job.batch;
      opts.onProgress?.(done, sentences.length);
    };
    const workers = this.workers ?? defaultWorkers(this.backend.name, sentences.length);
    if (workers > 1) {
      const pool = await this.startPool(workers);
      await Promise.all(jobs.map(async (job) => place(job, await pool.run(job, settings))));
    } else {
      const model = this.model;
      // A GPU overlaps: queue a few batches before waiting for the first one's result (on CPU backends
      // the forward computes while it is queued, so one at a time loses nothing).
      const window = GPU_BACKENDS.has(this.backend.name) ? gpuBatchesInFlight() : 1;
      const inflight: Promise<void>[] = [];
      for (const job of jobs) {
        const p = runBatch(model, job, settings).then((data) => place(job, data));
        p.catch(() => {}); // awaited below; this only keeps an early failure from being reported as unhandled
        inflight.push(p);
        if (inflight.length >= window) await inflight.shift();
      }
      await Promise.all(inflight);
    }
    return out;
  }

  /** The BertModel in this thread (uploaded on first use), for hooks, caches and patching. */
  get model(): BertModel {
    if (this.disposed) throw new UsageError('this SentenceEncoder was disposed');
    this.local ??= BertModel.load(this.loaded.config, this.loaded.weights);
    return this.local;
  }

  /** Padded int32 model inputs for `sentences` (in order; the caller disposes them). */
  inputs(sentences: readonly string[]): BertInputs {
    const encodings = this.tokenize(sentences);
    const job = padBatch(
      encodings,
      encodings.map((_, i) => i),
      this.tokenizer.padId,
    );
    const shape: [number, number] = [job.batch, job.length];
    return {
      inputIds: tf.tensor2d(job.ids, shape, 'int32'),
      attentionMask: tf.tensor2d(job.mask, shape, 'int32'),
      tokenTypeIds: tf.tensor2d(job.types, shape, 'int32'),
    };
  }

  private startPool(size: number): Promise<WorkerPool> {
    if (this.pool) return this.pool;
    const started = WorkerPool.start(size, {
      backend: this.backend.name as BackendName,
      blasThreads: blasThreadsPerWorker(size),
      config: this.loaded.config,
      weights: shareWeights(this.loaded.weights),
      source: this.loaded.weightsFile,
    });
    this.pool = started;
    // A pool that failed to start is forgotten: the next call tries again, and dispose does not rethrow.
    started.catch(() => {
      if (this.pool === started) this.pool = undefined;
    });
    return started;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.local?.dispose();
    this.local = undefined;
    const pool = this.pool;
    this.pool = undefined;
    if (pool)
      await pool.then(
        (p) => p.close(),
        () => {},
      ); // a start that failed was reported to its caller
  }
}
