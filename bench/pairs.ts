// `sbert encode` on one backend against HF transformers on the very padded batches it ran, interleaved round
// by round, so that the ratio is honest on a machine whose speed drifts (by up to 20 % within minutes here).
// Each round runs both sides once, each in a fresh process: ours = bench/encode-child.ts (start-up, load, the
// first encode of the sentences and a second one, end to end: tokenization, batching, forward, pooling,
// read-back); HF = bench/anchors/hf_batches.py (BertModel forward + mean pooling on the same batches, a first
// pass and a second). The order alternates (ours, HF; HF, ours; ...), so over an even number of rounds a steady
// drift favours neither side. Ratios are HF's seconds ÷ ours, round by round: the table gives their median and
// min–max (a median of ratios, not the ratio of the median rates).
//
//   npm run bench:tensorflow   (= npm run build && node dist/bench/pairs.js --backend tensorflow)
//   node dist/bench/pairs.js [--backend tensorflow] [--sentences 256,2456] [--rounds 4] [--batch-size 32]
//     [--model DIR] [--hf-threads N] [--workers N]
//
// --model: a BERT checkpoint folder that both sides load (default: synthetic BERT-base, bench/checkpoints.ts).
// Exit 0 with one line on stderr when the backend cannot start here; HF's columns say why when no Python with
// torch and transformers is found ($SBERT_PYTHON, else python3).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BatchJob, batchingOf, encodeJobs } from '../src/encoder/batches.js';
import { loadTokenizer } from '../src/tokenizer/index.js';
import { syntheticBertBase } from './checkpoints.js';
import type { EncodeChildResult } from './encode-child.js';
import { ENCODE_CHILD, encodeChildArgs } from './encode-child-args.js';
import { type HfRun, hfPython, maxAbs, median, runHf, spread, writeBatches } from './hf-anchor.js';
import { stsSentences } from './inputs.js';
import { machineInfo } from './machine.js';

const CHILD_TIMEOUT_S = 3600;

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'tensorflow' },
    sentences: { type: 'string', default: '256,2456' },
    rounds: { type: 'string', default: '4' },
    'batch-size': { type: 'string', default: '32' },
    model: { type: 'string' },
    'hf-threads': { type: 'string' },
    workers: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node dist/bench/pairs.js [--backend tensorflow] [--sentences 256,2456] [--rounds 4] [--batch-size 32]\n' +
      '         [--model DIR] [--hf-threads N] [--workers N]\n',
  );
  process.exit(0);
}
function positive(name: string, v: string): number {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 1)) {
    process.stderr.write(`error: --${name} must be a positive integer, got ${v}\n`);
    process.exit(1);
  }
  return n;
}
const backend = values.backend;
const counts = values.sentences.split(',').map((s) => positive('sentences', s.trim()));
const rounds = positive('rounds', values.rounds);
const batchSize = positive('batch-size', values['batch-size']);
const hfThreads = values['hf-threads'] === undefined ? undefined : positive('hf-threads', values['hf-threads']);
const workers = values.workers === undefined ? undefined : positive('workers', values.workers);

interface Ours extends EncodeChildResult {
  vectors: Float32Array;
}

/** One fresh process of ours, or why the backend cannot start here. */
function runOurs(dir: string, file: string, work: string): Ours | { unavailable: string } {
  const out = join(work, 'ours.f32');
  const r = spawnSync(
    process.execPath,
    [ENCODE_CHILD, ...encodeChildArgs({ model: dir, backend, sentences: file, batchSize, workers, vectors: out })],
    { encoding: 'utf8', maxBuffer: 64 << 20, timeout: CHILD_TIMEOUT_S * 1000 },
  );
  if (r.status !== 0)
    throw new Error(`encode child: exit ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').pop()}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as EncodeChildResult | { unavailable: string };
  if ('unavailable' in res) return res;
  const bytes = readFileSync(out);
  return { ...res, vectors: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const times = (x: number) => `${x.toFixed(2)}×`;
/** Seconds in the progress lines: 3 significant digits, so that a round's ratio can be recomputed from them. */
const sec = (x: number) => x.toPrecision(3);

const dir = values.model ?? syntheticBertBase((m) => process.stderr.write(`${m}\n`)).dirs.safetensors;
const hidden = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { hidden_size: number }).hidden_size;
const tok = loadTokenizer(dir);
const py = hfPython();
const work = mkdtempSync(join(tmpdir(), 'sbert-bench-pairs-'));
const rows: string[] = [];
const labels = new Set<string>();
let batchingNote = '';
let unavailable: string | undefined;
try {
  for (const n of counts) {
    const sentences = stsSentences('test', true).slice(0, n);
    const file = join(work, `sentences-${n}.json`);
    writeFileSync(file, JSON.stringify(sentences));
    const batchesFile = join(work, `batches-${n}.json`);
    let jobs: BatchJob[] | undefined;
    const ours: Ours[] = [];
    const hf: HfRun[] = [];
    let round = 0;
    const log = (m: string) => process.stderr.write(`${n} sentences, round ${round + 1}/${rounds}: ${m}\n`);
    const oursOnce = () => {
      const r = runOurs(dir, file, work);
      if ('unavailable' in r) {
        unavailable = r.unavailable;
        return;
      }
      // The anchor runs the batches our first run cut (by its batching key); every later run must cut the same.
      if (!jobs) {
        const enc = sentences.map((s) => tok.encode(s, { maxLength: r.maxSeqLength }));
        jobs = encodeJobs(enc, batchSize, tok.padId, r.batching);
        writeBatches(jobs, batchesFile);
        batchingNote = batchingOf(r.batching);
      } else if (r.batching !== ours[0]!.batching)
        throw new Error(`runs cut by ${ours[0]!.batching} and ${r.batching}`);
      ours.push(r);
      labels.add(`${backend}: ${r.reason}`);
      log(
        `ours: start-up ${sec(r.startupS)} s, load ${sec(r.loadS)} s, encode ${sec(r.encodeS)} s, again ${sec(r.encodeAgainS)} s`,
      );
    };
    const hfOnce = () => {
      if (typeof py !== 'string') return;
      const r = runHf(py, dir, jobs!, batchesFile, hidden, { ...(hfThreads && { threads: hfThreads }) });
      hf.push(r);
      labels.add(`HF: ${r.label}`);
      log(`HF: first pass ${sec(r.firstSeconds)} s, again ${sec(r.seconds[0]!)} s`);
    };
    for (; round < rounds && unavailable === undefined; round++) {
      if (round % 2 === 0 || !jobs) {
        oursOnce();
        if (unavailable === undefined) hfOnce();
      } else {
        hfOnce();
        oursOnce();
      }
    }
    if (unavailable !== undefined) break;
    const tokens = jobs!.reduce((a, j) => a + j.batch * j.length, 0);
    const rate = (s: number) => n / s;
    const rateCell = (xs: number[]) => spread(xs.map(rate), f1);
    const ratios = (hs: number[], os: number[]) =>
      hf.length
        ? spread(
            hs.map((h, i) => h / os[i]!),
            times,
          )
        : '–';
    const hfCell = (xs: number[]) => (hf.length ? rateCell(xs) : `not run: ${(py as { missing: string }).missing}`);
    const diff = hf.length ? maxAbs(ours[0]!.vectors, hf[0]!.vectors).toExponential(1) : '–';
    const cpu = (xs: number[]) => f2(median(xs));
    rows.push(
      `| ${n} (${jobs!.length} forwards, ${tokens} padded tokens) | ${spread(
        ours.map((r) => r.startupS),
        f2,
      )} s | ${spread(
        ours.map((r) => r.loadS),
        f2,
      )} s | ${rateCell(ours.map((r) => r.encodeS))} | ${rateCell(ours.map((r) => r.encodeAgainS))} | ` +
        `${hfCell(hf.map((r) => r.firstSeconds))} | ${hfCell(hf.map((r) => r.seconds[0]!))} | ` +
        `${ratios(
          hf.map((r) => r.firstSeconds),
          ours.map((r) => r.encodeS),
        )} | ${ratios(
          hf.map((r) => r.seconds[0]!),
          ours.map((r) => r.encodeAgainS),
        )} | ` +
        `${cpu(ours.map((r) => r.encodeAgainCpuS))} / ${hf.length ? cpu(hf.map((r) => r.cpuSeconds[0]!)) : '–'} | ${diff} |`,
    );
    process.stderr.write(`${rows.at(-1)}\n`); // each row as soon as it is known: a long run may be cut short
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (unavailable !== undefined) {
  process.stderr.write(`bench:pairs: ${backend} is not available here: ${unavailable}\n`);
  process.exit(0);
}
const m = machineInfo();
const out = [
  `${values.model ? dir : 'BERT-base (synthetic weights)'}, STS-B test sentences, batch ${batchSize}; ${m.date.slice(0, 16)}Z, ${m.cpuModel}, ` +
    `${m.cores} cores, Node ${m.node}, load average ${m.loadAverage.join(' / ')} at the end; ${rounds} round${rounds > 1 ? 's' : ''}, ` +
    `each side a fresh process, in alternating order; the batches: ${batchingNote}.`,
  '',
  ...[...labels].map((l) => `- ${l}`),
  '',
  `| sentences | start-up | load | ${backend}, first call, sentences/s | again | HF transformers, first pass | again | ratio, first | ratio, again | CPU s a pass, again: ours / HF | max abs Δ pooled vs HF |`,
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
  '',
  'Cells: median over the rounds (min–max). Ratios: HF seconds ÷ ours, round by round (above 1: ours is faster), their',
  'median and min–max (a median of ratios, so not always the ratio of the median rates).',
  'Ours: `SentenceEncoder.encode` end to end in a fresh process (tokenization included); HF: BertModel forward +',
  'mean pooling on the same padded batches. Start-up and load are not in the encode rates.',
];
process.stdout.write(`${out.join('\n')}\n`);
