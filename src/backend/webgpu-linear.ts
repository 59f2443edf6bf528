// y = x · W + b as one WGSL program for the webgpu backend: the Linear layers (Q, K, V, attention output,
// intermediate, output) are ≈ 90% of a short-sequence BERT forward, and tfjs-webgpu's generic matmul (32 × 32
// tiles, 64 threads) reached 2.7–23 TFLOP/s at BERT-base's shapes and 4096² on an H200, this one 4.6–37 (docs/gpu.md).
// It computes a 64·I × 64·J tile per 256-thread workgroup (I, J ∈ {1, 2}), 4·I × 4·J outputs per thread as vec4
// FMAs on vec4 reads of workgroup memory, with the next k tile's global loads in flight meanwhile. Every
// workgroup-memory write is a whole vec4 of one thread's (no two threads write parts of one vector).
// Summation runs over k in order, in float32, like a plain loop.
//
// Which matmul runs is measured, not assumed: with SBERT_WEBGPU_MATMUL unset (or `auto`), setting up the webgpu
// backend times both on this device at a BERT-sized product and keeps the faster (tfjs's may win on some
// GPUs); `tfjs` or `tiled` forces one. Registered as the tfjs kernel `SbertLinear` so tidy/dispose work.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import { gelu } from '../layers/activations.js';
import { BackendUnavailable } from './unavailable.js';
import { CHECK_TOLERANCE, type DeviceCheck, passed, trustedDiff, withDeviceErrors } from './webgpu-errors.js';
import { registerWebgpuKernel, type WebgpuProgram } from './webgpu-program.js';

export type WebgpuMatmul = 'auto' | 'tfjs' | 'tiled';
export const WEBGPU_MATMULS: readonly WebgpuMatmul[] = ['auto', 'tfjs', 'tiled'];

export const TILED_LINEAR_KERNEL = 'SbertLinear';
const BK = 16; // k per workgroup-memory tile

let setting: WebgpuMatmul | undefined;
let tuned: Tuning | undefined;

export interface Tuning {
  use: 'tfjs' | 'tiled';
  /** The product timed, [M, K, N], and each kernel's best time in ms. */
  shape: [number, number, number];
  tfjsMs: number;
  tiledMs: number;
  /** From `verifyTiledLinear`: a driver that miscompiled the tiled kernel shows here. */
  relDiff: number;
  /** The device's error when it rejected the tiled program (then it was neither timed nor used). */
  error?: string;
}

/** The faster kernel, but never a tiled one that disagrees with tfjs's (NaN disagrees too). */
export function chooseMatmul(tfjsMs: number, tiledMs: number, relDiff: number): 'tfjs' | 'tiled' {
  return trustedDiff(relDiff) <= CHECK_TOLERANCE && tiledMs < tfjsMs ? 'tiled' : 'tfjs';
}

/** Environment variable `name`'s value `v`, which must be one of `choices` (unset or empty: the first, `auto`). */
function envChoice<T extends string>(name: string, v: string | undefined, choices: readonly T[]): T {
  if (v === undefined || v === '') return choices[0]!;
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`${name}="${v}" is not one of ${choices.join(', ')}`);
  return v as T;
}

/** The setting: SBERT_WEBGPU_MATMUL, else `auto` (or what setWebgpuMatmul chose). */
export function webgpuMatmul(): WebgpuMatmul {
  return (setting ??= envChoice('SBERT_WEBGPU_MATMUL', process.env.SBERT_WEBGPU_MATMUL, WEBGPU_MATMULS));
}

export function setWebgpuMatmul(m: WebgpuMatmul): void {
  if (!WEBGPU_MATMULS.includes(m)) throw new UsageError(`unknown webgpu matmul "${m}" (choose from ${WEBGPU_MATMULS.join(', ')})`);
  setting = m;
}

/** The matmul the Linear layers run on webgpu now (`auto` before tuning means tfjs's). */
export function activeWebgpuMatmul(): 'tfjs' | 'tiled' {
  const s = webgpuMatmul();
  return s === 'auto' ? (tuned?.use ?? 'tfjs') : s;
}

/** Our WGSL programs may run: the webgpu backend is active and SBERT_WEBGPU_MATMUL is not `tfjs`. */
export function ownKernelsAllowed(): boolean {
  return tf.getBackend() === 'webgpu' && webgpuMatmul() !== 'tfjs';
}

/** True when Linear would run the tiled program for these sizes on the active backend. */
export function tiledLinearApplies(inFeatures: number, outFeatures: number): boolean {
  return tf.getBackend() === 'webgpu' && activeWebgpuMatmul() === 'tiled' && inFeatures % 4 === 0 && outFeatures % 4 === 0;
}

/** Best of `rounds` per-product times (ms) of `reps` products queued back to back, then one read-back. */
export async function timeProducts(f: () => tf.Tensor2D, reps: number, rounds: number): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    let last: tf.Tensor2D | undefined;
    for (let i = 0; i < reps; i++) {
      last?.dispose();
      last = f();
    }
    const probe = tf.slice(last!, [0, 0], [1, 1]);
    await probe.data(); // a queue runs in order: this waits for every product
    tf.dispose([probe, last!]);
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return best;
}

/** `diff`: the largest max |tiled − tfjs| / max |tfjs| over every variant. */
let verified: DeviceCheck | undefined;

/**
 * Every variant of the tiled program that may run (each tile shape × no activation, ReLU, GELU)
 * against tfjs's ops on this device, at a small shape that cuts every tile edge, once per process. A program
 * the driver rejects (or miscompiles) fails here instead of reading back zeros in a forward.
 */
export async function verifyTiledLinear(): Promise<DeviceCheck> {
  if (verified) return verified;
  if (tf.getBackend() !== 'webgpu') throw new Error('verifyTiledLinear: the webgpu backend is not active');
  const [m, k, n] = [130, 36, 132];
  const x = tf.randomUniform([m, k], -2, 2, 'float32', 11) as tf.Tensor2D;
  const w = tf.randomUniform([k, n], -0.5, 0.5, 'float32', 12) as tf.Tensor2D;
  const b = tf.randomUniform([n], -1, 1, 'float32', 13) as tf.Tensor1D;
  const tfjs: Record<LinearActivation, () => tf.Tensor> = {
    linear: () => tf.fused.matMul({ a: x, b: w, bias: b }),
    relu: () => tf.fused.matMul({ a: x, b: w, bias: b, activation: 'relu' }),
    gelu: () => gelu(tf.fused.matMul({ a: x, b: w, bias: b })),
  };
  const { value, error } = await withDeviceErrors(async () => {
    let worst = 0;
    for (const tile of LINEAR_TILES) {
      for (const act of Object.keys(tfjs) as LinearActivation[]) {
        const [diff, scale] = tf.tidy(() => {
          const want = tfjs[act]();
          return [tf.max(tf.abs(tf.sub(tiledLinear(x, w, b, act, tile), want))), tf.max(tf.abs(want))];
        });
        worst = Math.max(worst, trustedDiff((await diff.data())[0]! / Math.max((await scale.data())[0]!, 1e-30)));
        tf.dispose([diff, scale]);
      }
    }
    return worst;
  }).finally(() => tf.dispose([x, w, b]));
  verified = { diff: error ? Infinity : value, error };
  return verified;
}

/**
 * Times tfjs's matmul and the tiled one on the active webgpu device and, when the setting is `auto`, uses the
 * faster from then on, if the tiled program passed `verifyTiledLinear`. Once per process: [512, 768] · [768,
 * 3072] first, which a software adapter takes seconds over and decides on; a GPU, done in a few ms, is timed
 * again at [2048, 768] · [768, 3072] (BERT-base's intermediate.dense at a batch of ≈ 2 000 tokens).
 */
export async function tuneWebgpuMatmul(): Promise<Tuning> {
  if (tuned) return tuned;
  const check = await verifyTiledLinear();
  if (check.error) return (tuned = { use: 'tfjs', shape: [0, 0, 0], tfjsMs: NaN, tiledMs: NaN, relDiff: check.diff, error: check.error });
  const measure = async (m: number, k: number, n: number, reps: number, rounds: number): Promise<Tuning> => {
    const x = tf.randomUniform([m, k], -1, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomUniform([k, n], -0.05, 0.05, 'float32', 2) as tf.Tensor2D;
    const b = tf.randomUniform([n], -1, 1, 'float32', 3) as tf.Tensor1D;
    const tfjsMs = await timeProducts(() => tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D, reps, rounds);
    const tiledMs = await timeProducts(() => tiledLinear(x, w, b), reps, rounds);
    tf.dispose([x, w, b]);
    return { use: chooseMatmul(tfjsMs, tiledMs, check.diff), shape: [m, k, n], tfjsMs, tiledMs, relDiff: check.diff };
  };
  // Two rounds: the first compiles each kernel's shader (tens of ms on a GPU, which would decide alone).
  let t = await measure(512, 768, 3072, 1, 2);
  if (Math.max(t.tfjsMs, t.tiledMs) < 20) t = await measure(2048, 768, 3072, 10, 3);
  tuned = t;
  return t;
}

/**
 * What the backend report says about the matmul: the tuning's outcome, or the forced one. Forcing `tiled` on a
 * device that rejects or miscompiles it is an error, not a forward of zeros.
 */
export async function resolveWebgpuMatmul(): Promise<string> {
  const s = webgpuMatmul();
  if (s === 'tfjs') return 'tfjs matmul (forced)';
  if (s === 'tiled') {
    const v = await verifyTiledLinear();
    if (!passed(v)) {
      throw new BackendUnavailable(`SBERT_WEBGPU_MATMUL=tiled, but the tiled kernel ${v.error ? `failed on this device: ${v.error}` : `disagrees with tfjs's matmul here (relative difference ${v.diff.toExponential(1)})`}`);
    }
    return 'tiled matmul (forced)';
  }
  const t = await tuneWebgpuMatmul();
  if (t.error) return `tfjs matmul (the tiled kernel failed on this device: ${t.error})`;
  const times = `tiled ${t.tiledMs.toFixed(2)} ms, tfjs ${t.tfjsMs.toFixed(2)} ms at ${t.shape.join('×')}`;
  if (!(t.relDiff <= CHECK_TOLERANCE)) return `tfjs matmul (the tiled kernel disagreed with it on this device, relative difference ${t.relDiff.toExponential(1)}: not used; ${times})`;
  return `${t.use} matmul (measured: ${times})`;
}

// Unrolled here rather than looped in WGSL: accumulators in named registers, never an indexed local array.
const acc = (i: number, r: number, j: number): string => `acc${i}${r}${j}`;
// Thread (tx, ty) owns rows ty·4 + 64·i + r and the vec4 columns tx + 16·j of its tile.
const decl = (I: number, J: number): string => {
  const out: string[] = [];
  for (let i = 0; i < I; i++) for (let r = 0; r < 4; r++) for (let j = 0; j < J; j++) out.push(`var ${acc(i, r, j)} = vec4<f32>(0.0);`);
  return out.join('\n        ');
};
// Four k steps of the tile, k = 4·q … 4·q + 3 in order (q is a constant: the loop is unrolled, so workgroup
// reads need no clamping): each of the thread's rows is one vec4 read of As (its four k values), each W row
// J vec4 reads of Bs.
const fmas = (I: number, J: number, q: number): string => {
  const out: string[] = [];
  for (let k = 0; k < 4; k++) for (let j = 0; j < J; j++) out.push(`let b${j}_${k} = Bs[${4 * q + k}][tx + ${16 * j}];`);
  for (let i = 0; i < I; i++) {
    for (let r = 0; r < 4; r++) {
      out.push(`{ let a = As[ty * 4 + ${64 * i + r}][${q}];`);
      for (let k = 0; k < 4; k++) {
        for (let j = 0; j < J; j++) out.push(`  ${acc(i, r, j)} = fma(vec4<f32>(a.${'xyzw'[k]}), b${j}_${k}, ${acc(i, r, j)});`);
      }
      out.push('}');
    }
  }
  return `{\n          ${out.join('\n          ')}\n          }`;
};
const stores = (I: number, J: number): string => {
  const out: string[] = [];
  for (let j = 0; j < J; j++) {
    out.push(`let c${j} = col0 / 4 + tx + ${16 * j};`, `if (c${j} < N4) {`, `  let bias${j} = b[c${j}];`);
    for (let i = 0; i < I; i++) {
      for (let r = 0; r < 4; r++) {
        const row = `row0 + ty * 4 + ${64 * i + r}`;
        out.push(`  if (${row} < M) { result[(${row}) * N4 + c${j}] = activation(${acc(i, r, j)} + bias${j}); }`);
      }
    }
    out.push('}');
  }
  return out.join('\n        ');
};

/** What the epilogue applies to x·W + b: nothing, ReLU, or exact GELU (what tfjs's ops give, fused). */
export type LinearActivation = 'linear' | 'relu' | 'gelu';

// GELU as src/layers/activations.ts composes it from tfjs ops (same operation order), with erf as
// tfjs-webgpu evaluates it: Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), tfjs's own constants.
const ACTIVATIONS: Record<LinearActivation, string> = {
  linear: 'return v;',
  relu: 'return max(v, vec4<f32>(0.0));',
  gelu: `
        let a = v * ${Math.SQRT1_2};
        let absA = abs(a);
        let t = 1.0 / (1.0 + ${backend_util.ERF_P} * absA);
        let poly = ((((${backend_util.ERF_A5} * t + ${backend_util.ERF_A4}) * t + ${backend_util.ERF_A3}) * t + ${backend_util.ERF_A2}) * t + ${backend_util.ERF_A1}) * t;
        let erf = sign(a) * (1.0 - poly * exp(-absA * absA));
        return (v * 0.5) * (erf + 1.0);`,
};

/** Output tile shapes, rows × columns: each 256 threads, each thread 4·I × 4·J outputs. */
export const LINEAR_TILES = ['64x64', '64x128', '128x64', '128x128'] as const;
export type LinearTile = (typeof LINEAR_TILES)[number];

/** [rows, columns] of a tile. */
function tileDims(t: LinearTile): [number, number] {
  return t.split('x').map(Number) as [number, number];
}

/**
 * The tile for an [m, n] output: the largest that still makes ≥ 256 workgroups (a big GPU has ≈ 130
 * multiprocessors, each running 2+ workgroups; bigger tiles load less per FMA but leave it idle when few), else
 * 64 × 64. Chosen end to end on an H200 (docs/gpu.md): preferring 64 × 64 up to 384 workgroups of 128 × 128 won
 * most products timed alone, yet encoded 9–25% slower. SBERT_WEBGPU_TILE forces one tile.
 */
export function autoTile(m: number, n: number): LinearTile {
  const workgroups = (t: LinearTile) => {
    const [rows, cols] = tileDims(t);
    return Math.ceil(m / rows) * Math.ceil(n / cols);
  };
  return (['128x128', '64x128', '128x64'] as const).find((t) => workgroups(t) >= 256) ?? '64x64';
}

/** WGSL for a [64·I, 64·J] output tile; rows beyond M and k beyond K read as zero, so any M and K % 4 == 0 work. */
function program(m: number, n: number, tile: LinearTile, act: LinearActivation): WebgpuProgram {
  const [BM, BN] = tileDims(tile);
  const [I, J] = [BM / 64, BN / 64];
  const range = (c: number) => [...Array(c).keys()];
  return {
    outputShape: [m, n],
    shaderKey: `sbertLinear_${tile}_${act}`,
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(n / BN), Math.ceil(m / BM), 1],
    variableNames: ['x', 'w', 'b'],
    variableComponents: [4, 4, 4],
    outputComponent: 4,
    workgroupSize: [16, 16, 1],
    uniforms: 'dimM : i32, dimK : i32, dimN : i32,',
    getUserCode: () => `
      var<workgroup> As : array<array<vec4<f32>, ${BK / 4}>, ${BM}>;  // As[row][k / 4]
      var<workgroup> Bs : array<array<vec4<f32>, ${BN / 4}>, ${BK}>;  // Bs[k][col / 4]

      fn activation(v : vec4<f32>) -> vec4<f32> { ${ACTIVATIONS[act]} }
      // Out-of-range rows and k read as zeros, so partial tiles add nothing.
      fn loadA(row : i32, k4 : i32, M : i32, K4 : i32) -> vec4<f32> {
        if (row < M && k4 < K4) { return x[row * K4 + k4]; }
        return vec4<f32>(0.0);
      }
      fn loadW(k : i32, c4 : i32, K : i32, N4 : i32) -> vec4<f32> {
        if (k < K && c4 < N4) { return w[k * N4 + c4]; }
        return vec4<f32>(0.0);
      }
      fn main() {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let t = i32(localIndex);
        let row0 = i32(workgroupId.y) * ${BM};
        let col0 = i32(workgroupId.x) * ${BN};
        let M = uniforms.dimM;
        let K = uniforms.dimK;
        let N4 = uniforms.dimN / 4;
        let K4 = K / 4;
        ${decl(I, J)}
        // Thread t fetches I A vec4s (row t / 4 + 64·s, k quad t % 4) and J W vec4s (k row t / (16·J) + 16·s / J,
        // column quad t % (16·J)) per tile, one tile ahead: the next tile's loads are in flight during the FMAs.
        ${range(I).map((s) => `var pa${s} = loadA(row0 + t / 4 + ${64 * s}, t % 4, M, K4);`).join('\n        ')}
        ${range(J).map((s) => `var pb${s} = loadW(t / ${16 * J} + ${(16 / J) * s}, col0 / 4 + t % ${16 * J}, K, N4);`).join('\n        ')}
        for (var k0 = 0; k0 < K; k0 = k0 + ${BK}) {
          ${range(I).map((s) => `As[t / 4 + ${64 * s}][t % 4] = pa${s};`).join('\n          ')}
          ${range(J).map((s) => `Bs[t / ${16 * J} + ${(16 / J) * s}][t % ${16 * J}] = pb${s};`).join('\n          ')}
          workgroupBarrier();
          let k1 = k0 + ${BK};
          if (k1 < K) {
            ${range(I).map((s) => `pa${s} = loadA(row0 + t / 4 + ${64 * s}, k1 / 4 + t % 4, M, K4);`).join('\n            ')}
            ${range(J).map((s) => `pb${s} = loadW(k1 + t / ${16 * J} + ${(16 / J) * s}, col0 / 4 + t % ${16 * J}, K, N4);`).join('\n            ')}
          }
          ${range(BK / 4).map((q) => fmas(I, J, q)).join('\n          ')}
          workgroupBarrier();
        }
        ${stores(I, J)}
      }
    `,
  };
}

let tileSetting: LinearTile | 'auto' | undefined;

/** The tiled Linear's output tile: SBERT_WEBGPU_TILE, else `auto` (`autoTile` per product). */
export function linearTile(): LinearTile | 'auto' {
  return (tileSetting ??= envChoice('SBERT_WEBGPU_TILE', process.env.SBERT_WEBGPU_TILE, ['auto', ...LINEAR_TILES] as const));
}

/**
 * activation([M, K] · [K, N] + [N]) on the tiled webgpu program (callers check `tiledLinearApplies` first), in
 * `tile` (default: the setting, `linearTile()`).
 */
export function tiledLinear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, activation: LinearActivation = 'linear', tile: LinearTile | 'auto' = linearTile()): tf.Tensor2D {
  registerWebgpuKernel(TILED_LINEAR_KERNEL, (inputs, attrs) => {
    const { x, w, b } = inputs as { x: tf.TensorInfo; w: tf.TensorInfo; b: tf.TensorInfo };
    const [m, k] = x.shape as [number, number];
    const n = w.shape[1]!;
    const t = attrs.tile as LinearTile | 'auto';
    const int = (v: number) => ({ type: 'int32' as const, data: [v] });
    return { program: program(m, n, t === 'auto' ? autoTile(m, n) : t, attrs.activation as LinearActivation), inputs: [x, w, b], uniforms: [int(m), int(k), int(n)] };
  });
  return tf.engine().runKernel(TILED_LINEAR_KERNEL, { x, w, b }, { activation, tile } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}
