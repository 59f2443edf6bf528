// The side-by-side anchors: the same batches (same ids, same weights file) through PyTorch on CPU, in the
// same run, via bench/anchors/pytorch_bert.py. Two of them:
//   pytorch       HF's BertModel written in plain torch ops (torch + numpy only; Debian: python3-torch +
//                 libopenblas0-pthread, run by /usr/bin/python3). Threads: one torch intra-op thread + OpenBLAS
//                 threads = cores, the fastest with Debian's torch; in full mode three combinations are measured
//                 first on one batch and the fastest is used.
//   transformers  HF transformers' own BertModel (what sentence-transformers runs), loaded from the model folder,
//                 torch intra-op threads = cores. Needs a python3 with torch + transformers (pip).
// Where no interpreter has what an anchor needs, its suite says so and skips.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../../test/fixtures.js';
import type { AnchorCase, BenchEnv } from '../env.js';
import { budgetFor, resultFromSamples, type Suite, type SuiteContext } from '../harness.js';
import { gridBatch, toRows } from '../inputs.js';

export const ANCHOR_SCRIPT = join(ROOT, 'bench', 'anchors', 'pytorch_bert.py');

export type AnchorImpl = 'plain' | 'transformers';

/** The first interpreter that imports `modules`: $SBERT_PYTHON, /usr/bin/python3, python3 on PATH. → its versions */
export function findPython(modules: readonly string[]): { python: string; versions: string[] } | { missing: string } {
  const tried: string[] = [];
  for (const py of [process.env.SBERT_PYTHON, '/usr/bin/python3', 'python3']) {
    if (!py || tried.includes(py)) continue;
    tried.push(py);
    if (py.startsWith('/') && !existsSync(py)) continue;
    const code = `import ${modules.join(', ')}; print(' '.join(m.__version__ for m in (${modules.join(', ')},)))`;
    const r = spawnSync(py, ['-c', code], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return { python: py, versions: r.stdout.trim().split(' ') };
  }
  return { missing: `no python3 with ${modules.join(' + ')} (tried ${tried.join(', ')})` };
}

/** The first interpreter that imports torch (the plain anchor's needs). */
export function findTorchPython(): { python: string; torch: string } | { missing: string } {
  const found = findPython(['torch']);
  return 'missing' in found
    ? { missing: `${found.missing}; Debian: apt-get install python3-torch libopenblas0-pthread` }
    : { python: found.python, torch: found.versions[0]! };
}

interface AnchorOutput {
  torch: string;
  transformers?: string;
  attnImplementation?: string;
  settings: Record<string, unknown>;
  weights: string;
  cases: { name: string; sampleS: number[]; cpuS?: number[] }[];
  checks: Record<string, number[]>;
}

function runAnchor(
  impl: AnchorImpl,
  python: string,
  weights: string,
  cases: object[],
  threads: { intra: number; openblas: number },
  timeoutS: number,
): AnchorOutput {
  const dir = mkdtempSync(join(tmpdir(), 'sbert-bench-anchor-'));
  try {
    const file = join(dir, 'cases.json');
    writeFileSync(file, JSON.stringify({ cases }));
    const args = [
      ANCHOR_SCRIPT,
      '--impl',
      impl,
      '--cases',
      file,
      '--weights',
      weights,
      '--threads',
      String(threads.intra),
    ];
    if (impl === 'transformers') args.push('--model-dir', dirname(weights));
    const r = spawnSync(python, args, {
      encoding: 'utf8',
      timeout: timeoutS * 1000,
      maxBuffer: 64 << 20,
      env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads.openblas), OMP_NUM_THREADS: String(threads.intra) },
    });
    if (r.error) throw new Error(`${ANCHOR_SCRIPT}: ${r.error.message}`);
    if (r.status !== 0)
      throw new Error(`${ANCHOR_SCRIPT}: exit ${r.status}: ${(r.stderr || '').trim().split('\n').pop()}`);
    return JSON.parse(r.stdout) as AnchorOutput;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Runs the anchor on every case the tfjs suites handed over and records them under `backend`. */
async function runCases(
  ctx: SuiteContext,
  env: BenchEnv,
  impl: AnchorImpl,
  backend: string,
  python: string,
  threads: { intra: number; openblas: number },
): Promise<AnchorOutput> {
  const weights = env.model().files.safetensors;
  const budgets = env.anchorCases.map((c: AnchorCase) => budgetFor(ctx.mode, c.tfjsS / 2));
  const cases = env.anchorCases.map((c, i) => ({
    name: c.name,
    batches: c.batches.map(toRows),
    budget: budgets[i],
    check: env.pooled.has(c.name),
  }));
  const out = runAnchor(impl, python, weights, cases, threads, ctx.mode === 'quick' ? 300 : 3600);
  ctx.note('settings', { ...out.settings, threadsChosen: threads });
  const checks: Record<string, number> = {};
  for (const [name, v] of Object.entries(out.checks)) checks[name] = maxAbsDiff(v, env.pooled.get(name)!);
  ctx.note('meanPooledMaxAbsDiff (tfjs vs torch)', checks);
  env.anchorCases.forEach((c, i) => {
    const got = out.cases.find((o) => o.name === c.name);
    if (!got) {
      ctx.skipCase(c.name, 'the anchor returned no timing for it', { backend, ...c.params });
      return;
    }
    const r = resultFromSamples(`${backend} ${c.name}`, { backend, ...c.params }, got.sampleS, c.work, budgets[i]!);
    if (got.cpuS?.length) {
      r.cpuSPerCall = got.cpuS.reduce((a, b) => a + b, 0) / got.cpuS.length;
      r.cpuPerWall = r.cpuSPerCall / r.meanS;
    }
    ctx.log(`${r.name}: ${(r.meanS * 1000).toFixed(2)} ms/op ±${r.marginPct.toFixed(1)}% (${r.samples} samples)`);
    ctx.record(r);
  });
  return out;
}

export function pytorchSuite(env: BenchEnv): Suite {
  return {
    name: 'pytorch',
    title: 'PyTorch on CPU, same batches and weights (anchor)',
    async run(ctx) {
      const found = findTorchPython();
      if ('missing' in found) return { skip: found.missing };
      if (env.anchorCases.length === 0) return { skip: 'no tfjs forward case ran to mirror' };
      const weights = env.model().files.safetensors;
      const cores = availableParallelism();
      let threads = { intra: 1, openblas: cores };
      if (ctx.mode === 'full' && cores > 1) {
        const probe = [
          { name: 'b8×l64', batches: [toRows(gridBatch(8, 64))], budget: { warmup: 1, minSamples: 3, maxTime: 0 } },
        ];
        const sweep: Record<string, number> = {};
        let best = Infinity;
        for (const t of [
          { intra: 1, openblas: cores },
          { intra: cores, openblas: 1 },
          { intra: cores, openblas: cores },
        ]) {
          const s = Math.min(...runAnchor('plain', found.python, weights, probe, t, 300).cases[0]!.sampleS);
          sweep[`intra ${t.intra} + openblas ${t.openblas}`] = s;
          if (s < best) {
            best = s;
            threads = t;
          }
        }
        ctx.note('threadSweep (best seconds, b8×l64)', sweep);
      }
      ctx.note('torch', found.torch);
      ctx.note('python', found.python);
      await runCases(ctx, env, 'plain', 'pytorch', found.python, threads);
    },
  };
}

export function transformersSuite(env: BenchEnv): Suite {
  return {
    name: 'transformers',
    title: "HF transformers' BertModel on CPU (torch, intra-op threads = cores), same batches and weights (anchor)",
    async run(ctx) {
      const found = findPython(['torch', 'transformers']);
      if ('missing' in found) return { skip: `${found.missing}; pip install torch transformers` };
      if (env.anchorCases.length === 0) return { skip: 'no tfjs forward case ran to mirror' };
      const cores = availableParallelism();
      ctx.note('torch', found.versions[0]);
      ctx.note('transformers', found.versions[1]);
      ctx.note('python', found.python);
      const out = await runCases(ctx, env, 'transformers', 'transformers', found.python, {
        intra: cores,
        openblas: cores,
      });
      ctx.note('attnImplementation', out.attnImplementation);
    },
  };
}
