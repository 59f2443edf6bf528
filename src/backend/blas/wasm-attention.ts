// Scaled dot-product attention as one kernel for the wasm backend on a BLAS, where nothing needs the scores or
// probabilities. tfjs runs it as nine kernels a layer: three head transposes ([B, L, h, d] → [B, h, L, d]), Q·Kᵀ
// (one sgemm per head), the scale, the mask, softmax, P·V, the transpose back; on one wasm thread all but the
// products, and with [B, h, L, L] scores and probabilities written out and read back. Here each head's products
// read Q, K, V where the projections left them ([B·L, h·d]: a head is a strided matrix, leading dimension h·d)
// and P·V is written straight into [B·L, h·d]; between them one head's [L, L] scores stay in a scratch block
// while our SIMD softmax (kernels.wat) adds the mask and normalises them. HF's eager attention, op for op:
// scores = Q·Kᵀ · d^-½ (the scale as sgemm's alpha: one float32 multiply of each dot product, as tf.mul does)
// + the additive mask, softmax over keys, · V.
import { isMainThread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { Cblas } from './cblas.js';
import { activeBlas, countBlasCall } from './state.js';
import { heapOffset, heapView, type KernelArgs, type WasmBackend } from './wasm-heap.js';
import { type SimdKernels, simdKernels } from './wasm-simd.js';

export const BLAS_ATTENTION_KERNEL = 'SbertBlasAttention';

/**
 * softmax(s + mask) in place over each of `rows` rows of `n` floats (row stride `stride`), as the SIMD kernel
 * computes it, in JavaScript: where our wasm module cannot be used (a shared wasm memory), and as its reference.
 * `mask` has `n` floats (added to every row).
 */
export function softmaxRows(s: Float32Array, mask: Float32Array, rows: number, n: number, stride: number): void {
  for (let r = 0; r < rows; r++) {
    const row = s.subarray(r * stride, r * stride + n);
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      row[j] = row[j]! + mask[j]!;
      max = Math.max(max, row[j]!);
    }
    let sum = 0;
    for (let j = 0; j < n; j++) {
      row[j] = Math.exp(row[j]! - max);
      sum = Math.fround(sum + row[j]!);
    }
    const inv = Math.fround(1 / sum);
    for (let j = 0; j < n; j++) row[j] = row[j]! * inv;
  }
}

/**
 * Whether attention runs as our kernel: the wasm backend on a BLAS, and no gradient recorded (the kernel has
 * none; tf.grad gets tfjs's ops).
 */
export function blasAttentionApplies(): boolean {
  return activeBlas() !== undefined && tf.getBackend() === 'wasm' && tf.engine().state.gradientDepth === 0;
}

/** The attention's shape: B sequences of L tokens, `heads` heads of d; the scores' rows are `stride` floats. */
export interface AttentionDims {
  B: number;
  L: number;
  heads: number;
  d: number;
  stride: number;
}

/**
 * One head's scores at a time: `S` [L, stride] (columns past L zero) and `maskRow` [stride] (−∞ past L), and for
 * the SIMD softmax their byte offsets on the wasm heap (without it, softmaxRows on the arrays).
 */
export interface AttentionScratch {
  S: Float32Array;
  maskRow: Float32Array;
  simd?: { kernels: SimdKernels; sAt: number; maskAt: number };
}

/**
 * z = softmax(Q·Kᵀ · scale + mask) · V for every sequence and head, on `lib`. Q, K, V, Z: [B·L, heads·d] (a head is
 * the strided matrix of its d columns); mask: additive [B, L]. Each product is small (L × d × L), so the BLAS runs
 * them on one thread: waking a second one for each costs more than it saves (on oneDNN's two threads the heads
 * took 1.5–2× as long, docs/blas.md); its thread count is put back after. Worker threads leave it as it is.
 */
export function attendHeads(
  lib: Cblas,
  t: Record<'Q' | 'K' | 'V' | 'Z' | 'mask', Float32Array>,
  scratch: AttentionScratch,
  dims: AttentionDims,
  scale: number,
  keep?: { scores: Float32Array; probs: Float32Array },
): void {
  const { B, L, heads, d, stride } = dims;
  const H = heads * d;
  const { S, maskRow, simd } = scratch;
  // Only on the main thread: OpenMP keeps its thread count and thread team per calling thread, and a server's
  // model worker that resized its team on every layer ended the process in a SIGSEGV at exit (CI, 2026-11-30).
  const threads = isMainThread ? lib.threads() : undefined;
  const fewer = threads !== undefined && threads > 1 && lib.setThreads(1);
  try {
    for (let b = 0; b < B; b++) {
      maskRow.set(t.mask.subarray(b * L, (b + 1) * L));
      for (let h = 0; h < heads; h++) {
        const at = b * L * H + h * d;
        lib.sgemm(false, true, L, L, d, scale, t.Q.subarray(at), H, t.K.subarray(at), H, 0, S, stride);
        const row0 = (b * heads + h) * L * L; // this head's [L, L] in [B, heads, L, L]
        // the scores as softmax sees them: one float32 add of the mask, as its first pass does
        if (keep)
          for (let i = 0; i < L; i++)
            for (let j = 0; j < L; j++) keep.scores[row0 + i * L + j] = S[i * stride + j]! + maskRow[j]!;
        if (simd) simd.kernels.softmax_rows(simd.sAt, simd.maskAt, L, stride / 4);
        else softmaxRows(S, maskRow, L, L, stride);
        if (keep) for (let i = 0; i < L; i++) keep.probs.set(S.subarray(i * stride, i * stride + L), row0 + i * L);
        lib.sgemm(false, false, L, d, L, 1, S, stride, t.V.subarray(at), H, 0, t.Z.subarray(at), H);
      }
    }
  } finally {
    if (fewer) lib.setThreads(threads!);
  }
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: BLAS_ATTENTION_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
      const be = backend as WasmBackend;
      const { q, k, v, mask } = inputs as Record<'q' | 'k' | 'v' | 'mask', tf.TensorInfo>;
      const lib = activeBlas();
      if (!lib) throw new Error(`${BLAS_ATTENTION_KERNEL}: no BLAS under the wasm backend`);
      const [B, L] = mask.shape as [number, number];
      const heads = Number(attrs?.heads);
      const H = q.shape[1]!;
      const out = be.makeOutput([B * L, H], 'float32');
      const keeping = attrs?.keep === true;
      const kept = keeping ? [0, 1].map(() => be.makeOutput([B, heads, L, L], 'float32')) : [];
      const outputs = keeping ? [out, ...kept] : out;
      if (B * L * H === 0) return outputs;
      const simd = simdKernels(be);
      const stride = simd ? (L + 3) & ~3 : L; // SIMD rows: whole vectors of 4 floats
      const block = be.makeOutput([L * stride + stride], 'float32');
      try {
        // Views after both allocations (either may have grown the heap, replacing its buffer).
        const n = B * L * H;
        const [Q, K, V, Z] = [q, k, v, out].map((x) => heapView(be, x, n)) as [
          Float32Array,
          Float32Array,
          Float32Array,
          Float32Array,
        ];
        const S = heapView(be, block, L * stride + stride);
        S.fill(0);
        const maskRow = S.subarray(L * stride).fill(-Infinity);
        const sAt = heapOffset(be, block);
        const scratch = { S, maskRow, ...(simd && { simd: { kernels: simd, sAt, maskAt: sAt + L * stride * 4 } }) };
        const dims = { B, L, heads, d: H / heads, stride };
        const n2 = B * heads * L * L;
        const keep = keeping ? { scores: heapView(be, kept[0]!, n2), probs: heapView(be, kept[1]!, n2) } : undefined;
        attendHeads(lib, { Q, K, V, Z, mask: heapView(be, mask, B * L) }, scratch, dims, Number(attrs?.scale), keep);
      } finally {
        be.disposeData(block.dataId, true);
      }
      countBlasCall();
      return outputs;
    },
  });
}

/**
 * HF's eager self-attention with heads merged, one kernel (see blasAttentionApplies). q, k, v: [B·L, heads·d] (the
 * projections' outputs, heads side by side); mask: additive [B, L] (0, or float32's min on padding); `scale`
 * multiplies Q·Kᵀ (d^-½) → z [B·L, heads·d], each head's softmax(q·kᵀ · scale + mask) · v in its columns.
 */
export function blasAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  mask: tf.Tensor2D,
  heads: number,
  scale: number,
): tf.Tensor2D {
  checkAttention(q, k, v, mask, heads);
  return tf.engine().runKernel(BLAS_ATTENTION_KERNEL, { q, k, v, mask }, { heads, scale, keep: false }) as tf.Tensor2D;
}

/**
 * blasAttention, and the masked, scaled scores and the probabilities it computed on the way, [B, heads, L, L]
 * each (for hooks and `output_attentions`): z comes out bit for bit as blasAttention's, so reading them changes
 * nothing downstream.
 */
export function blasAttentionKeeping(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  mask: tf.Tensor2D,
  heads: number,
  scale: number,
): { z: tf.Tensor2D; scores: tf.Tensor4D; probs: tf.Tensor4D } {
  checkAttention(q, k, v, mask, heads);
  const [z, scores, probs] = tf
    .engine()
    .runKernel(BLAS_ATTENTION_KERNEL, { q, k, v, mask }, { heads, scale, keep: true }) as unknown as [
    tf.Tensor2D,
    tf.Tensor4D,
    tf.Tensor4D,
  ];
  return { z, scores, probs };
}

function checkAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, mask: tf.Tensor2D, heads: number): void {
  register();
  const [B, L] = mask.shape;
  const [rows, H] = q.shape;
  const ok =
    [q, k, v, mask].every((t) => t.dtype === 'float32') &&
    [k, v].every((t) => t.shape[0] === rows && t.shape[1] === H) &&
    rows === B * L &&
    Number.isInteger(heads) &&
    heads > 0 &&
    H % heads === 0;
  if (!ok)
    throw new Error(
      `${BLAS_ATTENTION_KERNEL}: q [${q.shape}] ${q.dtype}, k [${k.shape}], v [${v.shape}], mask [${mask.shape}] ${mask.dtype}, ${heads} heads`,
    );
}
