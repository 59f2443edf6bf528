// One forward of synthetic BERT-base per backend present: a grid of batch × sequence length (no padding,
// ids from `gridBatch`), and 256 STS-B test sentences in length-sorted batches of 32 (issue 4's figure).
// Slow shapes get fewer samples (budgetFor); a shape whose estimated time is over the cap is recorded as
// skipped with the estimate, not run (the plain-JS cpu backend at 32 × 512 would take most of an hour).
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName } from '../../src/backend/index.js';
import { BertModel } from '../../src/model/bert.js';
import { pool } from '../../src/model/pooling.js';
import type { AnchorCase, BenchEnv } from '../env.js';
import { BERT_BASE, batchesFlops } from '../flops.js';
import { budgetFor, type Suite, type SuiteContext } from '../harness.js';
import { gridBatch, sentenceBatches, stsSentences, type IdBatch } from '../inputs.js';
import type { Mode } from '../schema.js';

export const FULL_GRID: readonly [number, number][] = [1, 8, 32].flatMap((b) =>
  [16, 64, 128, 512].map((l): [number, number] => [b, l]),
);

export function gridFor(mode: Mode, backend: string): [number, number][] {
  if (mode === 'quick')
    return backend === 'cpu'
      ? [[1, 16]]
      : [
          [1, 16],
          [4, 32],
        ];
  return [...FULL_GRID];
}

/**
 * Seconds one call may be estimated to take before the case is skipped instead: in full mode the whole
 * grid runs on the real backends (32 × 512 on 1-core wasm takes minutes, sampled once), while the
 * plain-JS cpu backend, a reference at ~0.3 GFLOP/s, stops at shapes of about a minute.
 */
export function capS(mode: Mode, backend: string): number {
  if (mode === 'quick') return 10;
  return backend === 'cpu' ? 60 : 900;
}

/** First guesses of effective FLOP/s, replaced by the best measured rate as the grid runs. */
const GUESS_FLOPS: Record<string, number> = { tensorflow: 50e9, webgpu: 300e9, wasm: 15e9, cpu: 1e9 };

export const stsCount = (mode: Mode): number => (mode === 'quick' ? 16 : 256);

interface Uploaded {
  batches: { ids: tf.Tensor2D; mask: tf.Tensor2D }[];
  dispose(): void;
}

function upload(batches: readonly IdBatch[]): Uploaded {
  const up = batches.map((b) => ({
    ids: tf.tensor2d(b.inputIds, [b.batch, b.length], 'int32'),
    mask: tf.tensor2d(b.attentionMask, [b.batch, b.length], 'int32'),
  }));
  return { batches: up, dispose: () => up.forEach((u) => (u.ids.dispose(), u.mask.dispose())) };
}

/** Runs the batches; `await data()` so backends with asynchronous reads (webgpu) are timed to completion. */
async function forwardAll(model: BertModel, up: Uploaded): Promise<void> {
  for (const { ids, mask } of up.batches) {
    const out = model.forward({ inputIds: ids, attentionMask: mask });
    await out.lastHiddenState.data();
    out.lastHiddenState.dispose();
  }
}

async function meanPooled(model: BertModel, b: IdBatch): Promise<Float32Array> {
  const up = upload([b]);
  const { ids, mask } = up.batches[0]!;
  const out = model.forward({ inputIds: ids, attentionMask: mask });
  const pooled = pool(out.lastHiddenState, mask, 'mean');
  const data = (await pooled.data()) as Float32Array;
  tf.dispose([out.lastHiddenState, pooled]);
  up.dispose();
  return data;
}

export async function runShapes(
  ctx: SuiteContext,
  env: BenchEnv,
  backend: string,
  model: BertModel,
  shapes: readonly {
    name: string;
    params: Record<string, string | number>;
    batches: IdBatch[];
    sentences: number;
    anchor: boolean;
  }[],
): Promise<void> {
  const config = model.config;
  let rate = GUESS_FLOPS[backend] ?? 10e9;
  const heap: Record<string, number> = {};
  for (const s of shapes) {
    const flops = batchesFlops(
      config,
      s.batches.map((b) => [b.batch, b.length]),
    );
    const tokens = s.batches.reduce((a, b) => a + b.tokens, 0);
    const estimateS = flops / rate;
    const params = { backend, ...s.params };
    const name = `${backend} ${s.name}`;
    const cap = capS(ctx.mode, backend);
    const work = { sentences: s.sentences, tokens, flops };
    // PyTorch runs every shape of the anchor backend, also those tfjs could not: what they should reach.
    let anchor: AnchorCase | undefined;
    if (s.anchor && !env.anchorCases.some((a) => a.name === s.name)) {
      anchor = { name: s.name, params: s.params, batches: s.batches, work, tfjsS: estimateS };
      env.anchorCases.push(anchor);
    }
    const dead = env.deadBackends.get(backend);
    if (dead) {
      ctx.skipCase(name, `not run: the ${backend} runtime failed earlier in this process (${dead})`, params);
      continue;
    }
    if (estimateS > cap) {
      ctx.skipCase(
        name,
        `estimated ${estimateS.toFixed(0)} s per call at ${(rate / 1e9).toFixed(1)} GFLOP/s, over the ${cap} s cap of ${ctx.mode} mode for ${backend}`,
        params,
      );
      continue;
    }
    let up: Uploaded | undefined;
    const r = await ctx.runCase({
      name,
      params,
      work,
      setup: () => void (up = upload(s.batches)),
      fn: () => forwardAll(model, up!),
      teardown: () => up?.dispose(),
      budget: budgetFor(ctx.mode, estimateS),
    });
    const bytes = wasmHeapBytes();
    if (bytes !== undefined) heap[s.name] = bytes;
    if (r.status !== 'ok') {
      if (RUNTIME_DEAD.test(r.reason ?? '')) {
        if (bytes !== undefined)
          r.reason += ` (wasm heap at ${Math.round(bytes / 2 ** 20)} MiB; wasm32's limit is 4096 MiB)`;
        env.deadBackends.set(backend, `${s.name}: ${r.reason}`);
      }
      continue;
    }
    rate = Math.max(rate === GUESS_FLOPS[backend] ? 0 : rate, r.throughput.flopsPerSec!);
    if (anchor) {
      anchor.tfjsS = r.meanS;
      if (s.batches.length === 1 && s.batches[0]!.tokens <= 512)
        env.pooled.set(s.name, await meanPooled(model, s.batches[0]!));
    }
  }
  if (Object.keys(heap).length) ctx.note(`${backend} heap bytes after each case`, heap);
}

/**
 * Errors after which a backend's runtime is unusable in this process (an Emscripten abort, e.g. the wasm
 * heap reaching its 4 GB limit): later cases on it are skipped with this reason instead of failing too.
 */
export const RUNTIME_DEAD = /Aborted\(|memory access out of bounds|out of memory/i;

/** The wasm backend's heap size (it only grows): how much memory the largest forward so far needed. */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const w = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return w?.HEAPU8?.length;
}

/**
 * Smallest first: by the largest batch's token count (what the memory of one forward grows with), then
 * by FLOPs. Rates measured on small shapes set the estimates for big ones, and if a runtime dies at a
 * size it cannot hold, everything smaller has already been measured.
 */
function bySize(a: { batches: IdBatch[] }, b: { batches: IdBatch[] }): number {
  const peak = (s: { batches: IdBatch[] }) => Math.max(...s.batches.map((x) => x.batch * x.length));
  const flops = (s: { batches: IdBatch[] }) =>
    batchesFlops(
      BERT_BASE,
      s.batches.map((x) => [x.batch, x.length]),
    );
  return peak(a) - peak(b) || flops(a) - flops(b);
}

export function forwardSuite(env: BenchEnv): Suite {
  return {
    name: 'forward',
    title: 'One forward of synthetic BERT-base, per backend',
    async run(ctx) {
      const loaded = env.loaded();
      const sts = stsSentences('test', true).slice(0, env.overrides.sentences ?? stsCount(ctx.mode));
      const batchSize = env.overrides.batchSize ?? 32;
      const stsBatches = sentenceBatches(env.tokenizer(), sts, batchSize);
      const anchorBackend = env.backends.includes('wasm') ? 'wasm' : undefined;
      let ran = 0;
      for (const backend of env.backends) {
        let chosen;
        try {
          chosen = await setupBackend(backend as BackendName);
        } catch (e) {
          ctx.skipCase(`${backend} (backend)`, `backend not available: ${e instanceof Error ? e.message : String(e)}`, {
            backend,
          });
          continue;
        }
        // A software adapter (lavapipe) is a correctness tool, not a benchmark target, unless asked for by name.
        if (chosen.reason.includes('(software, slow)') && !env.overrides.backendsNamed) {
          ctx.skipCase(
            `${backend} (backend)`,
            `software adapter only (${chosen.reason}); --backends ${backend} times it anyway`,
            { backend },
          );
          continue;
        }
        ran++;
        const before = tf.memory().numTensors;
        const t0 = performance.now();
        const model = BertModel.load(loaded.config, loaded.weights);
        const info: Record<string, unknown> = { reason: chosen.reason, modelLoadS: (performance.now() - t0) / 1000 };
        if (backend === 'wasm') info.wasmThreads = wasmThreads();
        try {
          const shapes = [
            ...[...(env.overrides.grid ?? gridFor(ctx.mode, backend))].map(([b, l]) => ({
              name: `grid b${b}×l${l}`,
              params: { input: 'grid', batch: b, seqLen: l },
              batches: [gridBatch(b, l, loaded.config.vocabSize)],
              sentences: b,
              anchor: anchorBackend === undefined ? ran === 1 : backend === anchorBackend,
            })),
            {
              name: `sts-b test ${sts.length}, batch ${batchSize}`,
              params: { input: 'sts-b', sentences: sts.length, batch: batchSize },
              batches: stsBatches,
              sentences: sts.length,
              anchor: anchorBackend === undefined ? ran === 1 : backend === anchorBackend,
            },
          ].sort(bySize);
          // …except the largest, which goes first: wasm's heap never shrinks, and once smaller forwards have
          // cut it up, 32 × 512 (2.9 GiB at its peak on a fresh heap) no longer fits under wasm32's 4 GiB.
          if (shapes.length > 1) shapes.unshift(shapes.pop()!);
          await runShapes(ctx, env, backend, model, shapes);
        } finally {
          model.dispose();
          info.leakedTensors = tf.memory().numTensors - before;
          ctx.note(backend, info);
        }
      }
      if (ran === 0) return { skip: `no backend could start (${env.backends.join(', ')})` };
    },
  };
}

/** tfjs-backend-wasm's thread count when the threaded build runs (1 in Node: its SIMD build is single-threaded). */
function wasmThreads(): number | string {
  const b = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
  const f = b.wasm?.tfjs?.getThreadsCount;
  return typeof f === 'function' ? f() : 'single-threaded build';
}
