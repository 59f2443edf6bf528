// Streaming `sbert encode` over a large synthetic input: throughput and peak RSS of the CLI process.
//   node dist/bench/encode-stream.js [--lines N] [--model DIR] [--workers N] [--batch-size N]
// The input is STS-B sentences repeated (numbered, so no two lines are equal) to N lines; the peak RSS
// is the child's VmHWM from /proc (Linux), read until it exits.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { corpus, fixture, ROOT } from '../test/fixtures.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    model: { type: 'string', default: fixture('tiny', 'st') },
    workers: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '128' },
  },
});
const lines = Number(values.lines);
const sentences = readFileSync(corpus('sts-b.train.tsv'), 'utf8')
  .split('\n')
  .flatMap((l) => l.split('\t').slice(0, 2))
  .filter((s) => s.length > 0);

const input = join(tmpdir(), `sbert-stream-${lines}.txt`);
const output = join(tmpdir(), `sbert-stream-${lines}.jsonl`);
const w = createWriteStream(input);
for (let i = 0; i < lines; i++) if (!w.write(`${sentences[i % sentences.length]}${i}\n`)) await once(w, 'drain');
w.end();
await once(w, 'close');

function vmHWM(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const t0 = performance.now();
const child = spawn(
  process.execPath,
  [
    join(ROOT, 'bin', 'sbert.js'),
    'encode',
    '--model',
    values.model!,
    '--input',
    input,
    '--output',
    output,
    '--workers',
    values.workers!,
    '--batch-size',
    values['batch-size']!,
  ],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, SBERT_PROGRESS: '0', SBERT_QUIET: '1' },
  },
);
let peak = 0;
const timer = setInterval(() => (peak = Math.max(peak, vmHWM(child.pid!))), 50);
const [code] = (await once(child, 'exit')) as [number];
clearInterval(timer);
const seconds = (performance.now() - t0) / 1000;
rmSync(input);
if (code !== 0) throw new Error(`sbert encode exited with ${code}`);
const outBytes = statSync(output).size;
rmSync(output);
console.log(
  JSON.stringify({
    lines,
    model: values.model,
    workers: Number(values.workers),
    seconds: Number(seconds.toFixed(1)),
    sentencesPerSecond: Math.round(lines / seconds),
    peakRssMiB: Math.round(peak / 2 ** 20),
    outputMiB: Math.round(outBytes / 2 ** 20),
  }),
);
