// HF transformers' BertModel on the padded batches one of our runs cut (bench/anchors/hf_batches.py), for the
// benchmarks that interleave it with ours pass by pass (bench/blas.ts, bench/pairs.ts), and the arithmetic
// they share. The anchor times forward + mean pooling only: tokenization is not its work.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BatchJob } from '../src/encoder/batches.js';
import { ROOT } from '../test/fixtures.js';

export const HF_SCRIPT = join(ROOT, 'bench', 'anchors', 'hf_batches.py');
/** One anchor run over the 2 456 sentences takes about a minute; a hung one is cut off here. */
export const HF_TIMEOUT_S = 3600;

/** One run of the anchor: its first pass (cold, the script's warm-up) and the timed passes after it. */
export interface HfRun {
  /** Seconds and CPU seconds (all threads) of the first pass. */
  firstSeconds: number;
  firstCpuSeconds: number;
  /** Of each timed pass after the first. */
  seconds: number[];
  cpuSeconds: number[];
  /** Versions, threads, attention implementation. */
  label: string;
  /** Pooled vectors of the last pass, [sentence, hidden] in sentence order. */
  vectors: Float32Array;
}

/** The Python that imports torch and transformers ($SBERT_PYTHON, else python3), or why there is none. */
export function hfPython(): string | { missing: string } {
  const tried: string[] = [];
  for (const py of [process.env.SBERT_PYTHON, 'python3']) {
    if (!py || tried.includes(py)) continue;
    tried.push(py);
    const r = spawnSync(py, ['-c', 'import torch, transformers'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return py;
  }
  return { missing: `no python with torch and transformers (tried ${tried.join(', ')}; set SBERT_PYTHON)` };
}

/** The batches as hf_batches.py reads them, written to `file`. */
export function writeBatches(jobs: readonly BatchJob[], file: string): void {
  const rows = (a: Int32Array, job: BatchJob) =>
    Array.from({ length: job.batch }, (_, r) => Array.from(a.subarray(r * job.length, (r + 1) * job.length)));
  writeFileSync(
    file,
    JSON.stringify({ batches: jobs.map((j) => ({ input_ids: rows(j.ids, j), attention_mask: rows(j.mask, j) })) }),
  );
}

/**
 * HF's BertModel from `dir` over the batches in `file` (written by `writeBatches(jobs, file)`), `passes` timed
 * passes after a first one, `threads` torch intra-op threads (default: every core). Throws with the script's
 * last stderr line when it fails.
 */
export function runHf(
  python: string,
  dir: string,
  jobs: readonly BatchJob[],
  file: string,
  hidden: number,
  opts: { threads?: number; passes?: number } = {},
): HfRun {
  const threads = String(opts.threads ?? availableParallelism());
  const passes = String(opts.passes ?? 1);
  const r = spawnSync(
    python,
    [HF_SCRIPT, '--model', dir, '--batches', file, '--threads', threads, '--passes', passes],
    { encoding: 'utf8', maxBuffer: 256 << 20, timeout: HF_TIMEOUT_S * 1000 },
  );
  if (r.status !== 0)
    throw new Error(`${HF_SCRIPT}: exit ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').pop()}`);
  const o = JSON.parse(r.stdout) as {
    torch: string;
    transformers: string;
    threads: number;
    attn_implementation: string;
    warmupSeconds: number;
    warmupCpuSeconds: number;
    seconds: number[];
    cpuSeconds: number[];
    pooled: number[];
  };
  // Its vectors come in batch-row order; put them in sentence order.
  const n = jobs.reduce((a, j) => a + j.rows.length, 0);
  const vectors = new Float32Array(n * hidden);
  let at = 0;
  for (const job of jobs)
    for (const row of job.rows) vectors.set(o.pooled.slice(at * hidden, ++at * hidden), row * hidden);
  return {
    firstSeconds: o.warmupSeconds,
    firstCpuSeconds: o.warmupCpuSeconds,
    seconds: o.seconds,
    cpuSeconds: o.cpuSeconds,
    label: `transformers ${o.transformers}, torch ${o.torch}, ${o.threads} threads, ${o.attn_implementation} attention`,
    vectors,
  };
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const maxAbs = (a: Float32Array, b: Float32Array): number => {
  if (a.length !== b.length) throw new Error(`vectors of ${a.length} and ${b.length} values`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** `median (min–max)` of xs, each written by `fmt`. */
export const spread = (xs: readonly number[], fmt: (x: number) => string): string =>
  xs.length === 1 ? fmt(xs[0]!) : `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
