// WGSL for y = activation(x · W + b) (see linear.ts): a 64·I × 64·J output tile per 256-thread workgroup
// (I, J ∈ {1, 2}), 4·I × 4·J outputs per thread as vec4 FMAs on vec4 reads of workgroup memory, with the next k
// tile's global loads in flight meanwhile. Every workgroup-memory write is a whole vec4 of one thread's (no two
// threads write parts of one vector). Summation runs over k in order, in float32, like a plain loop.
import { backend_util } from '@tensorflow/tfjs-core';
import type { WebgpuProgram } from './program.js';

const BK = 16; // k per workgroup-memory tile

// Unrolled here rather than looped in WGSL: accumulators in named registers, never an indexed local array.
const acc = (i: number, r: number, j: number): string => `acc${i}${r}${j}`;
// Thread (tx, ty) owns rows ty·4 + 64·i + r and the vec4 columns tx + 16·j of its tile.
const decl = (I: number, J: number): string => {
  const out: string[] = [];
  for (let i = 0; i < I; i++)
    for (let r = 0; r < 4; r++) for (let j = 0; j < J; j++) out.push(`var ${acc(i, r, j)} = vec4<f32>(0.0);`);
  return out.join('\n        ');
};
// Four k steps of the tile, k = 4·q … 4·q + 3 in order (q is a constant: the loop is unrolled, so workgroup
// reads need no clamping): each of the thread's rows is one vec4 read of As (its four k values), each W row
// J vec4 reads of Bs.
const fmas = (I: number, J: number, q: number): string => {
  const out: string[] = [];
  for (let k = 0; k < 4; k++)
    for (let j = 0; j < J; j++) out.push(`let b${j}_${k} = Bs[${4 * q + k}][tx + ${16 * j}];`);
  for (let i = 0; i < I; i++) {
    for (let r = 0; r < 4; r++) {
      out.push(`{ let a = As[ty * 4 + ${64 * i + r}][${q}];`);
      for (let k = 0; k < 4; k++) {
        for (let j = 0; j < J; j++)
          out.push(`  ${acc(i, r, j)} = fma(vec4<f32>(a.${'xyzw'[k]}), b${j}_${k}, ${acc(i, r, j)});`);
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

// GELU as src/ops/activations.ts composes it from tfjs ops (same operation order), with erf as
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
 * 64 × 64. The rule was chosen by whole encodes, not products timed alone (docs/gpu.md has the rule that was
 * dropped and why). SBERT_WEBGPU_TILE forces one tile.
 */
export function autoTile(m: number, n: number): LinearTile {
  const workgroups = (t: LinearTile) => {
    const [rows, cols] = tileDims(t);
    return Math.ceil(m / rows) * Math.ceil(n / cols);
  };
  return (['128x128', '64x128', '128x64'] as const).find((t) => workgroups(t) >= 256) ?? '64x64';
}

/** WGSL for a [64·I, 64·J] output tile; rows beyond M and k beyond K read as zero, so any M and K % 4 == 0 work. */
export function program(m: number, n: number, tile: LinearTile, act: LinearActivation): WebgpuProgram {
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
        ${range(I)
          .map((s) => `var pa${s} = loadA(row0 + t / 4 + ${64 * s}, t % 4, M, K4);`)
          .join('\n        ')}
        ${range(J)
          .map((s) => `var pb${s} = loadW(t / ${16 * J} + ${(16 / J) * s}, col0 / 4 + t % ${16 * J}, K, N4);`)
          .join('\n        ')}
        for (var k0 = 0; k0 < K; k0 = k0 + ${BK}) {
          ${range(I)
            .map((s) => `As[t / 4 + ${64 * s}][t % 4] = pa${s};`)
            .join('\n          ')}
          ${range(J)
            .map((s) => `Bs[t / ${16 * J} + ${(16 / J) * s}][t % ${16 * J}] = pb${s};`)
            .join('\n          ')}
          workgroupBarrier();
          let k1 = k0 + ${BK};
          if (k1 < K) {
            ${range(I)
              .map((s) => `pa${s} = loadA(row0 + t / 4 + ${64 * s}, k1 / 4 + t % 4, M, K4);`)
              .join('\n            ')}
            ${range(J)
              .map((s) => `pb${s} = loadW(k1 + t / ${16 * J} + ${(16 / J) * s}, col0 / 4 + t % ${16 * J}, K, N4);`)
              .join('\n            ')}
          }
          ${range(BK / 4)
            .map((q) => fmas(I, J, q))
            .join('\n          ')}
          workgroupBarrier();
        }
        ${stores(I, J)}
      }
    `,
  };
}
