// sgemm GFLOP/s at BERT-base's Linear shapes, per matmul library the wasm backend's BLAS provider can load, and
// torch's F.linear (MKL) beside them: what decides which library `auto` looks for first (docs/blas.md).
//
//   npm run build && node dist/bench/sgemm.js [--libs PATH,PATH] [--threads 1,2] [--rows 64,160,448,928]
//     [--rounds 5] [--no-torch]
//
// Every library runs in a fresh process per thread count (OpenMP and OpenBLAS threads keep spinning after a
// call, which would slow whichever library ran next in the same process); in it, rounds go over every shape
// and both weight layouts in turn. Rows are tokens (a batch of 32 sentences of 14 tokens is 448); the shapes
// are [rows, 768]·[768, 768], ·[768, 3072] and [rows, 3072]·[3072, 768]; `·Wᵀ` is the weight as HF stores it
// ([out, in], transB), `·W` as our Linear keeps it ([in, out]). One thread: GFLOP/s per CPU-second of the
// process (steady under other load); more: by wall time (read with the load average beside it).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type Cblas, type Koffi, loadCblas } from '../src/backend/blas/cblas.js';
import { blasCandidates } from '../src/backend/blas/find.js';
import { ROOT } from '../test/fixtures.js';
import { machineInfo } from './machine.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const list = (name: string, fallback: string): string[] => (arg(name) ?? fallback).split(',').filter(Boolean);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

type Result = Record<string, { wall: number[]; cpu: number[] }>;

function shapes(): [number, number, number][] {
  return (list('rows', '').length ? list('rows', '') : ['64', '160', '448', '928']).flatMap((r) => {
    const m = Number(r);
    return [
      [m, 768, 768],
      [m, 768, 3072],
      [m, 3072, 768],
    ] as [number, number, number][];
  });
}

/** In a child: one library, one thread count; prints a Result as JSON. */
async function child(path: string, threads: number, rounds: number): Promise<void> {
  const koffi = ((await import('koffi')) as unknown as { default: Koffi }).default;
  const lib: Cblas = loadCblas(koffi, path);
  lib.setThreads(threads);
  const out: Result = {};
  const data = shapes().map(([m, k, n]) => ({
    m,
    k,
    n,
    a: Float32Array.from({ length: m * k }, () => Math.random() - 0.5),
    b: Float32Array.from({ length: k * n }, () => Math.random() - 0.5),
    c: new Float32Array(m * n),
  }));
  for (let r = 0; r < rounds; r++) {
    for (const { m, k, n, a, b, c } of data) {
      for (const transB of [false, true]) {
        const run = () => lib.sgemm(false, transB, m, n, k, 1, a, k, b, transB ? k : n, 0, c, n);
        const flop = 2 * m * n * k;
        const reps = Math.max(3, Math.round(4e9 / flop));
        run();
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) run();
        const wall = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(c0);
        const cell = (out[`${m}x${k}x${n}${transB ? 'T' : ''}`] ??= { wall: [], cpu: [] });
        cell.wall.push((flop * reps) / wall / 1e9);
        cell.cpu.push((flop * reps) / ((cpu.user + cpu.system) / 1e6) / 1e9);
      }
    }
  }
  process.stdout.write(JSON.stringify({ name: lib.name, threads: lib.threads(), result: out }));
}

function parent(): void {
  const threadCounts = list('threads', '1,2').map(Number);
  const rounds = arg('rounds') ?? '5';
  const libs = arg('libs')?.split(',') ?? blasCandidates();
  const columns: { label: string; threads: number; result: Result }[] = [];
  for (const threads of threadCounts) {
    for (const path of libs) {
      const childArgs = [
        process.argv[1]!,
        '--child',
        path,
        String(threads),
        rounds,
        '--rows',
        list('rows', '').join(','),
      ];
      const r = spawnSync(process.execPath, childArgs, {
        encoding: 'utf8',
        env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
      });
      if (r.status !== 0) {
        if (arg('libs')) process.stderr.write(`${path}: ${r.stderr.trim().split('\n').pop()}\n`);
        continue; // a default candidate that is not installed here
      }
      const o = JSON.parse(r.stdout) as { name: string; result: Result };
      process.stderr.write(`${o.name} (${path}), ${threads} thread(s): done\n`);
      // The folder tells Debian's builds of one library apart (openblas-pthread, openblas-openmp).
      const build = /\/([^/]*-(pthread|openmp|serial))\//.exec(path)?.[1];
      columns.push({ label: `${o.name}${build ? ` (${build})` : ''}, ${threads}T`, threads, result: o.result });
    }
    if (!process.argv.includes('--no-torch')) {
      const py = process.env.SBERT_PYTHON ?? 'python3';
      const shapeArg = shapes()
        .map((s) => s.join('x'))
        .join(',');
      const script = join(ROOT, 'bench', 'anchors', 'torch_linear.py');
      const args = [script, '--shapes', shapeArg, '--threads', String(threads), '--rounds', rounds];
      const r = spawnSync(py, args, { encoding: 'utf8' });
      if (r.status === 0) {
        const o = JSON.parse(r.stdout) as { torch: string; gflops: Result };
        // torch's weight is [out, in] (F.linear): its figures go in the ·Wᵀ rows.
        const result: Result = Object.fromEntries(Object.entries(o.gflops).map(([k, v]) => [`${k}T`, v]));
        columns.push({ label: `torch ${o.torch} F.linear, ${threads}T`, threads, result });
      } else process.stderr.write(`torch: not run (${r.stderr.trim().split('\n').pop()})\n`);
    }
  }
  const m = machineInfo();
  const rows = shapes().flatMap(([mm, k, n]) => [`${mm}x${k}x${n}`, `${mm}x${k}x${n}T`]);
  const lines = [
    `sgemm GFLOP/s, median of ${rounds} rounds (1 thread: per CPU-second; more: by wall time); ${m.date.slice(0, 16)}Z, ` +
      `${m.cpuModel}, ${m.cores} cores, load average ${m.loadAverage.join(' / ')} at the end`,
    '',
    `| [rows, in]·W | ${columns.map((c) => c.label).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
    ...rows.map((key) => {
      const [mm, k, n] = key.replace('T', '').split('x');
      const label = `${mm} × ${k} → ${n}${key.endsWith('T') ? ' (·Wᵀ)' : ''}`;
      const cells = columns.map((c) => {
        const cell = c.result[key];
        return cell ? median(c.threads === 1 ? cell.cpu : cell.wall).toFixed(0) : '–';
      });
      return `| ${label} | ${cells.join(' | ')} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const i = process.argv.indexOf('--child');
if (i >= 0) await child(process.argv[i + 1]!, Number(process.argv[i + 2]), Number(process.argv[i + 3]));
else parent();
