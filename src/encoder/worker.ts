// A worker thread of the encoding pool: its own tfjs backend and BertModel over the shared weights.
import { parentPort, workerData } from 'node:worker_threads';
import { activeBlas } from '../backend/blas/index.js';
import { type BackendName, setupBackend } from '../backend/index.js';
import { preferLinearWeightsOutIn } from '../backend/kernels.js';
import type { BertConfig } from '../loader/config.js';
import { BertModel } from '../model/bert.js';
import type { BatchJob } from './batches.js';
import { type BatchSettings, runBatch } from './run-batch.js';
import { type SharedWeights, unshareWeights } from './shared-weights.js';

export interface WorkerInit {
  backend: BackendName;
  /** BLAS threads (wasm with a BLAS): the pool's share of the cores. The setting is process-wide. */
  blasThreads: number;
  config: BertConfig;
  weights: SharedWeights;
  source: string;
}
export type WorkerRequest = { id: number; job: Omit<BatchJob, 'rows'>; settings: BatchSettings };
export type WorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'result'; id: number; data: Float32Array /** Seconds the forward took in the worker. */; seconds: number }
  | { type: 'error'; id: number; message: string };

const port = parentPort;
if (!port) throw new Error('encoder worker must run in a worker thread');

const init = workerData as WorkerInit;
const send = (msg: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
const fail = (id: number, e: unknown) =>
  send({ type: 'error', id, message: e instanceof Error ? e.message : String(e) });

try {
  const choice = await setupBackend(init.backend);
  activeBlas()?.setThreads(init.blasThreads);
  // Forwards side by side: HF's [out, in] weights run as fast there and load without a transpose (tensorflow).
  preferLinearWeightsOutIn(true);
  const model = BertModel.load(init.config, unshareWeights(init.weights, init.source));
  port.on('message', (req: WorkerRequest) => {
    // Only batch requests; anything else posted to the thread is not ours to answer.
    if (typeof req?.id !== 'number' || typeof req.job !== 'object' || req.job === null) return;
    const start = performance.now();
    runBatch(model, req.job, req.settings).then(
      (data) =>
        send({ type: 'result', id: req.id, data, seconds: (performance.now() - start) / 1000 }, [
          data.buffer as ArrayBuffer,
        ]),
      (e) => fail(req.id, e),
    );
  });
  send({ type: 'ready', backend: choice.name });
} catch (e) {
  fail(-1, e);
}
