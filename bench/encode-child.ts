// One `sbert encode` measured in a fresh process, phase by phase (bench/suites/encode.ts starts it, and times
// the whole process from outside): start-up = Node's start, the modules and the backend ready; load = the
// checkpoint and tokenizer read and the model uploaded; encode = SentenceEncoder.encode of the sentences (what
// `sbert encode` runs, less writing the output), first call and again; with worker threads, their start-up is
// in load when --workers was given (SentenceEncoder.load starts the pool), else in the first call. One JSON
// line on stdout; with --vectors, the first call's vectors as float32 [sentence, hidden] in that file.
//   node dist/bench/encode-child.js --model DIR --backend B --sentences FILE.json [--workers N] [--batch-size N]
//     [--vectors FILE.f32]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type BackendName, BackendUnavailable, setupBackend } from '../src/backend/index.js';
import { encodeJobs } from '../src/encoder/batches.js';
import { defaultWorkers, SentenceEncoder } from '../src/encoder/sentence-encoder.js';

/** The result line, or `{ unavailable }` when the backend cannot start here. */
export interface EncodeChildResult {
  backend: string;
  reason: string;
  /** The worker threads the encode ran on (the encoder's default where --workers was not given). */
  workers: number;
  /** The batching key its batches were cut by (`SentenceEncoder.batching`): what the anchors must cut by too. */
  batching: string;
  /** The encoder's token limit per sentence (what the anchors' batches are cut to as well). */
  maxSeqLength: number;
  /** Seconds since the process started until the backend was ready. */
  startupS: number;
  /** SentenceEncoder.load and the model's upload. */
  loadS: number;
  /** The first encode of all the sentences, and a second one (warm: kernels built, pool started). */
  encodeS: number;
  encodeAgainS: number;
  /** The process's CPU seconds (all threads) in those two calls. */
  encodeCpuS: number;
  encodeAgainCpuS: number;
  /** The first padded batch's mean-pooled vectors, row after row (checked against the anchors). */
  firstBatch: number[];
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    backend: { type: 'string' },
    sentences: { type: 'string' },
    workers: { type: 'string' },
    'batch-size': { type: 'string', default: '32' },
    vectors: { type: 'string' },
  },
});
if (!values.model || !values.backend || !values.sentences) {
  process.stderr.write(
    'usage: node dist/bench/encode-child.js --model DIR --backend B --sentences FILE.json [--workers N]\n',
  );
  process.exit(1);
}
const sentences = JSON.parse(readFileSync(values.sentences, 'utf8')) as string[];
const batchSize = Number(values['batch-size']);
const workers = values.workers === undefined ? undefined : Number(values.workers);

let choice: Awaited<ReturnType<typeof setupBackend>>;
try {
  choice = await setupBackend(values.backend as BackendName);
} catch (e) {
  if (!(e instanceof BackendUnavailable)) throw e;
  process.stdout.write(`${JSON.stringify({ unavailable: e.message })}\n`);
  process.exit(0);
}
const startupS = performance.now() / 1000; // performance's time origin is the process's start
let t = performance.now();
const enc = await SentenceEncoder.load(values.model, { backend: values.backend as BackendName, workers });
// In process, the weights are uploaded on first use: here, so that load includes it. A worker pool (each worker
// reading the shared weights and uploading its own copy) starts in load when --workers > 1 was given, else on the
// first encode.
const used = workers ?? defaultWorkers(choice.name, sentences.length);
if (used === 1) void enc.model;
const loadS = (performance.now() - t) / 1000;
const cpuS = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
};
t = performance.now();
let c = process.cpuUsage();
const vectors = await enc.encode(sentences, { batchSize });
const encodeS = (performance.now() - t) / 1000;
const encodeCpuS = cpuS(c);
t = performance.now();
c = process.cpuUsage();
await enc.encode(sentences, { batchSize });
const encodeAgainS = (performance.now() - t) / 1000;
const encodeAgainCpuS = cpuS(c);
if (values.vectors) {
  const flat = new Float32Array(vectors.length * enc.dimension);
  vectors.forEach((v, i) => flat.set(v, i * enc.dimension));
  writeFileSync(values.vectors, flat);
}
const first = encodeJobs(enc.tokenize(sentences), batchSize, enc.tokenizer.padId, enc.batching)[0]!;
const batching = enc.batching;
await enc.dispose();
const result: EncodeChildResult = {
  backend: choice.name,
  reason: choice.reason,
  workers: used,
  batching,
  maxSeqLength: enc.maxSeqLength,
  startupS,
  loadS,
  encodeS,
  encodeAgainS,
  encodeCpuS,
  encodeAgainCpuS,
  firstBatch: first.rows.flatMap((r) => Array.from(vectors[r]!)),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
