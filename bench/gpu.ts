// The GPU benchmark (issue 8): SentenceEncoder.encode of the 2 456 distinct STS-B test sentences on a GPU
// backend at batch 32 and 128, with PyTorch on the same machine running the same padded batches beside it.
//   node dist/bench/gpu.js [--backend webgpu] [--model DIR] [--batches 32,128] [--matmul tfjs,tiled] [--out DIR]
//                          [--python python3 | --torch-json FILE] [--submit-batch 15,64] [--label TEXT]
// --submit-batch: tfjs-webgpu's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (dispatches recorded per queue submit), each
// measured in turn (default: as the backend sets it). PyTorch's result (speeds and the vectors checked against) is
// kept in torch.json; --torch-json reads one instead of running PyTorch again (a second run in another process,
// under other settings, on the same machine). --label names the run's rows (e.g. the Dawn flags it ran
// under, SBERT_WEBGPU_DAWN_FLAGS); its table and JSON then go to gpu-table-LABEL.md / gpu-LABEL.json.
// --matmul: each measured in turn on webgpu: `tfjs` = tfjs-webgpu's kernels only; `tiled` = our tiled matmul
// for the Linear layers, with LayerNorm and the activation fused (src/backend/webgpu/linear.ts, layer-norm.ts).
// The model is loaded once, under SBERT_WEBGPU_MATMUL (default auto): loaded with our kernels, Q, K and V are one
// [H, 3H] product, which `tfjs` rows then run on tfjs's matmul; for tfjs's kernels as they load, run the bench with
// SBERT_WEBGPU_MATMUL=tfjs.
// Each batch size: one untimed pass (WebGPU compiles a shader per new shape), then two timed passes; the
// best is reported. PyTorch times the forward only (ids already on the device, no tokenization or
// pooling), float32, eager, with torch.cuda.synchronize() — so the ratio flatters PyTorch slightly.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { planBatches } from '../src/encoder/batches.js';
import { SentenceEncoder } from '../src/encoder/sentence-encoder.js';
import { BertTokenizer } from '../src/tokenizer/index.js';
import type { BackendName } from '../src/backend/index.js';
import {
  setWebgpuMatmul,
  WEBGPU_MATMULS,
  WEBGPU_SUBMIT_FLAG as SUBMIT_FLAG,
  type WebgpuMatmul,
} from '../src/backend/webgpu/settings.js';
import * as tf from '@tensorflow/tfjs-core';
import { ROOT } from '../test/fixtures.js';
import { syntheticModelDir } from '../test/synthetic.js';
import { sentenceBatches, stsSentences, toRows } from './inputs.js';
import { machineInfo } from './machine.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    model: { type: 'string' },
    batches: { type: 'string', default: '32,128' },
    matmul: { type: 'string', default: 'tfjs,tiled' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    python: { type: 'string', default: 'python3' },
    'torch-json': { type: 'string' },
    'submit-batch': { type: 'string' },
    label: { type: 'string' },
    sentences: { type: 'string' },
  },
});
const log = (m: string) => process.stderr.write(`${m}\n`);
const model = values.model ?? syntheticModelDir('base');
const batchSizes = values.batches!.split(',').map(Number);
const matmuls = values.matmul!.split(',') as WebgpuMatmul[];
for (const m of matmuls)
  if (!WEBGPU_MATMULS.includes(m))
    throw new Error(`--matmul: unknown "${m}" (choose from ${WEBGPU_MATMULS.join(', ')})`);
const all = stsSentences('test', true);
const sentences = values.sentences ? all.slice(0, Number(values.sentences)) : all;
mkdirSync(values.out!, { recursive: true });
const tokenizer = BertTokenizer.fromDir(model);

// PyTorch first (same machine, same padded batches, CUDA when it has it), before tfjs takes the GPU.
let torchChecks: Record<string, number[]> = {};
let torch: { device: string; torch: string; rows: { batch: number; sentencesPerSecond: number }[] } | { error: string };
try {
  const cases = batchSizes.map((bs) => ({
    name: `batch ${bs}`,
    batches: sentenceBatches(tokenizer, sentences, bs, 512).map(toRows),
    budget: { warmup: 1, minSamples: 2, maxTime: 0 },
    check: true,
  }));
  const casesFile = join(values.out!, 'gpu-cases.json');
  writeFileSync(casesFile, JSON.stringify({ cases }));
  const run = () =>
    execFileSync(
      values.python!,
      [
        join(ROOT, 'bench', 'anchors', 'pytorch_bert.py'),
        '--cases',
        casesFile,
        '--weights',
        join(model, 'model.safetensors'),
        '--config',
        join(model, 'config.json'),
        '--device',
        'auto',
      ],
      { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] },
    );
  const stdout = values['torch-json'] ? readFileSync(values['torch-json'], 'utf8') : run();
  writeFileSync(join(values.out!, 'torch.json'), stdout);
  const res = JSON.parse(stdout) as {
    torch: string;
    device: string;
    cases: { name: string; sampleS: number[] }[];
    checks: Record<string, number[]>;
  };
  torchChecks = res.checks;
  torch = {
    device: res.device,
    torch: res.torch,
    rows: res.cases.map((c, i) => ({
      batch: batchSizes[i]!,
      sentencesPerSecond: sentences.length / Math.min(...c.sampleS),
    })),
  };
} catch (e) {
  torch = { error: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
}

const enc = await SentenceEncoder.load(model, { backend: values.backend as BackendName, workers: 1 });
log(`backend ${enc.backend.name} (${enc.backend.reason}); ${sentences.length} sentences`);
const onWebgpu = enc.backend.name === 'webgpu';
const submitBatches = values['submit-batch']?.split(',').map(Number) ?? [
  onWebgpu ? Number(tf.env().get(SUBMIT_FLAG)) : 0,
];
for (const n of submitBatches)
  if (values['submit-batch'] !== undefined && !(Number.isInteger(n) && n >= 1))
    throw new Error(`--submit-batch: "${values['submit-batch']}" is not a list of counts ≥ 1`);
interface Row {
  label?: string;
  matmul: WebgpuMatmul;
  submitBatch: number;
  batch: number;
  sentencesPerSecond: number;
  coldSeconds: number;
  seconds: number[];
  tokens: number;
  padded: number;
  maxAbsVsTorch?: number;
}
// Tokenization is part of each timed encode; timed here alone (the third of three runs, JIT warm) to say how much.
let tokenizeSeconds = 0;
let encodings: ReturnType<typeof tokenizer.encode>[] = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  encodings = sentences.map((s) => tokenizer.encode(s, { maxLength: 512 }));
  tokenizeSeconds = (performance.now() - t) / 1000;
}
log(`tokenizing the ${sentences.length} sentences alone: ${(tokenizeSeconds * 1000).toFixed(0)} ms`);
const rows: Row[] = [];
// The matmul choice only matters on webgpu; elsewhere one pass under the first name.
const variants = (onWebgpu ? matmuls : matmuls.slice(0, 1)).flatMap((matmul) =>
  submitBatches.map((submitBatch) => ({ matmul, submitBatch })),
);
for (const { matmul, submitBatch } of variants) {
  setWebgpuMatmul(matmul);
  if (onWebgpu) tf.env().set(SUBMIT_FLAG, submitBatch);
  for (const batchSize of batchSizes) {
    const t0 = performance.now();
    await enc.encode(sentences, { batchSize });
    const cold = (performance.now() - t0) / 1000;
    const seconds: number[] = [];
    let vectors: Float32Array[] = [];
    for (let i = 0; i < 2; i++) {
      const t = performance.now();
      vectors = await enc.encode(sentences, { batchSize });
      seconds.push((performance.now() - t) / 1000);
    }
    // The first (longest) batch's mean-pooled vectors against PyTorch's, computed on the same device.
    const want = torchChecks[`batch ${batchSize}`];
    let maxAbsVsTorch: number | undefined;
    if (want) {
      maxAbsVsTorch = 0;
      planBatches(encodings, batchSize)[0]!.forEach((r, i) => {
        const v = vectors[r]!;
        for (let j = 0; j < v.length; j++)
          maxAbsVsTorch = Math.max(maxAbsVsTorch!, Math.abs(v[j]! - want[i * v.length + j]!));
      });
    }
    const batches = sentenceBatches(enc.tokenizer, sentences, batchSize, enc.maxSeqLength);
    const row = {
      label: values.label,
      matmul,
      submitBatch,
      batch: batchSize,
      sentencesPerSecond: sentences.length / Math.min(...seconds),
      coldSeconds: cold,
      seconds,
      tokens: batches.reduce((a, b) => a + b.tokens, 0),
      padded: batches.reduce((a, b) => a + b.batch * b.length, 0),
      maxAbsVsTorch,
    };
    rows.push(row);
    log(
      `${values.label ? `${values.label}: ` : ''}${matmul} matmul, submit batch ${submitBatch}, batch ${batchSize}: ${row.sentencesPerSecond.toFixed(1)} sentences/s (cold pass ${cold.toFixed(1)} s), max abs vs PyTorch ${maxAbsVsTorch?.toExponential(2) ?? 'n/a'}`,
    );
  }
}
await enc.dispose();

const result = {
  date: new Date().toISOString(),
  machine: machineInfo(),
  backend: enc.backend,
  sentences: sentences.length,
  tokenizeSeconds,
  rows,
  torch,
};
const suffix = values.label ? `-${values.label.replace(/[^\w.-]+/g, '_')}` : '';
writeFileSync(
  join(values.out!, values.label ? `gpu${suffix}.json` : 'gpu-latest.json'),
  `${JSON.stringify(result, null, 2)}\n`,
);
const t = 'rows' in torch ? torch : undefined;
const lines: string[] = [];
lines.push(
  `| backend | run | kernels (SBERT_WEBGPU_MATMUL) | submit batch | batch | sentences/s | PyTorch${t ? ` (${t.device}, torch ${t.torch})` : ''} sentences/s | ratio | max abs vs PyTorch (first batch) |`,
);
lines.push('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const p = t?.rows.find((x) => x.batch === r.batch);
  lines.push(
    `| ${enc.backend.name} | ${r.label ?? 'default'} | ${r.matmul} | ${r.submitBatch} | ${r.batch} | ${r.sentencesPerSecond.toFixed(0)} | ${p ? p.sentencesPerSecond.toFixed(0) : 'n/a'} | ${p ? (r.sentencesPerSecond / p.sentencesPerSecond).toFixed(2) : 'n/a'} | ${r.maxAbsVsTorch?.toExponential(1) ?? 'n/a'} |`,
  );
}
if (!t) lines.push(`\nPyTorch: ${'error' in torch ? torch.error : ''}`);
// Dawn prints its own diagnostics on stdout, so the table also goes to a file of its own.
writeFileSync(join(values.out!, `gpu-table${suffix}.md`), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
