// Length-sorted batching, as sentence-transformers' encode() does: long sentences together, short ones
// together, so little compute goes to padding; results are put back in input order by the caller.
import { type ChunkCost, splitByLength } from '../model/batching.js';
import type { Encoding } from '../tokenizer/index.js';

/** Padded tokens per forward on CPU backends (16 × 512; BERT-base then peaks near 1.5 GiB of wasm heap). */
export const MAX_FORWARD_TOKENS = 8192;

/** One padded batch, flattened row-major [batch, length], ready for the model (or a worker). */
export interface BatchJob {
  ids: Int32Array;
  mask: Int32Array;
  types: Int32Array;
  batch: number;
  length: number;
  /** Input positions of the rows. */
  rows: number[];
}

/** Indices of `encodings` in batches of `batchSize`, longest first. */
export function planBatches(encodings: readonly Encoding[], batchSize: number): number[][] {
  const order = encodings
    .map((_, i) => i)
    .sort((a, b) => encodings[b]!.inputIds.length - encodings[a]!.inputIds.length || a - b);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}

/** Pads the rows to the longest one (pad id, mask 0, type 0). */
export function padBatch(encodings: readonly Encoding[], rows: number[], padId: number): BatchJob {
  const length = Math.max(...rows.map((r) => encodings[r]!.inputIds.length));
  const n = rows.length * length;
  const ids = new Int32Array(n).fill(padId);
  const mask = new Int32Array(n);
  const types = new Int32Array(n);
  rows.forEach((r, b) => {
    const e = encodings[r]!;
    ids.set(e.inputIds, b * length);
    mask.set(e.attentionMask, b * length);
    types.set(e.tokenTypeIds, b * length);
  });
  return { ids, mask, types, batch: rows.length, length, rows };
}

/**
 * A sorted batch (lengths longest first) cut for a CPU backend: where padding would cost more than another
 * forward (`splitByLength`, with the backend's `cost`), and so that no piece is over `maxTokens` padded tokens
 * (long texts in large batches would otherwise outgrow wasm32's 4 GiB heap). [from, to) ranges over the rows.
 */
export function cpuChunks(lengths: readonly number[], maxTokens: number, cost?: ChunkCost): [number, number][] {
  return splitByLength(lengths, cost).flatMap(([from, to]) => {
    const step = Math.max(1, Math.floor(maxTokens / lengths[from]!));
    const out: [number, number][] = [];
    for (let i = from; i < to; i += step) out.push([i, Math.min(i + step, to)]);
    return out;
  });
}

/** Backends that run the forward on a GPU; the rest (wasm, cpu, tensorflow) compute on the CPU. */
export const GPU_BACKENDS: ReadonlySet<string> = new Set(['webgpu']);
/**
 * The batching key of the wasm backend while its matmuls run on a system BLAS (src/backend/blas): a forward is
 * priced apart from tfjs-wasm's XNNPACK there. Not a backend name: `SentenceEncoder.batching` says which applies.
 */
export const WASM_BLAS_BATCHING = 'wasm+blas';

/**
 * What one more forward costs, per batching key (a backend's name, or WASM_BLAS_BATCHING), in the terms of
 * `splitByLength` (default: tfjs-wasm's). On tensorflow each op is a call into libtensorflow, and oneDNN builds its
 * kernels per matmul shape on first use, so a forward costs more there, and more, smaller pieces lose
 * (docs/tensorflow.md). On wasm + BLAS a forward's fixed part (the weights streamed through the sgemm once per
 * forward, the kernels run on one wasm thread) is worth ≈ 53–75 tokens, and the BLAS's threads divide pieces of
 * under ≈ 128 rows poorly (docs/blas.md, docs/serve.md).
 */
const CHUNK_COST: Readonly<Record<string, ChunkCost>> = {
  tensorflow: { overheadTokens: 35, minTokens: 128 },
  [WASM_BLAS_BATCHING]: { overheadTokens: 64, minTokens: 128 },
};

/**
 * How `encodeJobs` cuts batches for `key` (a backend's name, or WASM_BLAS_BATCHING), in a few words (keys with the
 * same words get the same batches).
 */
export function batchingOf(key: string): string {
  if (GPU_BACKENDS.has(key)) return 'whole batches';
  return CHUNK_COST[key] ? `${key} cuts` : 'cpu cuts';
}

/**
 * The forwards run for one batch whose rows are sorted longest first, by batching key `key` (the backend's name,
 * or WASM_BLAS_BATCHING: what `SentenceEncoder.batching` says): [from, to) ranges over the rows. A GPU runs the
 * whole batch; a CPU backend cuts it by `cpuChunks` with its own forward cost. The one rule for `encode` and the
 * server's batcher, so a deep server queue batches as `encode` does.
 */
export function cutBatch(
  lengths: readonly number[],
  key: string,
  maxTokens: number = MAX_FORWARD_TOKENS,
): [number, number][] {
  if (lengths.length === 0) return [];
  if (GPU_BACKENDS.has(key)) return [[0, lengths.length]];
  return cpuChunks(lengths, maxTokens, CHUNK_COST[key]);
}

/**
 * The padded batches SentenceEncoder runs for `encodings` under batching key `key` (see cutBatch): sorted by
 * length into batches of `batchSize`, each cut for a CPU backend by `cpuChunks` (GPUs prefer the whole batch).
 */
export function encodeJobs(encodings: readonly Encoding[], batchSize: number, padId: number, key: string): BatchJob[] {
  return planBatches(encodings, batchSize).flatMap((rows) => {
    const lengths = rows.map((r) => encodings[r]!.inputIds.length);
    return cutBatch(lengths, key).map(([from, to]) => padBatch(encodings, rows.slice(from, to), padId));
  });
}
