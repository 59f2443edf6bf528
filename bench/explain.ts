// The explain benchmark (issue 19): one `explain` of two STS-B test sentences on synthetic BERT-base, integrated
// gradients with 52 steps, per backend present (each in a fresh process: a wasm heap only grows), and PyTorch
// autograd on the same ids and weights beside it (bench/anchors/pytorch_explain.py), whose attributions ours are
// checked against.
//   npm run bench:explain
//   node dist/bench/explain.js [--backends tensorflow,webgpu,wasm] [--pair 0] [--steps 52] [--runs 3] [--threads 1,2]
//                              [--model DIR] [--python python3] [--out DIR]
// Each backend: load, one untimed explanation (tfjs-wasm packs each weight matrix on first use, and the Linear
// layers make their transposed copies), then `runs` timed integrated-gradients explanations; also gradient × input
// and attention rollout, and one forward of the two sentences (encode) for scale. PyTorch: one untimed run, then
// `runs` timed, at each thread count.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BackendName } from '../src/backend/index.js';
import { SentenceEncoder } from '../src/encoder/sentence-encoder.js';
import { type AttributionMethod, explain, type Explanation } from '../src/explain/index.js';
import { messageOf } from '../src/errors.js';
import { ROOT } from '../test/fixtures.js';
import { syntheticModelDir } from '../test/synthetic.js';
import { stsSentences } from './inputs.js';
import { machineInfo } from './machine.js';

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    backends: { type: 'string', default: 'tensorflow,webgpu,wasm' },
    pair: { type: 'string', default: '0' },
    steps: { type: 'string', default: '52' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: `1,${availableParallelism()}` },
    model: { type: 'string' },
    python: { type: 'string', default: 'python3' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
  },
});
const log = (m: string) => process.stderr.write(`${m}\n`);
const model = values.model ?? syntheticModelDir('base');
const steps = Number(values.steps);
const runs = Number(values.runs);
// Pair p of sts-b.test.tsv (its line p + 1): sentences 2p and 2p + 1 of the file.
const sts = stsSentences('test');
const [a, b] = [sts[2 * Number(values.pair)]!, sts[2 * Number(values.pair) + 1]!];

interface ChildResult {
  backend: string;
  reason: string;
  loadS: number;
  firstS: number;
  igS: number[];
  gxiS: number[];
  rolloutS: number;
  forwardS: number;
  maxRssMiB: number;
  ig: Explanation;
}

const seconds = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
};

async function child(backend: BackendName): Promise<ChildResult> {
  let enc: SentenceEncoder | undefined;
  const loadS = await seconds(async () => {
    enc = await SentenceEncoder.load(model, { backend, workers: 1 });
    void enc.model; // uploads the weights
  });
  const e = enc!;
  const run = (method: AttributionMethod) => explain(e, a, b, { method, steps });
  const firstS = await seconds(() => run('integrated_gradients'));
  const igS: number[] = [];
  let ig: Explanation | undefined;
  for (let i = 0; i < runs; i++) igS.push(await seconds(async () => void (ig = await run('integrated_gradients'))));
  const gxiS: number[] = [];
  for (let i = 0; i < runs; i++) gxiS.push(await seconds(() => run('gradient_x_input')));
  const rolloutS = await seconds(() => run('attention_rollout'));
  const forwardS = await seconds(() => e.encode([a, b], { batchSize: 1 }));
  const reason = e.backend.reason;
  await e.dispose();
  return {
    backend,
    reason,
    loadS,
    firstS,
    igS,
    gxiS,
    rolloutS,
    forwardS,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    ig: ig!,
  };
}

if (values.child) {
  try {
    process.stdout.write(`${JSON.stringify(await child(values.child as BackendName))}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ backend: values.child, error: messageOf(e) })}\n`);
  }
  process.exit(0);
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const fmt = (s: number): string => (s >= 10 ? s.toFixed(1) : s.toFixed(2));

log(`explain benchmark: "${a}" / "${b}", ${steps} steps, ${runs} runs, model ${model}`);
const results: (ChildResult | { backend: string; error: string })[] = [];
for (const backend of values.backends!.split(',')) {
  log(`${backend}: running (a fresh process)...`);
  try {
    const stdout = execFileSync(
      process.execPath,
      [
        process.argv[1]!,
        '--child',
        backend,
        '--pair',
        values.pair!,
        '--steps',
        values.steps!,
        '--runs',
        values.runs!,
        '--model',
        model,
      ],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SBERT_QUIET: '1' },
      },
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult | { backend: string; error: string };
    results.push(r);
    log(`${backend}: ${'error' in r ? r.error : `integrated gradients ${r.igS.map(fmt).join(', ')} s`}`);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    const line = stderr.split('\n').find((l) => l.startsWith('error:')) ?? stderr.split('\n')[0]!;
    results.push({ backend, error: line });
    log(`${backend}: ${line}`);
  }
}

// PyTorch on the same ids and weights.
interface TorchResult {
  torch: string;
  threads: number;
  seconds: number[];
  similarity: number;
  a: number[];
  b: number[];
  completeness_error: { a: number; b: number };
}
const torch: (TorchResult | { threads: number; error: string })[] = [];
const ok = results.find((r): r is ChildResult => 'ig' in r);
mkdirSync(values.out!, { recursive: true });
if (ok) {
  const enc = await SentenceEncoder.load(model, { backend: 'cpu' });
  const [ea, eb] = enc.tokenize([a, b]);
  const caseFile = join(values.out!, 'explain-case.json');
  writeFileSync(
    caseFile,
    JSON.stringify({
      a: ea!.inputIds,
      b: eb!.inputIds,
      pad: enc.tokenizer.padId,
      keep: [enc.tokenizer.clsId, enc.tokenizer.sepId],
      steps,
    }),
  );
  await enc.dispose();
  for (const threads of values.threads!.split(',').map(Number)) {
    log(`PyTorch, ${threads} thread(s): running...`);
    try {
      const stdout = execFileSync(
        values.python!,
        [
          join(ROOT, 'bench', 'anchors', 'pytorch_explain.py'),
          '--case',
          caseFile,
          '--weights',
          join(model, 'model.safetensors'),
          '--config',
          join(model, 'config.json'),
          '--runs',
          values.runs!,
          '--threads',
          String(threads),
        ],
        { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      torch.push(JSON.parse(stdout) as TorchResult);
    } catch (err) {
      torch.push({ threads, error: String(err).split('\n')[0]! });
    }
  }
}

const agreement = (r: ChildResult, t: TorchResult): number =>
  Math.max(...(['a', 'b'] as const).flatMap((s) => r.ig[s].scores.map((v, i) => Math.abs(v - t[s][i]!))));

const tokens = ok ? `${ok.ig.a.tokens.length} + ${ok.ig.b.tokens.length} tokens` : '';
const lines = [
  `One explanation of "${a}" / "${b}" (${tokens}), ${values.model ? values.model : 'synthetic BERT-base'}, integrated gradients with ${steps} steps:`,
  '',
  '| backend | integrated gradients (s) | gradient × input (s) | attention rollout (s) | forward of the pair (s) | first call (s) | load (s) | peak RSS (MiB) | max abs Δ vs PyTorch |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
const firstTorch = torch.find((t): t is TorchResult => 'seconds' in t);
for (const r of results) {
  if ('error' in r) {
    lines.push(`| ${r.backend} | unavailable: ${r.error.replace(/\|/g, '/')} | | | | | | | |`);
    continue;
  }
  const d = firstTorch ? agreement(r, firstTorch).toExponential(1) : '';
  lines.push(
    `| ${r.backend} | ${fmt(median(r.igS))} (${r.igS.map(fmt).join(', ')}) | ${fmt(median(r.gxiS))} | ${fmt(r.rolloutS)} | ${fmt(r.forwardS)} | ${fmt(r.firstS)} | ${fmt(r.loadS)} | ${r.maxRssMiB.toFixed(0)} | ${d} |`,
  );
}
for (const t of torch) {
  if ('error' in t) lines.push(`| PyTorch, ${t.threads} thread(s) | failed: ${t.error} | | | | | | | |`);
  else
    lines.push(
      `| PyTorch ${t.torch}, ${t.threads} thread(s) | ${fmt(median(t.seconds))} (${t.seconds.map(fmt).join(', ')}) | | | | | | | |`,
    );
}
if (ok) {
  const e = ok.ig.completeness_error!;
  lines.push(
    '',
    `Completeness error (${ok.backend}): a ${e.a.toExponential(2)}, b ${e.b.toExponential(2)}; similarity ${ok.ig.similarity.toFixed(6)}.`,
  );
}
const machine = machineInfo();
lines.push(
  '',
  `Machine: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; load average at the end ${machine.loadAverage.map((x) => x.toFixed(1)).join(' / ')}; ${machine.date}.`,
);
process.stdout.write(`${lines.join('\n')}\n`);
const file = join(values.out!, `${machine.date.slice(0, 10)}-explain.json`);
writeFileSync(file, JSON.stringify({ machine, pair: [a, b], steps, runs, results, torch }, null, 1));
writeFileSync(join(values.out!, 'latest-explain.json'), readFileSync(file));
log(`wrote ${file}`);
