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
 * What one more forward costs, per backend, in the terms of `splitByLength` (default: tfjs-wasm's). On
 * tensorflow each op is a call into libtensorflow, and oneDNN builds its kernels per matmul shape on first use,
 * so a forward costs more there, and more, smaller pieces lose (docs/tensorflow.md).
 */
const CHUNK_COST: Readonly<Record<string, ChunkCost>> = { tensorflow: { overheadTokens: 35, minTokens: 128 } };

/** How `encodeJobs` cuts batches on `backend`, in a few words (backends with the same words get the same batches). */
export function batchingOf(backend: string): string {
  if (GPU_BACKENDS.has(backend)) return 'whole batches';
  return CHUNK_COST[backend] ? `${backend} cuts` : 'cpu cuts';
}

/**
 * The forwards `backend` runs for one batch whose rows are sorted longest first: [from, to) ranges over them.
 * A GPU runs the whole batch; a CPU backend cuts it by `cpuChunks` with its own forward cost. The one rule
 * for `encode` and the server's batcher, so a deep server queue batches as `encode` does.
 */
export function cutBatch(
  lengths: readonly number[],
  backend: string,
  maxTokens: number = MAX_FORWARD_TOKENS,
): [number, number][] {
  if (lengths.length === 0) return [];
  if (GPU_BACKENDS.has(backend)) return [[0, lengths.length]];
  return cpuChunks(lengths, maxTokens, CHUNK_COST[backend]);
}

/**
 * The padded batches SentenceEncoder runs for `encodings` on `backend`: sorted by length into batches of
 * `batchSize`, each cut for a CPU backend by `cpuChunks` (GPUs prefer the whole batch).
 */
export function encodeJobs(
  encodings: readonly Encoding[],
  batchSize: number,
  padId: number,
  backend: string,
): BatchJob[] {
  return planBatches(encodings, batchSize).flatMap((rows) => {
    const lengths = rows.map((r) => encodings[r]!.inputIds.length);
    return cutBatch(lengths, backend).map(([from, to]) => padBatch(encodings, rows.slice(from, to), padId));
  });
}
