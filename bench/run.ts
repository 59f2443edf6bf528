// The benchmark entry point (`npm run bench`, `npm run bench:quick`):
//   node dist/bench/run.js [--quick] [--suites tokenizer,load,...] [--backends wasm,cpu,...]
//     [--grid 1x16,8x64] [--sentences N] [--batch-size N]   (override the mode's shapes, e.g. batch 128 on a GPU)
// Runs every suite (those not selected are listed as skipped), saves bench/results/<date>-<mode>.json and
// .html (plus latest-<mode>.*), and prints the README's markdown tables on stdout; progress goes to stderr.
// Exit 1 only when a suite errored: slow numbers never fail a run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../test/fixtures.js';
import { createEnv } from './env.js';
import { exitWithParent, isolated, writeHandoff } from './isolate.js';
import { runSuites, type Suite } from './harness.js';
import { htmlReport, markdownReport } from './report.js';
import { RESULTS_DIR, SUITES, saveResults, type Mode } from './schema.js';
import { encodeSuite } from './suites/encode.js';
import { forwardSuite } from './suites/forward.js';
import { loadSuite } from './suites/load.js';
import { matmulSuite } from './suites/matmul.js';
import { pytorchSuite, transformersSuite } from './suites/pytorch.js';
import { tokenizerSuite } from './suites/tokenizer.js';

const ALL_BACKENDS = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    suites: { type: 'string' },
    backends: { type: 'string' },
    grid: { type: 'string' },
    sentences: { type: 'string' },
    'batch-size': { type: 'string' },
    'in-process': { type: 'boolean', default: false },
    child: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    `usage: node dist/bench/run.js [--quick] [--suites ${SUITES.join(',')}] [--backends ${ALL_BACKENDS.join(',')}]\n` +
      `         [--grid 1x16,8x64,...] [--sentences N] [--batch-size N] [--in-process]\n`,
  );
  process.exit(0);
}
const mode: Mode = values.quick ? 'quick' : 'full';
const list = (s: string | undefined, all: readonly string[]): string[] => {
  if (!s) return [...all];
  const picked = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = picked.filter((x) => !all.includes(x));
  if (bad.length) {
    process.stderr.write(`error: unknown ${bad.join(', ')} (choose from ${all.join(', ')})\n`);
    process.exit(1);
  }
  return picked;
};
const selected = list(values.suites, SUITES);
const backends = list(values.backends, ALL_BACKENDS);

// benny prints "Running ... suite" with console.log: send it to stderr with the rest of the progress,
// so stdout carries only the report.
console.log = (...args: unknown[]) => console.error(...args);
const log = (m: string) => process.stderr.write(`${m}\n`);
// On Ctrl-C / kill, exit through 'exit' so child processes are killed too (bench/isolate.ts).
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

const positive = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 1)) {
    process.stderr.write(`error: --${name} must be a positive integer, got ${v}\n`);
    process.exit(1);
  }
  return n;
};
const grid = values.grid?.split(',').map((shape): [number, number] => {
  const m = /^(\d+)x(\d+)$/.exec(shape.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 2 || Number(m[2]) > 512) {
    process.stderr.write(`error: --grid takes BATCHxLENGTH shapes (length 2..512), got "${shape}"\n`);
    process.exit(1);
  }
  return [Number(m[1]), Number(m[2])];
});
const overrides = {
  grid,
  sentences: positive('sentences', values.sentences),
  batchSize: positive('batch-size', values['batch-size']),
  backendsNamed: values.backends !== undefined,
};
const env = createEnv(mode, backends, log, overrides);
const factories: Record<(typeof SUITES)[number], () => Suite> = {
  tokenizer: () => tokenizerSuite(env),
  load: () => loadSuite(env),
  forward: () => forwardSuite(env),
  matmul: () => matmulSuite(env),
  encode: () => encodeSuite(env),
  pytorch: () => pytorchSuite(env),
  transformers: () => transformersSuite(env),
};

if (values.child) {
  // A child run (bench/isolate.ts): one suite, its result handed to the parent through a file.
  exitWithParent();
  const name = selected[0] as (typeof SUITES)[number];
  const r = await runSuites([factories[name]()], { mode, log });
  writeHandoff(values.child, r.suites[0]!, env);
  process.exit(0);
}

// tfjs suites run each in a child process unless --in-process: a backend runtime is never shared between them
// (encode starts a fresh process per measurement itself).
const ISOLATED = new Set(['forward', 'matmul']);
const passOn = process.argv
  .slice(2)
  .filter((a, i, all) => a !== '--suites' && all[i - 1] !== '--suites' && !a.startsWith('--suites='));
const suites: Suite[] = SUITES.map((name) => {
  if (!selected.includes(name)) return { name, title: name, run: async () => ({ skip: 'not selected (--suites)' }) };
  const s = factories[name]();
  return ISOLATED.has(name) && !values['in-process'] ? isolated(s, env, process.argv[1]!, passOn) : s;
});

const results = await runSuites(suites, {
  mode,
  log,
  settings: {
    mode,
    suites: selected,
    backends,
    ...overrides,
    isolation: values['in-process']
      ? 'one process (encode: a process per measurement)'
      : 'forward and matmul each in a child process; encode a process per measurement',
    budgets: 'per case, in each case result',
    node_options: process.env.NODE_OPTIONS ?? null,
  },
});
const file = saveResults(ROOT, results);
const html = htmlReport(results);
writeFileSync(file.replace(/\.json$/, '.html'), html);
writeFileSync(join(RESULTS_DIR(ROOT), `latest-${mode}.html`), html);
process.stdout.write(markdownReport(results) + '\n');
log(`results: ${file} (+ .html), ${results.elapsedS.toFixed(0)} s`);
const failed = results.suites.filter((s) => s.status === 'error');
if (failed.length) {
  log(`error: ${failed.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  process.exit(1);
}
