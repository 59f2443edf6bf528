// The GPU benchmark (issue 8): SentenceEncoder.encode of the 2 456 distinct STS-B test sentences on a GPU
// backend at batch 32 and 128, with PyTorch on the same machine running the same padded batches beside it.
//   node dist/bench/gpu.js [--backend webgpu] [--model DIR] [--batches 32,128] [--out DIR] [--python python3]
// Each batch size: one untimed pass (WebGPU compiles a shader per new shape), then two timed passes; the
// best is reported. PyTorch times the forward only (ids already on the device, no tokenization or
// pooling), float32, eager, with torch.cuda.synchronize() — so the ratio flatters PyTorch slightly.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SentenceEncoder } from '../src/encoder/sentence-encoder.js';
import { BertTokenizer } from '../src/tokenizer/index.js';
import type { BackendName } from '../src/backend/index.js';
import { ROOT } from '../test/fixtures.js';
import { syntheticModelDir } from '../test/synthetic.js';
import { sentenceBatches, stsSentences, toRows } from './inputs.js';
import { machineInfo } from './machine.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    model: { type: 'string' },
    batches: { type: 'string', default: '32,128' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    python: { type: 'string', default: 'python3' },
    sentences: { type: 'string' },
  },
});
const log = (m: string) => process.stderr.write(`${m}\n`);
const model = values.model ?? syntheticModelDir('base');
const batchSizes = values.batches!.split(',').map(Number);
const all = stsSentences('test', true);
const sentences = values.sentences ? all.slice(0, Number(values.sentences)) : all;
mkdirSync(values.out!, { recursive: true });
const tokenizer = BertTokenizer.fromDir(model);

// PyTorch first (same machine, same padded batches, CUDA when it has it), before tfjs takes the GPU.
let torch: { device: string; torch: string; rows: { batch: number; sentencesPerSecond: number }[] } | { error: string };
try {
  const cases = batchSizes.map((bs) => ({
    name: `batch ${bs}`,
    batches: sentenceBatches(tokenizer, sentences, bs, 512).map(toRows),
    budget: { warmup: 1, minSamples: 2, maxTime: 0 },
  }));
  const casesFile = join(values.out!, 'gpu-cases.json');
  writeFileSync(casesFile, JSON.stringify({ cases }));
  const stdout = execFileSync(
    values.python!,
    [join(ROOT, 'bench', 'anchors', 'pytorch_bert.py'), '--cases', casesFile, '--weights', join(model, 'model.safetensors'), '--config', join(model, 'config.json'), '--device', 'auto'],
    { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const res = JSON.parse(stdout) as { torch: string; device: string; cases: { name: string; sampleS: number[] }[] };
  torch = {
    device: res.device,
    torch: res.torch,
    rows: res.cases.map((c, i) => ({ batch: batchSizes[i]!, sentencesPerSecond: sentences.length / Math.min(...c.sampleS) })),
  };
} catch (e) {
  torch = { error: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
}


const enc = await SentenceEncoder.load(model, { backend: values.backend as BackendName, workers: 1, quiet: true });
log(`backend ${enc.backend.name} (${enc.backend.reason}); ${sentences.length} sentences`);
interface Row { batch: number; sentencesPerSecond: number; coldSeconds: number; seconds: number[]; tokens: number; padded: number }
const rows: Row[] = [];
for (const batchSize of batchSizes) {
  const t0 = performance.now();
  await enc.encode(sentences, { batchSize });
  const cold = (performance.now() - t0) / 1000;
  const seconds: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t = performance.now();
    await enc.encode(sentences, { batchSize });
    seconds.push((performance.now() - t) / 1000);
  }
  const batches = sentenceBatches(enc.tokenizer, sentences, batchSize, enc.maxSeqLength);
  const row = {
    batch: batchSize,
    sentencesPerSecond: sentences.length / Math.min(...seconds),
    coldSeconds: cold,
    seconds,
    tokens: batches.reduce((a, b) => a + b.tokens, 0),
    padded: batches.reduce((a, b) => a + b.batch * b.length, 0),
  };
  rows.push(row);
  log(`batch ${batchSize}: ${row.sentencesPerSecond.toFixed(1)} sentences/s (cold pass ${cold.toFixed(1)} s)`);
}
await enc.dispose();

const result = { date: new Date().toISOString(), machine: machineInfo(), backend: enc.backend, sentences: sentences.length, rows, torch };
writeFileSync(join(values.out!, 'gpu-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
const t = 'rows' in torch ? torch : undefined;
console.log(`| backend | batch | sentences/s | PyTorch${t ? ` (${t.device}, torch ${t.torch})` : ''} sentences/s | ratio |`);
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const p = t?.rows.find((x) => x.batch === r.batch);
  console.log(`| ${enc.backend.name} | ${r.batch} | ${r.sentencesPerSecond.toFixed(0)} | ${p ? p.sentencesPerSecond.toFixed(0) : 'n/a'} | ${p ? (r.sentencesPerSecond / p.sentencesPerSecond).toFixed(2) : 'n/a'} |`);
}
if (!t) console.log(`\nPyTorch: ${'error' in torch ? torch.error : ''}`);
