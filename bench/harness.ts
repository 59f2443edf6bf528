// A thin wrapper over benny 3.7.1 (benchmark.js underneath): each case runs as its own benny suite so
// it gets its own sampling budget, its own setup/teardown, and nothing else held in memory meanwhile.
// Results are copied out of benny's summary into our own JSON shape (schema.ts).
//
// Three things benny does that a wrapper has to handle:
// - benny calls a case function once, un-awaited, to find out whether it returns a promise; a probe
//   flag answers that call without doing the work, so no hidden run overlaps the first timed sample.
// - a rejected promise inside benny is never caught (the deferred never resolves): errors are caught
//   here, the sample loop is let finish, and the error is re-thrown afterwards.
// - benny rounds `ops` to distinct integers, which is 0 for a multi-second case: ops/s here is
//   1 / mean of benchmark.js's own samples.
import benny from 'benny';
import type { Budget, CaseResult, SuiteResult, BenchResults, Mode } from './schema.js';
import { RESULTS_SCHEMA } from './schema.js';
import { machineInfo } from './machine.js';

export type { Budget, CaseResult, SuiteResult, BenchResults, Mode };

export interface BenchCase {
  name: string;
  /** What distinguishes this case in tables and charts (backend, batch, seqLen, format, ...). */
  params?: Record<string, string | number>;
  /** Units of work one call does (sentences, tokens, flops, bytes): reported per second. */
  work?: Record<string, number>;
  setup?: () => Promise<void> | void;
  fn: () => Promise<unknown> | unknown;
  teardown?: () => Promise<void> | void;
  budget?: Partial<Budget>;
}

export interface SuiteContext {
  readonly mode: Mode;
  runCase(c: BenchCase): Promise<CaseResult>;
  /** Record a case that was not run, and why (a module not there yet, over the time budget, ...). */
  skipCase(name: string, reason: string, params?: Record<string, string | number>): CaseResult;
  /** Record a result measured elsewhere (the PyTorch anchor's own timer, a child process). */
  record(r: CaseResult): void;
  note(key: string, value: unknown): void;
  log(message: string): void;
}

export interface Suite {
  name: string;
  title: string;
  /** Runs its cases through ctx; returns { skip } when the whole suite cannot run here. */
  run(ctx: SuiteContext): Promise<void | { skip: string }>;
}

export const DEFAULT_BUDGET: Record<Mode, Budget> = {
  quick: { warmup: 1, minSamples: 3, maxTime: 1, initCount: 1 },
  full: { warmup: 1, minSamples: 5, maxTime: 5, initCount: 1 },
};

/** A budget for a case expected to take `estimateS` seconds per call: few samples when it is slow. */
export function budgetFor(mode: Mode, estimateS: number): Budget {
  const base = DEFAULT_BUDGET[mode];
  // quick mode is a smoke run (CI): one call is enough to prove a slow case works.
  if (mode === 'quick' && estimateS > 2) return { ...base, warmup: 0, minSamples: 1, maxTime: 0 };
  if (estimateS > 20) return { ...base, warmup: 0, minSamples: 1, maxTime: 0 };
  if (estimateS > 4) return { ...base, warmup: 1, minSamples: 2, maxTime: 0 };
  if (estimateS > 0.5) return { ...base, minSamples: mode === 'quick' ? 2 : 3, maxTime: mode === 'quick' ? 0 : 2 };
  return base;
}

function stats(sample: readonly number[]) {
  const sorted = [...sample].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { min: sorted[0] ?? NaN, max: sorted[n - 1] ?? NaN, median };
}

function emptyResult(
  name: string,
  params: Record<string, string | number>,
  status: 'skipped' | 'error',
  reason: string,
  budget?: Budget,
): CaseResult {
  return {
    name,
    params,
    status,
    reason,
    samples: 0,
    opsPerSec: 0,
    meanS: NaN,
    medianS: NaN,
    minS: NaN,
    maxS: NaN,
    sdS: NaN,
    marginPct: NaN,
    sampleS: [],
    work: {},
    throughput: {},
    budget: budget ?? null,
    wallS: 0,
    cpuSPerCall: null,
    cpuPerWall: null,
  };
}

// benchmark.js's two-sided 95% t-table, so margins from other timers compare with benny's.
const T_TABLE = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** A result from raw per-call samples (seconds) timed outside benny, with benchmark.js's statistics. */
export function resultFromSamples(
  name: string,
  params: Record<string, string | number>,
  sample: readonly number[],
  work: Record<string, number>,
  budget: Budget | null,
): CaseResult {
  if (sample.length === 0) return emptyResult(name, params, 'error', 'no samples', budget ?? undefined);
  const n = sample.length;
  const meanS = sample.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? sample.reduce((a, x) => a + (x - meanS) ** 2, 0) / (n - 1) : 0;
  const sdS = Math.sqrt(variance);
  const critical = T_TABLE[Math.max(1, n - 1) - 1] ?? 1.96;
  const { min, max, median } = stats(sample);
  const throughput: Record<string, number> = {};
  for (const [unit, amount] of Object.entries(work)) throughput[`${unit}PerSec`] = amount / meanS;
  return {
    name,
    params,
    status: 'ok',
    samples: n,
    opsPerSec: 1 / meanS,
    meanS,
    medianS: median,
    minS: min,
    maxS: max,
    sdS,
    marginPct: ((critical * sdS) / Math.sqrt(n) / meanS) * 100,
    sampleS: [...sample],
    work,
    throughput,
    budget,
    wallS: sample.reduce((a, b) => a + b, 0),
    cpuSPerCall: null,
    cpuPerWall: null,
  };
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Time one case with benny under `budget`; errors (teardown's too) come back as a result with status 'error'. */
export async function runCase(c: BenchCase, mode: Mode): Promise<CaseResult> {
  let setUp = false;
  const r = await timeCase(c, mode, () => void (setUp = true));
  if (setUp || c.setup === undefined) {
    try {
      await c.teardown?.();
    } catch (e) {
      const msg = `teardown: ${errorMessage(e)}`;
      if (r.status === 'ok') return { ...r, status: 'error', reason: msg };
      r.reason = `${r.reason}; ${msg}`;
    }
  }
  return r;
}

async function timeCase(c: BenchCase, mode: Mode, onSetUp: () => void): Promise<CaseResult> {
  const budget: Budget = { ...DEFAULT_BUDGET[mode], ...c.budget };
  const params = c.params ?? {};
  const t0 = performance.now();
  let failure: unknown = null;
  try {
    await c.setup?.();
    onSetUp();
    for (let i = 0; i < budget.warmup; i++) await c.fn();
    let probed = false;
    let cpuS = 0;
    let calls = 0;
    const timed = async (): Promise<void> => {
      if (!probed) {
        probed = true; // benny's type probe: answer without running the case
        return;
      }
      if (failure !== null) return;
      const c0 = process.cpuUsage();
      try {
        await c.fn();
      } catch (e) {
        failure = e;
      }
      const used = process.cpuUsage(c0);
      cpuS += (used.user + used.system) / 1e6;
      calls++;
    };
    const summary = await benny.suite(
      c.name,
      benny.add(c.name, () => timed, {
        minSamples: budget.minSamples,
        maxTime: budget.maxTime,
        initCount: budget.initCount,
      }),
    );
    if (failure !== null) throw failure;
    const r = summary.results[0];
    if (!r || r.details.sampleResults.length === 0) throw new Error('benny returned no samples');
    const sample = r.details.sampleResults;
    const { min, max, median } = stats(sample);
    const meanS = r.details.mean;
    const cpuSPerCall = calls > 0 ? cpuS / calls : null;
    const work = c.work ?? {};
    const throughput: Record<string, number> = {};
    for (const [unit, amount] of Object.entries(work)) throughput[`${unit}PerSec`] = amount / meanS;
    return {
      name: c.name,
      params,
      status: 'ok',
      samples: sample.length,
      opsPerSec: 1 / meanS,
      meanS,
      medianS: median,
      minS: min,
      maxS: max,
      sdS: r.details.standardDeviation,
      marginPct: r.details.relativeMarginOfError,
      sampleS: [...sample],
      work,
      throughput,
      budget,
      wallS: (performance.now() - t0) / 1000,
      cpuSPerCall,
      cpuPerWall: cpuSPerCall === null ? null : cpuSPerCall / meanS,
    };
  } catch (e) {
    return { ...emptyResult(c.name, params, 'error', errorMessage(e), budget), wallS: (performance.now() - t0) / 1000 };
  }
}

export interface RunOptions {
  mode: Mode;
  settings?: Record<string, unknown>;
  /** Progress lines go here (stderr by default), so stdout stays for the report. */
  log?: (message: string) => void;
}

/** Run suites one after another; a suite that throws is recorded as an error and the rest still run. */
export async function runSuites(suites: readonly Suite[], opts: RunOptions): Promise<BenchResults> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const started = performance.now();
  const out: SuiteResult[] = [];
  for (const s of suites) {
    const t0 = performance.now();
    const result: SuiteResult = { name: s.name, title: s.title, status: 'ok', cases: [], notes: {}, elapsedS: 0 };
    const ctx: SuiteContext = {
      mode: opts.mode,
      runCase: async (c) => {
        log(`[${s.name}] ${c.name} ...`);
        const r = await runCase(c, opts.mode);
        log(
          r.status === 'ok'
            ? `[${s.name}] ${c.name}: ${(r.meanS * 1000).toFixed(2)} ms/op ±${r.marginPct.toFixed(1)}% (${r.samples} samples)`
            : `[${s.name}] ${c.name}: ${r.status}: ${r.reason}`,
        );
        result.cases.push(r);
        return r;
      },
      skipCase: (name, reason, params = {}) => {
        const r = emptyResult(name, params, 'skipped', reason);
        log(`[${s.name}] ${name}: skipped: ${reason}`);
        result.cases.push(r);
        return r;
      },
      record: (r) => {
        result.cases.push(r);
      },
      note: (key, value) => {
        result.notes[key] = value;
      },
      log: (m) => log(`[${s.name}] ${m}`),
    };
    try {
      const r = await s.run(ctx);
      if (r && 'skip' in r) {
        result.status = 'skipped';
        result.reason = r.skip;
        log(`[${s.name}] skipped: ${r.skip}`);
      }
    } catch (e) {
      result.status = 'error';
      result.reason = errorMessage(e);
      log(`[${s.name}] error: ${result.reason}`);
    }
    if (result.status === 'ok' && result.cases.some((c) => c.status === 'error')) {
      result.status = 'error';
      result.reason = result.cases
        .filter((c) => c.status === 'error')
        .map((c) => `${c.name}: ${c.reason}`)
        .join('; ');
    }
    result.elapsedS = (performance.now() - t0) / 1000;
    out.push(result);
  }
  return {
    schema: RESULTS_SCHEMA,
    mode: opts.mode,
    machine: machineInfo(),
    settings: opts.settings ?? {},
    suites: out,
    elapsedS: (performance.now() - started) / 1000,
  };
}
