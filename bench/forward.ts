// Forward throughput of BERT-base (synthetic weights, SYNTHETIC.md) on STS-B test sentences, the way
// sentence-transformers' encode() batches them: length-sorted, batch 32, padded to each batch's longest,
// mean-pooled and read back. Also: how much of the forward is matmul, and the matmul-only ceiling.
//
//   npx tsc -p tsconfig.json && node dist/bench/forward.js [--backend wasm] [--sentences 256] [--batch-size 32]
//     [--runs 2] [--hooks] (adds a pass with a full activation cache, for the cost of hooks)
//     [--split] (adds a pass where each batch of 32 runs as length-homogeneous chunks: src/model/batching.ts)
//
// Three figures:
// - sentences/s: wall time of the whole pass (tokenization excluded, pooling and read-back included);
// - the kernel-time breakdown of one pass from tf.profile (matmul kernels vs the rest);
// - the ceiling: the same-shaped matmuls timed alone, on the model's own weights; 256 / that time is
//   what a forward that did nothing but its matmuls would reach (on webgpu: the matmul kernels' GPU time).
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, setupBackend } from '../src/backend/index.js';
import { parseHfConfig } from '../src/loader/config.js';
import { synthesize } from '../src/loader/synth.js';
import type { Linear } from '../src/layers/linear.js';
import { BertModel, type BertInputs } from '../src/model/bert.js';
import { runWithCache } from '../src/model/hooks.js';
import { splitByLength } from '../src/model/batching.js';
import { pool } from '../src/model/pooling.js';
import { BertTokenizer } from '../src/tokenizer/index.js';
import { corpus, fixture } from '../test/fixtures.js';
import { MATMUL_KERNELS } from './flops.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const backend = arg('backend', 'wasm') as BackendName;
const nSentences = Number(arg('sentences', '256'));
const batchSize = Number(arg('batch-size', '32'));
const withHooks = process.argv.includes('--hooks');

/** The first n sentences of the STS-B test split, both columns, in file order. */
function stsSentences(n: number): string[] {
  const out: string[] = [];
  for (const line of readFileSync(corpus('sts-b.test.tsv'), 'utf8').split('\n')) {
    const [a, b] = line.split('\t');
    for (const s of [a, b]) if (s && out.length < n) out.push(s);
  }
  return out;
}

interface Batch {
  ids: number[][];
  rows: number;
  len: number;
}

/** Longest first (as ST sorts), padded to each batch's longest. */
function makeBatches(tok: BertTokenizer, sentences: string[]): Batch[] {
  const enc = sentences.map((s) => tok.encode(s, { maxLength: 512 }).inputIds).sort((a, b) => b.length - a.length);
  const batches: Batch[] = [];
  for (let i = 0; i < enc.length; i += batchSize) {
    const ids = enc.slice(i, i + batchSize);
    batches.push({ ids, rows: ids.length, len: ids[0]!.length });
  }
  return batches;
}

/** Each batch of 32 run as length-homogeneous chunks (same results: rows are independent). */
function splitBatches(batches: Batch[]): Batch[] {
  return batches.flatMap((b) =>
    splitByLength(b.ids.map((r) => r.length)).map(([s, e]) => {
      const ids = b.ids.slice(s, e);
      return { ids, rows: ids.length, len: ids[0]!.length };
    }),
  );
}

function toInputs(b: Batch): BertInputs {
  const ids = new Int32Array(b.rows * b.len);
  const mask = new Int32Array(b.rows * b.len);
  b.ids.forEach((row, r) => {
    ids.set(row, r * b.len);
    mask.fill(1, r * b.len, r * b.len + row.length);
  });
  return {
    inputIds: tf.tensor2d(ids, [b.rows, b.len], 'int32'),
    attentionMask: tf.tensor2d(mask, [b.rows, b.len], 'int32'),
    tokenTypeIds: tf.zeros([b.rows, b.len], 'int32'),
  };
}

/** Wall and CPU seconds of `f` (CPU time is what other processes on a shared machine cannot inflate much). */
async function timed(f: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

async function encodeAll(model: BertModel, batches: Batch[], cache = false): Promise<void> {
  for (const b of batches) {
    const inputs = toInputs(b);
    let out;
    if (cache) {
      const r = runWithCache(model, inputs);
      out = r.output;
      r.cache.dispose();
    } else {
      out = model.forward(inputs);
    }
    const pooled = pool(out.lastHiddenState, inputs.attentionMask, 'mean');
    await pooled.data();
    tf.dispose([pooled, out.lastHiddenState, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds!]);
  }
}

/** Kernels that only relabel a tensor (no GPU dispatch, no data moved): not counted as kernels run. */
const NO_DISPATCH = new Set(['Reshape', 'Identity']);

/**
 * Kernel time by kernel name over one pass (tf.profile; on webgpu from GPU timestamp queries, each kernel
 * submitted alone), and how many kernels one pass runs (each costs a dispatch on a GPU).
 */
async function profile(model: BertModel, batches: Batch[]): Promise<{ byKernel: Map<string, number>; count: number }> {
  const byKernel = new Map<string, number>();
  let count = 0;
  for (const b of batches) {
    const inputs = toInputs(b);
    const info = await tf.profile(() => model.forward(inputs).lastHiddenState);
    for (const k of info.kernels) {
      if (k.name.endsWith('__op')) continue; // tf.profile lists op wrappers too
      if (!NO_DISPATCH.has(k.name)) count++;
      // Backends without kernel timers (webgpu without timestamp queries) report { error } instead of a number.
      if (typeof k.kernelTimeMs === 'number') byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + k.kernelTimeMs);
    }
    tf.dispose([info.result as tf.Tensor, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds!]);
  }
  return { byKernel, count };
}

/**
 * The forward's matmuls alone, same shapes, same weight tensors, through the model's own Linear: the CPU
 * backends' ceiling (a GPU's comes from its kernel timers). Inputs are made before timing.
 */
async function matmulsAlone(model: BertModel, batches: Batch[]): Promise<{ wall: number; cpu: number }> {
  const c = model.config;
  const [H, nh] = [c.hiddenSize, c.numAttentionHeads];
  const d = H / nh;
  const inputs = batches.map((b) => {
    const N = b.rows * b.len;
    return {
      x: tf.randomNormal([N, H]) as tf.Tensor2D,
      xi: tf.randomNormal([N, c.intermediateSize]) as tf.Tensor2D,
      q: tf.randomNormal([b.rows, nh, b.len, d]),
      p: tf.randomNormal([b.rows, nh, b.len, b.len]),
    };
  });
  const lin = (a: tf.Tensor2D, l: Linear) => l.forward(a);
  const pass = async (batches: typeof inputs) => {
    for (const { x, xi, q, p } of batches) {
      let last: tf.Tensor | undefined;
      for (const layer of model.encoder.layers) {
        const self = layer.attention.self;
        const outs = [
          lin(x, self.query),
          lin(x, self.key),
          lin(x, self.value),
          tf.matMul(q, q, false, true),
          tf.matMul(p, q),
        ];
        outs.push(lin(x, layer.attention.output.dense), lin(x, layer.intermediate.dense), lin(xi, layer.output.dense));
        last?.dispose();
        last = outs.pop();
        tf.dispose(outs);
      }
      // One read-back per batch, as the forward does.
      const probe = tf.slice(last!, [0, 0], [1, 1]);
      await probe.data();
      tf.dispose([probe, last!]);
    }
  };
  await pass(inputs.slice(0, 1)); // warm-up: XNNPACK packs each weight on first use
  const t = await timed(() => pass(inputs));
  tf.dispose(inputs.flatMap((i) => [i.x, i.xi, i.q, i.p]));
  return t;
}

async function main(): Promise<void> {
  const choice = await setupBackend(backend);
  const configFile = fixture('base', 'hf', 'config.json');
  const { config } = parseHfConfig(configFile, JSON.parse(readFileSync(configFile, 'utf8')));
  let t = performance.now();
  const model = BertModel.load(config, synthesize(config));
  const loadS = (performance.now() - t) / 1000;
  const tok = BertTokenizer.fromDir(fixture('base', 'hf'));
  const batches = makeBatches(tok, stsSentences(nSentences));
  const tokens = batches.reduce((s, b) => s + b.rows * b.len, 0);
  const real = batches.reduce((s, b) => s + b.ids.reduce((a, r) => a + r.length, 0), 0);
  console.log(`backend ${choice.name} (${choice.reason}); BERT-base synthetic, loaded in ${loadS.toFixed(1)} s`);
  console.log(
    `${nSentences} sentences, ${batches.length} batches of ≤ ${batchSize}, lengths ${batches.map((b) => b.len).join('/')}; ${tokens} padded tokens (${real} real)`,
  );

  await encodeAll(model, batches.slice(0, 1)); // warm-up: XNNPACK packs each weight on first use
  const rate = (t: { wall: number; cpu: number }): string =>
    `${(nSentences / t.wall).toFixed(2)} sentences/s wall, ${(nSentences / t.cpu).toFixed(2)} per CPU-second`;
  const runs: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < Number(arg('runs', '2')); i++) runs.push(await timed(() => encodeAll(model, batches)));
  const best = runs.reduce((a, b) => (b.cpu < a.cpu ? b : a));
  for (const r of runs)
    console.log(`forward: ${rate(r)} (${r.wall.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU per pass)`);

  const { byKernel, count } = await profile(model, batches);
  const kernelOnly = [...byKernel];
  const all = kernelOnly.reduce((a, [, v]) => a + v, 0);
  const mm = kernelOnly.filter(([k]) => MATMUL_KERNELS.has(k)).reduce((a, [, v]) => a + v, 0);
  const top = kernelOnly.sort((a, b) => b[1] - a[1]).slice(0, 14);
  if (all > 0)
    console.log(
      `tf.profile kernel time ${(all / 1000).toFixed(2)} s: matmul ${((100 * mm) / all).toFixed(1)} %, outside matmuls ${((100 * (all - mm)) / all).toFixed(1)} %`,
    );
  if (all > 0) console.log('  ' + top.map(([k, v]) => `${k} ${(v / 1000).toFixed(3)}s`).join(', '));
  // On a GPU the forward's wall time minus its kernel time is dispatch and host work (what fewer kernels save).
  console.log(
    `kernels per pass: ${count} (${(count / batches.length).toFixed(0)} per forward); kernel time ${(all / 1000).toFixed(2)} s of ${best.wall.toFixed(2)} s wall per pass`,
  );

  if (choice.name === 'webgpu') {
    // On a GPU the ceiling is the matmul kernels' own time (timestamp queries, above): a pass of the matmuls
    // alone would time the host's dispatching and the queue as much as the GPU work, and host CPU time is not
    // the work at all.
    if (mm > 0)
      console.log(
        `matmul kernels alone: ${(mm / 1000).toFixed(3)} s per pass → ceiling ${(nSentences / (mm / 1000)).toFixed(0)} sentences/s; the forward reaches ${((100 * mm) / 1000 / best.wall).toFixed(0)} % of it (wall time)`,
      );
  } else {
    const alone = await matmulsAlone(model, batches);
    console.log(
      `matmuls alone (same shapes, same weights): ${alone.wall.toFixed(2)} s wall, ${alone.cpu.toFixed(2)} s CPU per pass → ceiling ${rate(alone)}`,
    );
    console.log(
      `forward reaches ${((100 * alone.cpu) / best.cpu).toFixed(0)} % of the ceiling (CPU time); outside matmuls: ${((100 * (best.cpu - alone.cpu)) / best.cpu).toFixed(1)} % of forward CPU time`,
    );
  }

  if (process.argv.includes('--split')) {
    const chunks = splitBatches(batches);
    const padded = chunks.reduce((s, b) => s + b.rows * b.len, 0);
    await encodeAll(model, chunks.slice(0, 2));
    const split = await timed(() => encodeAll(model, chunks));
    const splitAlone = await matmulsAlone(model, chunks);
    console.log(
      `split by length: ${chunks.length} chunks, ${padded} padded tokens: ${rate(split)}; its matmuls alone → ceiling ${rate(splitAlone)}`,
    );
    const realAlone = (splitAlone.cpu * real) / padded;
    console.log(
      `(no padding at all, matmuls only, ${real} tokens: ≈ ${(nSentences / realAlone).toFixed(2)} per CPU-second)`,
    );
  }

  if (withHooks) {
    const cached = await timed(() => encodeAll(model, batches, true));
    console.log(
      `with a full activation cache (every hook point): ${rate(cached)} (${((100 * (cached.cpu - best.cpu)) / best.cpu).toFixed(1)} % more CPU time)`,
    );
  }
  model.dispose();
}

main().catch((e: unknown) => {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
