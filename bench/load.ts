// Load time and peak RSS of the synthetic BERT-base (≈ 407 MB of float32) from each checkpoint container.
// Each measurement is a fresh child process that only loads the folder and reports its own time and
// `process.resourceUsage().maxRSS`, so nothing the parent allocated is counted.
//   npx tsc -p tsconfig.json && node dist/bench/load.js [--runs 3] [--formats safetensors,torch-zip,torch-legacy]
// Targets (issue 3): ≤ 2 s, peak RSS ≤ 1.5 × the weights.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadModelDir } from '../src/loader/model-dir.js';
import { type CheckpointFormat, FORMATS, fileBytes, syntheticBertBase } from './checkpoints.js';

interface ChildResult {
  ms: number;
  maxRssBytes: number;
  weightsBytes: number;
  tensors: number;
}

function child(dir: string | undefined): void {
  // Touch the loader either way, so the baseline includes the same module graph.
  const t0 = performance.now();
  const m = dir ? loadModelDir(dir) : undefined;
  const ms = performance.now() - t0;
  let weightsBytes = 0;
  for (const t of m?.weights.tensors.values() ?? []) weightsBytes += t.data.byteLength;
  const r: ChildResult = {
    ms,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    weightsBytes,
    tensors: m?.weights.tensors.size ?? 0,
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

function runChild(dir?: string): ChildResult {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', dir ?? ''], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

const mb = (b: number) => (b / 1e6).toFixed(1);

function main(argv: string[]): void {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--child')) return child(arg('--child') || undefined);
  const runs = Number(arg('--runs') ?? 3);
  const formats = (arg('--formats')?.split(',') ?? [...FORMATS]) as CheckpointFormat[];
  const model = syntheticBertBase((m) => process.stderr.write(`${m}\n`));
  const base = runChild();
  console.log(
    `node ${process.version}, baseline process (loader imported, nothing loaded): maxRSS ${mb(base.maxRssBytes)} MB`,
  );
  console.log(
    'format        file MB  weights MB  load s (median of %d, min–max)  peak RSS MB  RSS/weights  (RSS−baseline)/weights',
    runs,
  );
  for (const format of formats) {
    const results = Array.from({ length: runs }, () => runChild(model.dirs[format]));
    const times = results.map((r) => r.ms / 1000).sort((a, b) => a - b);
    const rss = Math.max(...results.map((r) => r.maxRssBytes));
    const w = results[0]!.weightsBytes;
    console.log(
      `${format.padEnd(13)} ${mb(fileBytes(model.files[format])).padStart(7)}  ${mb(w).padStart(10)}  ` +
        `${times[runs >> 1]!.toFixed(3)} (${times[0]!.toFixed(3)}–${times.at(-1)!.toFixed(3)})`.padEnd(33) +
        `${mb(rss).padStart(11)}  ${(rss / w).toFixed(2).padStart(11)}  ${((rss - base.maxRssBytes) / w).toFixed(2).padStart(10)}`,
    );
  }
}

main(process.argv.slice(2));
