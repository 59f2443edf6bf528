// Scaled dot-product attention, heads split and merged, as one WGSL program for the webgpu backend. tfjs
// runs it as nine kernels per layer (three head transposes, Q·Kᵀ, the scale, the mask, softmax, P·V, the
// transpose back) and materialises the [B, heads, L, L] scores and probabilities. Here one 64-thread
// workgroup takes one query row of one head: its scores against every key (Q·Kᵀ summed over d in order,
// times d^-½, plus the additive mask, as tfjs and HF's eager attention do), softmax (max, exp(s − max),
// the sum, then each divided by it), and the probabilities times V, written straight into [B, L, H].
//
// Only where nothing needs the probabilities (no `output_attentions`, no attention hook), for L ≤ 512 and
// head size ≤ 128, on our kernels (SBERT_WEBGPU_MATMUL not `tfjs`), and after `checkFusedAttention` found it
// equal to a float64 attention on this device.
import * as tf from '@tensorflow/tfjs-core';
import { type DeviceCheck, passed, trustedDiff, withDeviceErrors } from './device-check.js';
import { ownKernelsAllowed } from './settings.js';
import { registerWebgpuKernel, type WebgpuProgram, workgroupReduceWgsl } from './program.js';

export const ATTENTION_KERNEL = 'SbertAttention';
const THREADS = 64;
const MAX_LEN = 512;
const MAX_HEAD = 128;

function program(batch: number, len: number, heads: number, width: number): WebgpuProgram {
  return {
    outputShape: [batch * len, width],
    shaderKey: 'sbertAttention',
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [len * heads, batch, 1],
    variableNames: ['q', 'k', 'v', 'mask'],
    workgroupSize: [THREADS, 1, 1],
    uniforms: 'len : i32, heads : i32, headSize : i32, scale : f32,',
    getUserCode: () => `
      var<workgroup> qs : array<f32, ${MAX_HEAD}>;
      var<workgroup> ps : array<f32, ${MAX_LEN}>;
      var<workgroup> red : array<f32, ${THREADS}>;
      // Reductions over the workgroup; every barrier sits in uniform control flow (loops bounded by uniforms).
      ${workgroupReduceWgsl('workgroupMax', (a, b) => `max(${a}, ${b})`, THREADS, 'red')}
      ${workgroupReduceWgsl('workgroupSum', (a, b) => `${a} + ${b}`, THREADS, 'red')}
      fn main() {
        let t = i32(localIndex);
        let L = uniforms.len;
        let d = uniforms.headSize;
        let H = uniforms.heads * d;
        let i = i32(workgroupId.x) % L;
        let h = i32(workgroupId.x) / L;
        let b = i32(workgroupId.y);
        let col = h * d;
        for (var c = t; c < d; c = c + ${THREADS}) { qs[c] = q[(b * L + i) * H + col + c]; }
        workgroupBarrier();
        var m = -3.402823466e+38;
        for (var j = t; j < L; j = j + ${THREADS}) {
          let kRow = (b * L + j) * H + col;
          var dot = 0.0;
          for (var c = 0; c < d; c = c + 1) { dot = dot + qs[c] * k[kRow + c]; }
          let s = dot * uniforms.scale + mask[b * L + j];
          ps[j] = s;
          m = max(m, s);
        }
        let rowMax = workgroupMax(m, t);
        var sum = 0.0;
        for (var j = t; j < L; j = j + ${THREADS}) {
          let e = exp(ps[j] - rowMax);
          ps[j] = e;
          sum = sum + e;
        }
        let total = workgroupSum(sum, t);
        for (var j = t; j < L; j = j + ${THREADS}) { ps[j] = ps[j] / total; }
        workgroupBarrier();
        for (var c = t; c < d; c = c + ${THREADS}) {
          var o = 0.0;
          for (var j = 0; j < L; j = j + 1) { o = o + ps[j] * v[(b * L + j) * H + col + c]; }
          result[(b * L + i) * H + col + c] = o;
        }
      }
    `,
  };
}

/**
 * softmax(Q·Kᵀ · scale + mask) · V per head. q, k, v: [B·L, heads·d] (the projections, heads side by side);
 * mask: [B, L] additive (0, or float32's min for padding). → [B·L, heads·d].
 */
export function fusedAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  mask: tf.Tensor2D,
  heads: number,
  scale: number,
): tf.Tensor2D {
  registerWebgpuKernel(ATTENTION_KERNEL, (inputs, attrs) => {
    const { q: qi, k: ki, v: vi, mask: mi } = inputs as Record<'q' | 'k' | 'v' | 'mask', tf.TensorInfo>;
    const [batch, len] = mi.shape as [number, number];
    const n = attrs.heads as number;
    const width = qi.shape[1]!;
    return {
      program: program(batch, len, n, width),
      inputs: [qi, ki, vi, mi],
      uniforms: [
        { type: 'int32', data: [len] },
        { type: 'int32', data: [n] },
        { type: 'int32', data: [width / n] },
        { type: 'float32', data: [attrs.scale as number] },
      ],
    };
  });
  return tf
    .engine()
    .runKernel(ATTENTION_KERNEL, { q, k, v, mask }, { heads, scale } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

let agreement: DeviceCheck | undefined;

/** True when attention of `len` tokens and head size `headSize` may run as the fused program here. */
export function fusedAttentionApplies(len: number, headSize: number): boolean {
  return ownKernelsAllowed() && len <= MAX_LEN && headSize <= MAX_HEAD && passed(agreement);
}

/** softmax(q·kᵀ · scale + mask) · v in float64, per batch row and head (the device check's yardstick). */
export function attentionReference(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  mask: Float32Array,
  B: number,
  L: number,
  n: number,
  d: number,
  scale: number,
): Float64Array {
  const H = n * d;
  const out = new Float64Array(B * L * H);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < n; h++) {
      for (let i = 0; i < L; i++) {
        const s = Array.from({ length: L }, (_, j) => {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q[(b * L + i) * H + h * d + c]! * k[(b * L + j) * H + h * d + c]!;
          return dot * scale + mask[b * L + j]!;
        });
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const total = e.reduce((a, x) => a + x, 0);
        for (let c = 0; c < d; c++) {
          let o = 0;
          for (let j = 0; j < L; j++) o += (e[j]! / total) * v[(b * L + j) * H + h * d + c]!;
          out[(b * L + i) * H + h * d + c] = o;
        }
      }
    }
  }
  return out;
}

/**
 * Runs the fused attention against a float64 attention once per process (2 sentences × 37 tokens, some of
 * them padding, 3 heads of 20: sizes that fill no loop evenly) with the device's errors captured, and
 * enables it only if the max abs difference is ≤ 1e-5 and the device reported no error.
 */
export async function checkFusedAttention(): Promise<DeviceCheck> {
  if (agreement) return agreement;
  const [B, L, n, d] = [2, 37, 3, 20];
  const scale = d ** -0.5;
  const rand = (len: number, seed: number) =>
    Float32Array.from({ length: len }, (_, i) => Math.sin(seed * 7919 + i * 12.9898) * 2);
  const [qs, ks, vs] = [rand(B * L * n * d, 1), rand(B * L * n * d, 2), rand(B * L * n * d, 3)];
  // sentence 1 has 30 real tokens; the rest is padding, masked with float32's min as BertModel does
  const ms = Float32Array.from({ length: B * L }, (_, i) => (i >= L + 30 ? -3.4028234663852886e38 : 0));
  const want = attentionReference(qs, ks, vs, ms, B, L, n, d, scale);
  const { value: got, error } = await withDeviceErrors(async () => {
    const [q, k, v] = [qs, ks, vs].map((a) => tf.tensor2d(a, [B * L, n * d]));
    const mask = tf.tensor2d(ms, [B, L]);
    const y = fusedAttention(q!, k!, v!, mask, n, scale);
    const data = (await y.data()) as Float32Array;
    tf.dispose([q!, k!, v!, mask, y]);
    return data;
  });
  let diff = 0;
  if (!error) for (let i = 0; i < want.length; i++) diff = Math.max(diff, trustedDiff(Math.abs(got[i]! - want[i]!)));
  agreement = { diff: error ? Infinity : diff, error };
  return agreement;
}
