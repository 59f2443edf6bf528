// The JSON shape of a benchmark run (bench/results/*.json), and a check of it that tests and the
// report share: a file that does not pass `validateResults` is not one this code wrote.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './machine.js';

export const RESULTS_SCHEMA = 'sbert-tfjs-bench/1';
export type Mode = 'quick' | 'full';

/** benchmark.js settings for one case, plus our own un-timed warm-up calls. */
export interface Budget {
  warmup: number;
  minSamples: number;
  /** Seconds; sampling stops once minSamples are in and this much time has passed. */
  maxTime: number;
  initCount: number;
}

export interface CaseResult {
  name: string;
  params: Record<string, string | number>;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  samples: number;
  opsPerSec: number;
  meanS: number;
  medianS: number;
  minS: number;
  maxS: number;
  sdS: number;
  /** Relative margin of error of the mean at 95%, in percent (benchmark.js's `rme`). */
  marginPct: number;
  sampleS: number[];
  work: Record<string, number>;
  /** `work` divided by the mean time: `sentencesPerSec`, `tokensPerSec`, `flopsPerSec`, ... */
  throughput: Record<string, number>;
  budget: Budget | null;
  wallS: number;
  /**
   * This process's CPU seconds (all its threads, GC included) per call, averaged over the timed calls:
   * for a single-threaded case, a cost that other processes on a shared machine barely inflate.
   */
  cpuSPerCall: number | null;
  /** cpuSPerCall / meanS: about 1 for a single-threaded case on an idle core, lower when others took the CPU. */
  cpuPerWall: number | null;
}

export interface SuiteResult {
  name: string;
  title: string;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  cases: CaseResult[];
  notes: Record<string, unknown>;
  elapsedS: number;
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  mode: Mode;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  suites: SuiteResult[];
  elapsedS: number;
}

/** Every suite a run reports, skipped or not (the JSON always lists them all). */
export const SUITES = ['tokenizer', 'load', 'forward', 'matmul', 'encode', 'pytorch', 'transformers'] as const;

export const RESULTS_DIR = (root: string): string => join(root, 'bench', 'results');

/** Write `results` as bench/results/<date>-<mode>.json and latest-<mode>.json; returns the dated path. */
export function saveResults(root: string, results: BenchResults): string {
  const dir = RESULTS_DIR(root);
  mkdirSync(dir, { recursive: true });
  const stamp = results.machine.date.replace(/[:.]/g, '-');
  const file = join(dir, `${stamp}-${results.mode}.json`);
  const text = JSON.stringify(results, null, 1) + '\n';
  writeFileSync(file, text);
  writeFileSync(join(dir, `latest-${results.mode}.json`), text);
  return file;
}

/** Problems with a results object (empty when it is well-formed). */
export function validateResults(r: unknown, expectedSuites: readonly string[] = SUITES): string[] {
  const errs: string[] = [];
  if (typeof r !== 'object' || r === null) return ['not an object'];
  const o = r as Partial<BenchResults>;
  if (o.schema !== RESULTS_SCHEMA) errs.push(`schema is ${JSON.stringify(o.schema)}`);
  if (o.mode !== 'quick' && o.mode !== 'full') errs.push('mode is not quick|full');
  const m = o.machine as Partial<MachineInfo> | undefined;
  if (!m) errs.push('no machine');
  else {
    if (typeof m.cpuModel !== 'string' || !m.cpuModel) errs.push('machine.cpuModel');
    if (!(typeof m.cores === 'number' && m.cores >= 1)) errs.push('machine.cores');
    if (!(typeof m.totalMemoryBytes === 'number' && m.totalMemoryBytes > 0)) errs.push('machine.totalMemoryBytes');
    if (typeof m.node !== 'string' || !m.node.startsWith('v')) errs.push('machine.node');
    if (typeof m.os !== 'string' || !m.os) errs.push('machine.os');
    if (typeof m.packages?.['@tensorflow/tfjs-core'] !== 'string') errs.push('machine.packages[@tensorflow/tfjs-core]');
    if (typeof m.packages?.benny !== 'string') errs.push('machine.packages[benny]');
    if (!m.git || !('commit' in m.git)) errs.push('machine.git');
    if (typeof m.date !== 'string' || Number.isNaN(Date.parse(m.date))) errs.push('machine.date');
    if (!Array.isArray(m.loadAverage)) errs.push('machine.loadAverage');
  }
  if (typeof o.settings !== 'object' || o.settings === null) errs.push('no settings');
  if (!Array.isArray(o.suites)) return [...errs, 'no suites'];
  for (const name of expectedSuites) {
    if (!o.suites.some((s) => s.name === name)) errs.push(`suite ${name} missing`);
  }
  for (const s of o.suites) {
    if (!['ok', 'skipped', 'error'].includes(s.status)) errs.push(`suite ${s.name}: status ${s.status}`);
    if (s.status !== 'ok' && !s.reason) errs.push(`suite ${s.name}: ${s.status} without a reason`);
    if (!Array.isArray(s.cases)) {
      errs.push(`suite ${s.name}: no cases array`);
      continue;
    }
    for (const c of s.cases) {
      const where = `suite ${s.name} case ${c.name}`;
      if (c.status === 'ok') {
        if (!(c.samples >= 1 && c.sampleS.length === c.samples)) errs.push(`${where}: samples`);
        if (!(c.meanS > 0 && Number.isFinite(c.meanS))) errs.push(`${where}: meanS`);
        if (Math.abs(c.opsPerSec * c.meanS - 1) > 1e-9) errs.push(`${where}: opsPerSec != 1/meanS`);
        for (const [unit, amount] of Object.entries(c.work)) {
          const t = c.throughput[`${unit}PerSec`];
          if (t === undefined || Math.abs(t - amount / c.meanS) > 1e-6 * Math.abs(t))
            errs.push(`${where}: ${unit}PerSec`);
        }
      } else if (!c.reason) errs.push(`${where}: ${c.status} without a reason`);
      if (!('cpuPerWall' in c) || !('cpuSPerCall' in c)) errs.push(`${where}: cpuPerWall/cpuSPerCall`);
    }
  }
  return errs;
}
