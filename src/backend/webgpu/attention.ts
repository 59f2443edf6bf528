// Scaled dot-product attention, heads split and merged, as one WGSL program for the webgpu backend. tfjs
// runs it as nine kernels per layer (three head transposes, Q·Kᵀ, the scale, the mask, softmax, P·V, the
// transpose back) and materialises the [B, heads, L, L] scores and probabilities. Here each thread takes one
// query row of one head (flash-attention's loop, without its running rescale): the scores against every key
// (Q·Kᵀ · d^-½ plus the additive mask, as HF's eager attention), softmax and the probabilities times V, reading
// Q, K, V where the projections wrote them (three [B·L, H] tensors, or one [B·L, 3H]) and writing the heads
// merged into [B·L, H]. Measured on the H200 against the first version (one workgroup per query row, K and V
// read per row from global memory): docs/gpu.md.
//
// Only where nothing needs the probabilities (no `output_attentions`, no attention hook), for heads of
// 4·n ≤ 128, on our kernels (SBERT_WEBGPU_MATMUL not `tfjs`), and after `checkFusedAttention` found it equal to
// a float64 attention on this device.
import * as tf from '@tensorflow/tfjs-core';
import { type DeviceCheck, passed, trustedDiff, withDeviceErrors } from './device-check.js';
import { ownKernelsAllowed } from './settings.js';
import { registerWebgpuKernel, type WebgpuProgram } from './program.js';

export const ATTENTION_KERNEL = 'SbertAttention';
const MAX_HEAD = 128;
/** Sentences per dispatch (WebGPU allows 65 535 workgroups per dimension; the y dimension is the sentence). */
const MAX_BATCH = 65535;

/**
 * One workgroup per (sentence, head, block of Q query rows), one thread per query row, its q and z in registers
 * (d / 4 vec4s each). Keys come in blocks of KB through workgroup memory (K, V rows and the mask, read
 * coalesced once per block for all Q rows). Two sweeps over the keys: the row's max score, then exp(s − max),
 * their sum and Σ exp(s − max)·v, divided by the sum at the end (softmax then P·V, with the division moved
 * after the sum: equal within float32 rounding, and no [L] scores kept per row).
 */
function program(batch: number, len: number, heads: number, headSize: number): WebgpuProgram {
  const D4 = headSize / 4;
  const Q = len <= 32 ? 32 : 64;
  const KB = headSize <= 64 ? 16 : 8; // K and V blocks: 2·KB·d floats, ≤ 8 KiB of workgroup memory
  const range = (n: number) => [...Array(n).keys()];
  const each = (f: (c: number) => string, sep = '\n          ') => range(D4).map(f).join(sep);
  // One sweep over the keys, block by block (V loaded too when withV): `body` runs per key r of the block with its
  // score s (Q·K over d in four interleaved partial sums, the vec4 lanes, then their sum; scaled; masked).
  const sweep = (withV: boolean, body: string) => `for (var j0 = 0; j0 < L; j0 = j0 + ${KB}) {
          loadBlock(j0, row0, col4, t, ${withV});
          workgroupBarrier();
          let n = min(${KB}, L - j0);
          for (var r = 0; r < n; r = r + 1) {
            var p = vec4<f32>(0.0);
            ${each((c) => `p = fma(q${c}, ks[r][${c}], p);`, '\n            ')}
            let s = (p.x + p.y + p.z + p.w) * uniforms.scale + ms[r];
            ${body}
          }
          workgroupBarrier();
        }`;
  return {
    outputShape: [batch * len, heads * headSize],
    shaderKey: `sbertAttention_${D4}_${Q}`,
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [heads * Math.ceil(len / Q), batch, 1],
    variableNames: ['q', 'k', 'v', 'mask'],
    variableComponents: [4, 4, 4, 1],
    outputComponent: 4,
    workgroupSize: [Q, 1, 1],
    uniforms: 'len : i32, heads : i32, stride4 : i32, qOff4 : i32, kOff4 : i32, vOff4 : i32, scale : f32,',
    getUserCode: () => `
      var<workgroup> ks : array<array<vec4<f32>, ${D4}>, ${KB}>;
      var<workgroup> vs : array<array<vec4<f32>, ${D4}>, ${KB}>;
      var<workgroup> ms : array<f32, ${KB}>;
      // Keys j0 … j0 + KB − 1 of this sentence and head into workgroup memory (V too when withV); past L: zeros,
      // masked out of every sum by n below.
      fn loadBlock(j0 : i32, row0 : i32, col4 : i32, t : i32, withV : bool) {
        let L = uniforms.len;
        for (var e = t; e < ${KB * D4}; e = e + ${Q}) {
          let r = e / ${D4};
          let c = e % ${D4};
          var kv = vec4<f32>(0.0);
          var vv = vec4<f32>(0.0);
          if (j0 + r < L) {
            let at = (row0 + j0 + r) * uniforms.stride4 + col4 + c;
            kv = k[at + uniforms.kOff4];
            if (withV) { vv = v[at + uniforms.vOff4]; }
          }
          ks[r][c] = kv;
          if (withV) { vs[r][c] = vv; }
        }
        if (t < ${KB}) {
          var m = 0.0;
          if (j0 + t < L) { m = mask[row0 + j0 + t]; }
          ms[t] = m;
        }
      }
      fn main() {
        let t = i32(localIndex);
        let L = uniforms.len;
        let h = i32(workgroupId.x) % uniforms.heads;
        let i = (i32(workgroupId.x) / uniforms.heads) * ${Q} + t;
        let row0 = i32(workgroupId.y) * L;
        let col4 = h * ${D4};
        let live = i < L;
        var at = 0;
        if (live) { at = (row0 + i) * uniforms.stride4 + col4; }
        ${each((c) => `var q${c} = vec4<f32>(0.0);`)}
        if (live) {
          ${each((c) => `q${c} = q[at + uniforms.qOff4 + ${c}];`)}
        }
        var rowMax = -3.402823466e+38;
        ${sweep(false, 'rowMax = max(rowMax, s);')}
        var total = 0.0;
        ${each((c) => `var z${c} = vec4<f32>(0.0);`)}
        ${sweep(
          true,
          `let e = exp(s - rowMax);
            total = total + e;
            let ev = vec4<f32>(e);
            ${each((c) => `z${c} = fma(ev, vs[r][${c}], z${c});`)}`,
        )}
        if (live) {
          let outAt = (row0 + i) * uniforms.heads * ${D4} + col4;
          ${each((c) => `result[outAt + ${c}] = z${c} / total;`)}
        }
      }
    `,
  };
}

/** Q, K, V (heads·d = `width` columns each) in rows `stride` floats apart, each at its column offset. */
interface AttentionLayout {
  q: tf.Tensor2D;
  k: tf.Tensor2D;
  v: tf.Tensor2D;
  width: number;
  stride: number;
  offsets: [number, number, number];
}

function runAttention(x: AttentionLayout, mask: tf.Tensor, heads: number, scale: number): tf.Tensor2D {
  registerWebgpuKernel(ATTENTION_KERNEL, (inputs, attrs) => {
    const { q: qi, k: ki, v: vi, mask: mi } = inputs as Record<'q' | 'k' | 'v' | 'mask', tf.TensorInfo>;
    const [batch, len] = [mi.shape[0]!, mi.shape[mi.shape.length - 1]!]; // [B, L] or [B, 1, 1, L]
    if (qi.shape[0] !== batch * len || batch > MAX_BATCH) {
      throw new Error(
        `${ATTENTION_KERNEL}: ${qi.shape[0]} rows of Q, K, V for a mask of ${batch} × ${len} (at most ${MAX_BATCH} sentences)`,
      );
    }
    const n = attrs.heads as number;
    const width = attrs.width as number;
    const [qo, ko, vo] = attrs.offsets as number[];
    const int = (v: number) => ({ type: 'int32' as const, data: [v] });
    return {
      program: program(batch, len, n, width / n),
      inputs: [qi, ki, vi, mi],
      uniforms: [
        int(len),
        int(n),
        int((attrs.stride as number) / 4),
        int(qo! / 4),
        int(ko! / 4),
        int(vo! / 4),
        { type: 'float32', data: [attrs.scale as number] },
      ],
    };
  });
  const attrs = { heads, scale, width: x.width, stride: x.stride, offsets: x.offsets };
  return tf
    .engine()
    .runKernel(ATTENTION_KERNEL, { q: x.q, k: x.k, v: x.v, mask }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/**
 * softmax(Q·Kᵀ · scale + mask) · V per head. q, k, v: [B·L, heads·d] (the projections, heads side by side);
 * mask: [B, L] additive (0, or float32's min for padding). → [B·L, heads·d]. d must be a multiple of 4, ≤ 128.
 */
export function fusedAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  mask: tf.Tensor2D,
  heads: number,
  scale: number,
): tf.Tensor2D {
  const H = q.shape[1];
  return runAttention({ q, k, v, width: H, stride: H, offsets: [0, 0, 0] }, mask, heads, scale);
}

/**
 * fusedAttention from one projection of Q, K and V side by side: qkv [B·L, 3·heads·d] (Q's columns, K's, V's,
 * as one [H, 3H] Linear gives them), read in place; mask [B, L] or BertModel's [B, 1, 1, L] → [B·L, heads·d].
 */
export function fusedQkvAttention(
  qkv: tf.Tensor2D,
  mask: tf.Tensor2D | tf.Tensor4D,
  heads: number,
  scale: number,
): tf.Tensor2D {
  const H = qkv.shape[1] / 3;
  return runAttention({ q: qkv, k: qkv, v: qkv, width: H, stride: 3 * H, offsets: [0, H, 2 * H] }, mask, heads, scale);
}

let agreement: DeviceCheck | undefined;

/** True when attention with heads of `headSize` may run as the fused program here (any length). */
export function fusedAttentionApplies(headSize: number): boolean {
  return ownKernelsAllowed() && headSize % 4 === 0 && headSize <= MAX_HEAD && passed(agreement);
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

/** One start-up case: [B, L, heads, d], real tokens of the last sentence, and the layout the model uses. */
const CHECK_CASES: { shape: [number, number, number, number]; real: number; packed: boolean }[] = [
  { shape: [2, 37, 3, 20], real: 30, packed: false }, // three projections, sizes that fill no loop evenly
  { shape: [2, 23, 2, 64], real: 17, packed: true }, // BERT-base heads, 32-row workgroups, one [B·L, 3H] product
  { shape: [2, 40, 2, 128], real: 33, packed: true }, // heads of 128 (8-key blocks), 64-row workgroups
];

/**
 * Runs the fused attention against a float64 attention once per process, in each program the models use (heads
 * of 64 and 128, 32- and 64-row workgroups, Q, K, V from three tensors and from one [B·L, 3H] product with
 * BertModel's [B, 1, 1, L] mask, padding masked with float32's min) with the device's errors captured, and enables
 * it only if the max abs difference is ≤ 1e-5 everywhere and the device reported no error.
 */
export async function checkFusedAttention(): Promise<DeviceCheck> {
  if (agreement) return agreement;
  let diff = 0;
  let error: string | null = null;
  for (const { shape, real, packed } of CHECK_CASES) {
    const [B, L, n, d] = shape;
    const scale = d ** -0.5;
    const rand = (len: number, seed: number) =>
      Float32Array.from({ length: len }, (_, i) => Math.sin(seed * 7919 + i * 12.9898) * 2);
    const [qs, ks, vs] = [rand(B * L * n * d, 1), rand(B * L * n * d, 2), rand(B * L * n * d, 3)];
    const ms = Float32Array.from({ length: B * L }, (_, i) => (i >= (B - 1) * L + real ? -3.4028234663852886e38 : 0));
    const want = attentionReference(qs, ks, vs, ms, B, L, n, d, scale);
    const run = await withDeviceErrors(async () => {
      const inputs = [qs, ks, vs].map((a) => tf.tensor2d(a, [B * L, n * d]));
      const mask = packed ? tf.tensor4d(ms, [B, 1, 1, L]) : tf.tensor2d(ms, [B, L]);
      const qkv = packed ? tf.concat(inputs, 1) : undefined;
      try {
        const y = qkv
          ? fusedQkvAttention(qkv, mask as tf.Tensor4D, n, scale)
          : fusedAttention(inputs[0]!, inputs[1]!, inputs[2]!, mask as tf.Tensor2D, n, scale);
        try {
          return (await y.data()) as Float32Array;
        } finally {
          y.dispose();
        }
      } finally {
        tf.dispose([...inputs, mask, ...(qkv ? [qkv] : [])]);
      }
    });
    error ??= run.error;
    if (!run.error)
      for (let i = 0; i < want.length; i++) diff = Math.max(diff, trustedDiff(Math.abs(run.value[i]! - want[i]!)));
  }
  agreement = { diff: error ? Infinity : diff, error };
  return agreement;
}
