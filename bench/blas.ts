// The wasm backend with its matmuls on a system BLAS, against plain wasm and against HF transformers, in one
// run: SentenceEncoder.encode of STS-B test sentences (the first N distinct ones) on synthetic BERT-base,
// batch 32, and HF's BertModel on exactly the padded batches the encoder runs with the BLAS (its length-sorted
// batches, cut as it cuts them on wasm + BLAS: SentenceEncoder.batching), mean-pooled. Each pass runs every
// configuration once, in turn (A B C A B C ...), each in a fresh process, so a slow spell on a shared machine
// hits all of them and the per-pass ratios stay honest; the table gives medians and the min–max of the
// per-pass ratios.
//
//   npm run bench:blas   (= npm run build && node dist/bench/blas.js) [--sentences 256,2456] [--passes 2] [--batch-size 32]
//     [--configs blas,wasm,hf] [--blas-workers N] [--hf-threads N]
//
// Configurations: `blas` = --backend wasm with the BLAS found as `auto` finds it (SBERT_BLAS as set, else the
// usual names); `wasm` = the same with SBERT_BLAS=off (tfjs-wasm's XNNPACK matmuls; the encoder's default
// worker pool); `hf` = bench/anchors/hf_batches.py (torch.set_num_threads(cores); $SBERT_PYTHON or python3).
// Ours are timed end to end (tokenization, batching, forward, pooling, read-back), HF's forward + pooling only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '../src/backend/index.js';
import { type BatchJob, batchingOf, encodeJobs } from '../src/encoder/batches.js';
import { batchingKey, SentenceEncoder } from '../src/encoder/sentence-encoder.js';
import { BertTokenizer } from '../src/tokenizer/index.js';
import { syntheticBertBase } from './checkpoints.js';
import { hfPython, maxAbs, median, runHf, writeBatches } from './hf-anchor.js';
import { stsSentences } from './inputs.js';
import { machineInfo } from './machine.js';

type Config = 'blas' | 'wasm' | 'hf';
const CONFIGS: readonly Config[] = ['blas', 'wasm', 'hf'];
/** One configuration's run on the 2 456 sentences takes minutes on plain wasm; a hung one is cut off here. */
const CHILD_TIMEOUT_S = 3600;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const intArg = (name: string, fallback: number): number => {
  const v = Number(arg(name) ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
};

interface Run {
  seconds: number;
  cpuSeconds: number;
  /** The batching key its batches were cut by (ours; HF's are the `blas` runs'). */
  batching: string;
  /** What the backend or the anchor said about itself. */
  label: string;
  /** Pooled vectors, [sentence, hidden] in sentence order. */
  vectors: Float32Array;
}

/** The padded batches SentenceEncoder runs under batching key `key` (its `batching`), in its order. */
function encoderJobs(tok: BertTokenizer, sentences: readonly string[], batchSize: number, key: string): BatchJob[] {
  const enc = sentences.map((s) => tok.encode(s, { maxLength: 512 }));
  return encodeJobs(enc, batchSize, tok.padId, key);
}

/**
 * The batching key the `blas` configuration cuts by (`wasm+blas` where a BLAS loads, else `wasm`), from a child
 * that sets the backend up as the `blas` runs do: the anchor runs exactly those batches.
 */
function blasBatching(): string {
  const r = spawnSync(process.execPath, [process.argv[1]!, '--batching'], { encoding: 'utf8', timeout: 120_000 });
  const key = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !key)
    throw new Error(`the backend set-up probe exited with ${r.status ?? r.signal}: ${r.stderr}`);
  return key;
}

// --- a child: one configuration of ours, one timed encode -------------------------------------------------

async function child(out: string): Promise<void> {
  const dir = syntheticBertBase().dirs.safetensors;
  const sentences = stsSentences('test', true).slice(0, intArg('n', 256));
  const batchSize = intArg('batch-size', 32);
  const workers = arg('workers') ? intArg('workers', 1) : undefined;
  const enc = await SentenceEncoder.load(dir, { backend: 'wasm', quiet: true, ...(workers && { workers }) });
  try {
    // Warm-up: the kernels' first runs, and the worker pool's start when one is used.
    await enc.encode(sentences.slice(0, Math.min(sentences.length, 64)), { batchSize });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const vectors = await enc.encode(sentences, { batchSize });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const flat = new Float32Array(vectors.length * enc.dimension);
    vectors.forEach((v, i) => flat.set(v, i * enc.dimension));
    writeFileSync(`${out}.f32`, flat);
    writeFileSync(
      out,
      JSON.stringify({
        seconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        label: enc.backend.reason,
        batching: enc.batching,
      }),
    );
  } finally {
    await enc.dispose();
  }
}

// --- the parent ----------------------------------------------------------------------------------------

function runOurs(config: 'blas' | 'wasm', n: number, batchSize: number, work: string): Run {
  const out = join(work, `${config}-${n}.json`);
  const args = [process.argv[1]!, '--child', out, '--n', String(n), '--batch-size', String(batchSize)];
  const blasWorkers = arg('blas-workers');
  if (config === 'blas' && blasWorkers) args.push('--workers', blasWorkers);
  const env = { ...process.env, ...(config === 'wasm' && { SBERT_BLAS: 'off' }) };
  const r = spawnSync(process.execPath, args, {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: CHILD_TIMEOUT_S * 1000,
  });
  if (r.status !== 0) throw new Error(`${config} (${n} sentences) exited with ${r.status ?? r.signal}`);
  const res = JSON.parse(readFileSync(out, 'utf8')) as Omit<Run, 'vectors'>;
  const bytes = readFileSync(`${out}.f32`);
  return { ...res, vectors: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) };
}

function runHfRun(python: string, dir: string, jobs: BatchJob[], n: number, hidden: number, work: string): Run {
  const file = join(work, `batches-${n}.json`);
  writeBatches(jobs, file);
  const hfThreads = arg('hf-threads');
  const o = runHf(python, dir, jobs, file, hidden, { ...(hfThreads && { threads: intArg('hf-threads', 1) }) });
  return { seconds: o.seconds[0]!, cpuSeconds: o.cpuSeconds[0]!, label: o.label, vectors: o.vectors, batching: '' };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

async function parent(): Promise<void> {
  const counts = (arg('sentences') ?? '256,2456').split(',').map(Number);
  const passes = intArg('passes', 2);
  const batchSize = intArg('batch-size', 32);
  const configs = (arg('configs') ?? CONFIGS.join(',')).split(',') as Config[];
  for (const c of configs)
    if (!CONFIGS.includes(c))
      throw new Error(`--configs: unknown configuration ${c} (choose from ${CONFIGS.join(', ')})`);
  const model = syntheticBertBase((m) => process.stderr.write(`${m}\n`));
  const dir = model.dirs.safetensors;
  const tok = BertTokenizer.fromDir(dir);
  const py = configs.includes('hf') ? hfPython() : { missing: 'not asked for' };
  const key = blasBatching();
  const work = mkdtempSync(join(tmpdir(), 'sbert-bench-blas-'));
  const hidden = model.config.hiddenSize;
  const labels: Partial<Record<Config, string>> = {};
  const rows: string[] = [];
  try {
    for (const n of counts) {
      const sentences = stsSentences('test', true).slice(0, n);
      const jobs = encoderJobs(tok, sentences, batchSize, key);
      const tokens = jobs.reduce((a, j) => a + j.batch * j.length, 0);
      const runs: Partial<Record<Config, Run[]>> = {};
      for (let p = 0; p < passes; p++) {
        for (const c of configs) {
          if (c === 'hf' && typeof py !== 'string') continue;
          process.stderr.write(`pass ${p + 1}/${passes}: ${c}, ${sentences.length} sentences ... `);
          const r =
            c === 'hf'
              ? runHfRun(py as string, dir, jobs, sentences.length, hidden, work)
              : runOurs(c, sentences.length, batchSize, work);
          process.stderr.write(`${f2(r.seconds)} s (${f1(sentences.length / r.seconds)} sentences/s)\n`);
          if (c === 'blas' && r.batching !== key)
            throw new Error(
              `the blas run cut its batches by ${r.batching}, HF's were cut by ${key}: not the same work`,
            );
          labels[c] = r.label;
          (runs[c] ??= []).push(r);
        }
      }
      const rate = (c: Config) => (runs[c] ? sentences.length / median(runs[c].map((r) => r.seconds)) : undefined);
      const cell = (c: Config) => {
        const rs = runs[c];
        if (!rs) return c === 'hf' && typeof py !== 'string' ? `not run: ${py.missing}` : 'not run';
        const xs = rs.map((r) => sentences.length / r.seconds);
        return `${f1(rate(c)!)} (${f1(Math.min(...xs))}–${f1(Math.max(...xs))})`;
      };
      // Ratios pass by pair: run i of one configuration against run i of the other.
      const ratio = (a: Config, b: Config) => {
        const [ra, rb] = [runs[a], runs[b]];
        if (!ra || !rb) return '–';
        const xs = ra.map((r, i) => rb[i]!.seconds / r.seconds);
        return `${f2(median(xs))}× (${f2(Math.min(...xs))}–${f2(Math.max(...xs))})`;
      };
      const diff = runs.blas && runs.hf ? maxAbs(runs.blas[0]!.vectors, runs.hf[0]!.vectors).toExponential(1) : '–';
      rows.push(
        `| ${sentences.length} (${jobs.length} batches, ${tokens} padded tokens) | ${cell('blas')} | ${cell('wasm')} | ${cell('hf')} | ` +
          `${ratio('blas', 'hf')} | ${ratio('blas', 'wasm')} | ${diff} |`,
      );
      process.stderr.write(`${rows.at(-1)}\n`); // each row as soon as it is known: a long run may be cut short
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const m = machineInfo();
  const out = [
    `BERT-base (synthetic weights), STS-B test sentences, batch ${batchSize}; ${m.date.slice(0, 16)}Z, ${m.cpuModel}, ${m.cores} cores, ` +
      `Node ${m.node}, load average ${m.loadAverage.join(' / ')} at the end; ${passes} pass${passes > 1 ? 'es' : ''}, each configuration in turn; ` +
      `the batches counted (and HF's) are wasm + BLAS's (${batchingOf(key)}; plain wasm cuts by its own price).`,
    '',
    ...configs.map((c) => `- ${c}: ${labels[c] ?? 'not run'}`),
    '',
    '| sentences | wasm + BLAS, sentences/s | plain wasm | HF transformers | wasm + BLAS ÷ HF | wasm + BLAS ÷ plain wasm | max abs Δ pooled vs HF |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'Rates: median over the passes (min–max); ratios: median of the per-pass ratios (min–max). Ours: `SentenceEncoder.encode`',
    'end to end; HF: its BertModel forward + mean pooling on the same padded batches.',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

const childOut = arg('child');
if (process.argv.includes('--batching')) {
  await setupBackend('wasm');
  process.stdout.write(`${batchingKey('wasm')}\n`);
} else await (childOut ? child(childOut) : parent());
