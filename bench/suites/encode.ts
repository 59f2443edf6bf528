// End to end: `sbert encode` of STS-B test sentences (the first 256 and all 2 456 distinct ones; 16 in quick
// mode), batch 32, mean pooling, per backend, each measurement a fresh process (bench/encode-child.ts) timed
// phase by phase: start-up (Node, modules, the backend), load (checkpoint, tokenizer, weights uploaded), encode
// (first call: what a `sbert encode` run spends; and again, warm), plus the whole process from outside.
// Backends: those asked for except cpu (plain JS) and webgpu (bench:gpu covers GPUs) unless named; where a
// backend's default is a pool of workers (wasm without a BLAS from 256 sentences, tensorflow from 1 024), also
// one process alone. The padded batches each backend ran go to the anchors (PyTorch, HF transformers), which
// time the same batches.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchEnv } from '../env.js';
import type { EncodeChildResult } from '../encode-child.js';
import { ENCODE_CHILD, encodeChildArgs } from '../encode-child-args.js';
import { batchesFlops } from '../flops.js';
import { resultFromSamples, type Suite, type SuiteContext } from '../harness.js';
import { batchingOf } from '../../src/encoder/batches.js';
import { encodeBatches, stsSentences } from '../inputs.js';
import { CHILD_TIMEOUT_S } from '../isolate.js';

/** Sentence counts per mode: the issue's 256 and the whole distinct STS-B test set. */
export const encodeSizes = (mode: 'quick' | 'full', override?: number): number[] =>
  override ? [override] : mode === 'quick' ? [16] : [256, 2456];

type ChildOutput = EncodeChildResult | { unavailable: string };

function runChild(args: string[], timeoutS: number): Promise<{ result: ChildOutput; wallS: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [ENCODE_CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const stop = () => child.kill('SIGKILL');
    process.once('exit', stop);
    const timer = setTimeout(stop, timeoutS * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', stop);
      const wallS = (performance.now() - t0) / 1000;
      if (code !== 0) {
        const why = signal
          ? `killed by ${signal}${signal === 'SIGKILL' ? ` (over ${timeoutS} s?)` : ''}`
          : `exit ${code}`;
        reject(new Error(`encode child ${why}: ${err.trim().split('\n').pop() ?? ''}`));
        return;
      }
      try {
        resolve({ result: JSON.parse(out.trim().split('\n').pop()!) as ChildOutput, wallS });
      } catch {
        reject(new Error(`encode child printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** One measurement, recorded; → the worker threads it ran on (0 when it did not run). */
async function measure(
  ctx: SuiteContext,
  env: BenchEnv,
  backend: string,
  sentences: string[],
  file: string,
  workers: number | undefined,
): Promise<number> {
  const batchSize = env.overrides.batchSize ?? (ctx.mode === 'quick' ? 8 : 32);
  const n = sentences.length;
  // The batches as cut by `key`: the backend's name until the child says which key it cut by (`wasm+blas` on a
  // BLAS), then the child's, so the work counted and the anchors' batches are what it ran.
  const batchesOf = (key: string) => {
    const batches = encodeBatches(env.tokenizer(), sentences, batchSize, key);
    const work = {
      sentences: n,
      tokens: batches.reduce((a, b) => a + b.tokens, 0),
      flops: batchesFlops(
        env.model().config,
        batches.map((b) => [b.batch, b.length]),
      ),
    };
    return { batches, work };
  };
  let { batches, work } = batchesOf(backend);
  const label = `${backend} sbert encode ${n} sentences${workers === undefined ? '' : `, ${workers} worker${workers > 1 ? 's' : ''}`}`;
  let batching = batchingOf(backend);
  const params = {
    backend,
    input: 'sts-b-encode',
    sentences: n,
    batch: batchSize,
    batching,
    workers: workers ?? 'default',
  };
  const args = encodeChildArgs({
    model: env.model().dirs.safetensors,
    backend,
    sentences: file,
    batchSize,
    ...(workers !== undefined && { workers }),
  });
  ctx.log(`${label} ...`);
  let got: Awaited<ReturnType<typeof runChild>>;
  try {
    got = await runChild(args, CHILD_TIMEOUT_S[ctx.mode]);
  } catch (e) {
    ctx.record({
      ...resultFromSamples(label, params, [], work, null),
      reason: e instanceof Error ? e.message : String(e),
    });
    return 0;
  }
  if ('unavailable' in got.result) {
    ctx.skipCase(label, `backend not available: ${got.result.unavailable}`, params);
    return 0;
  }
  const r = got.result;
  if (r.batching !== backend) {
    ({ batches, work } = batchesOf(r.batching));
    batching = batchingOf(r.batching);
    params.batching = batching;
  }
  const first = resultFromSamples(label, { ...params, call: 'first' }, [r.encodeS], work, null);
  const again = resultFromSamples(`${label}, again`, { ...params, call: 'again' }, [r.encodeAgainS], work, null);
  for (const c of [first, again]) {
    ctx.log(`${c.name}: ${c.meanS.toFixed(2)} s, ${c.throughput.sentencesPerSec!.toFixed(1)} sentences/s`);
    ctx.record(c);
  }
  const phases = {
    startupS: r.startupS,
    loadS: r.loadS,
    encodeS: r.encodeS,
    encodeAgainS: r.encodeAgainS,
    encodeCpuS: r.encodeCpuS,
    encodeAgainCpuS: r.encodeAgainCpuS,
    wholeProcessS: got.wallS,
  };
  ctx.note(label, { ...phases, workers: r.workers, reason: r.reason });
  // The anchors run these very batches (once per distinct batching of a sentence count).
  const name = `encode ${n} sentences (${batching})`;
  if (!env.anchorCases.some((a) => a.name === name)) {
    const { backend: _, workers: __, ...same } = params;
    env.anchorCases.push({ name, params: same, batches, work, tfjsS: r.encodeAgainS });
    env.pooled.set(name, Float32Array.from(r.firstBatch));
  }
  return r.workers;
}

export function encodeSuite(env: BenchEnv): Suite {
  return {
    name: 'encode',
    title: '`sbert encode` of STS-B test sentences, per backend: start-up, load, encode (a fresh process each)',
    async run(ctx) {
      // cpu (plain JS) and webgpu (bench:gpu times it on GPU machines) only when --backends names them
      const backends = env.backends.filter((b) => (b !== 'cpu' && b !== 'webgpu') || env.overrides.backendsNamed);
      if (!backends.length)
        return { skip: 'no backend requested (cpu and webgpu run here only when --backends names them)' };
      const all = stsSentences('test', true);
      const dir = mkdtempSync(join(tmpdir(), 'sbert-bench-encode-'));
      try {
        for (const n of encodeSizes(ctx.mode, env.overrides.sentences)) {
          const sentences = all.slice(0, n);
          const file = join(dir, `sentences-${n}.json`);
          writeFileSync(file, JSON.stringify(sentences));
          for (const backend of backends) {
            // Each backend's default; where that is a pool of workers (defaultWorkers), also one process alone.
            const pooled = await measure(ctx, env, backend, sentences, file, undefined);
            if (pooled > 1) await measure(ctx, env, backend, sentences, file, 1);
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
