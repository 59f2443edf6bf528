// y = x · W + b at BERT-base's Linear shapes on a GPU backend: tfjs-webgpu's own fused matmul against the
// tiled program of src/backend/webgpu/linear.ts (each output tile shape, and the one `auto` picks), in GFLOP/s,
// each checked against tfjs.
//   node dist/bench/gpu-matmul.js [--backend webgpu] [--rows 512,1024,3072] [--square 4096] [--reps 20] [--out DIR]
// (--square 0 leaves out the square product, which takes minutes on a software adapter)
// Timing (timeProducts, as the backend's own choice uses): `reps` products queued back to back, then one small
// read-back, which waits for the whole queue (WebGPU runs a queue in order); the best of three such rounds
// after a warm-up round.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, setupBackend } from '../src/backend/index.js';
import { tiledLinear } from '../src/backend/webgpu/linear.js';
import { autoTile, LINEAR_TILES, type LinearTile } from '../src/backend/webgpu/linear-wgsl.js';
import { timeProducts } from '../src/backend/webgpu/matmul-choice.js';
import { ROOT } from '../test/fixtures.js';
import { machineInfo } from './machine.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    rows: { type: 'string', default: '512,1024,3072' },
    reps: { type: 'string', default: '20' },
    square: { type: 'string', default: '4096' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
  },
});
const log = (m: string) => process.stderr.write(`${m}\n`);
const choice = await setupBackend(values.backend as BackendName);
log(`backend ${choice.name} (${choice.reason})`);
const reps = Number(values.reps);

// [K, N] of BERT-base's Linears: Q/K/V/attention.output.dense, intermediate.dense, output.dense; then a square.
const SHAPES: [number, number][] = [
  [768, 768],
  [768, 3072],
  [3072, 768],
];
const cases: [number, number, number][] = values
  .rows!.split(',')
  .map(Number)
  .flatMap((m) => SHAPES.map(([k, n]) => [m, k, n] as [number, number, number]));
const square = Number(values.square);
if (square > 0) cases.push([square, square, square]);

type Variant = 'tfjs' | LinearTile;
const VARIANTS: Variant[] = choice.name === 'webgpu' ? ['tfjs', ...LINEAR_TILES] : ['tfjs'];

function run(v: Variant, x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (v === 'tfjs') return tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D;
  return tiledLinear(x, w, b, 'linear', v);
}

interface Row {
  m: number;
  k: number;
  n: number;
  variant: Variant;
  seconds: number;
  gflops: number;
  maxAbsVsTfjs: number;
}
const rows: Row[] = [];
for (const [m, k, n] of cases) {
  const x = tf.randomNormal([m, k], 0, 1, 'float32', 1) as tf.Tensor2D;
  const w = tf.randomNormal([k, n], 0, 0.05, 'float32', 2) as tf.Tensor2D;
  const b = tf.randomNormal([n], 0, 1, 'float32', 3) as tf.Tensor1D;
  const ref = run('tfjs', x, w, b);
  const want = await ref.data();
  ref.dispose();
  for (const v of VARIANTS) {
    const y = run(v, x, w, b);
    const got = await y.data();
    y.dispose();
    let maxAbsVsTfjs = 0;
    for (let i = 0; i < got.length; i++) maxAbsVsTfjs = Math.max(maxAbsVsTfjs, Math.abs(got[i]! - want[i]!));
    await timeProducts(() => run(v, x, w, b), reps, 1); // warm-up round
    const seconds = (await timeProducts(() => run(v, x, w, b), reps, 3)) / 1000;
    const row = { m, k, n, variant: v, seconds, gflops: (2 * m * k * n) / seconds / 1e9, maxAbsVsTfjs };
    rows.push(row);
    log(
      `${m}×${k}×${n} ${v}: ${row.gflops.toFixed(0)} GFLOP/s (${(seconds * 1e3).toFixed(3)} ms), max abs vs tfjs ${maxAbsVsTfjs.toExponential(1)}`,
    );
  }
  tf.dispose([x, w, b]);
}

mkdirSync(values.out!, { recursive: true });
writeFileSync(
  join(values.out!, 'gpu-matmul.json'),
  `${JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(), backend: choice, reps, rows }, null, 2)}\n`,
);
// Tiles are rows × columns of output per workgroup; `auto` names the one autoTile picks for the shape.
const tiled = VARIANTS.length > 1;
const lines = [
  `| M × K × N | ${VARIANTS.join(' | ')}${tiled ? ' | auto picks' : ''} |`,
  `|---|${VARIANTS.map(() => '---').join('|')}${tiled ? '|---' : ''}|`,
];
for (const [m, k, n] of cases) {
  const cells = VARIANTS.map((v) => rows.find((r) => r.m === m && r.k === k && r.n === n && r.variant === v)!);
  const best = Math.max(...cells.map((r) => r.gflops));
  const cell = (r: Row) =>
    `${r.gflops === best ? '**' : ''}${r.gflops.toFixed(0)}${r.gflops === best ? '**' : ''}${r.maxAbsVsTfjs > 1e-3 ? ' (WRONG)' : ''}`;
  lines.push(`| ${m} × ${k} × ${n} | ${cells.map(cell).join(' | ')}${tiled ? ` | ${autoTile(m, n)}` : ''} |`);
}
writeFileSync(
  join(values.out!, 'gpu-matmul.md'),
  `GFLOP/s, ${choice.name} (${choice.reason})\n\n${lines.join('\n')}\n`,
);
console.log(lines.join('\n'));
