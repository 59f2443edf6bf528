// Runs a tfjs suite in a child process (the same run.js with --child), so that what one suite does to a
// backend runtime (wasm's heap only grows, and an Emscripten abort leaves the module unusable) cannot
// change or break the suites after it. The child writes its SuiteResult, plus what later suites need
// from it (the anchor's batches, the pooled outputs), to a JSON file; the parent replays it.
import { spawn } from 'node:child_process';
import { fstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnchorCase, BenchEnv } from './env.js';
import type { Suite } from './harness.js';
import type { IdBatch } from './inputs.js';
import type { SuiteResult } from './schema.js';

interface Handoff {
  suite: SuiteResult;
  anchorCases: (Omit<AnchorCase, 'batches'> & {
    batches: (Omit<IdBatch, 'inputIds' | 'attentionMask'> & { inputIds: number[]; attentionMask: number[] })[];
  })[];
  pooled: [string, number[]][];
}

/** In the child: end when the parent does (its end of our stdin closes), so no orphan keeps running. */
export function exitWithParent(): void {
  if (!fstatSync(0).isFIFO()) return; // not started by isolated() (e.g. by hand): nothing to watch
  process.stdin.on('close', () => process.exit(1));
  process.stdin.on('end', () => process.exit(1));
  process.stdin.resume();
}

/** In the child: what the parent needs after the suite ran. */
export function writeHandoff(file: string, suite: SuiteResult, env: BenchEnv): void {
  const h: Handoff = {
    suite,
    anchorCases: env.anchorCases.map((c) => ({
      ...c,
      batches: c.batches.map((b) => ({
        ...b,
        inputIds: Array.from(b.inputIds),
        attentionMask: Array.from(b.attentionMask),
      })),
    })),
    pooled: [...env.pooled].map(([k, v]) => [k, Array.from(v)]),
  };
  writeFileSync(file, JSON.stringify(h));
}

/** In the parent: `suite` run by `node <run.js> --child FILE --suites <name> ...args`. */
/** A child that runs longer than this is killed and its suite reported as an error (a hung worker pool, ...). */
export const CHILD_TIMEOUT_S = { quick: 300, full: 3600 } as const;

export function isolated(suite: Suite, env: BenchEnv, script: string, args: readonly string[]): Suite {
  return {
    name: suite.name,
    title: suite.title,
    async run(ctx) {
      const dir = mkdtempSync(join(tmpdir(), 'sbert-bench-child-'));
      const file = join(dir, 'handoff.json');
      let timedOut = 0;
      try {
        const code = await new Promise<number | null>((resolve, reject) => {
          const child = spawn(process.execPath, [script, ...args, '--child', file, '--suites', suite.name], {
            // stdin: a pipe the child watches, so it ends with its parent; progress lines stream through stderr
            stdio: ['pipe', 'ignore', 'inherit'],
          });
          const stop = () => child.kill('SIGKILL');
          process.once('exit', stop);
          const limitS = CHILD_TIMEOUT_S[ctx.mode];
          const timer = setTimeout(() => {
            timedOut = limitS;
            child.kill('SIGKILL');
          }, limitS * 1000);
          child.on('error', reject);
          child.on('exit', (c, signal) => {
            clearTimeout(timer);
            process.off('exit', stop);
            resolve(signal ? -1 : c);
          });
        });
        if (timedOut)
          throw new Error(`the child process for suite ${suite.name} ran over ${timedOut} s and was killed`);
        let h: Handoff;
        try {
          h = JSON.parse(readFileSync(file, 'utf8')) as Handoff;
        } catch {
          throw new Error(
            `the child process for suite ${suite.name} exited with ${code === -1 ? 'a signal' : `code ${code}`} before writing its results`,
          );
        }
        for (const c of h.anchorCases) {
          env.anchorCases.push({
            ...c,
            batches: c.batches.map((b) => ({
              ...b,
              inputIds: Int32Array.from(b.inputIds),
              attentionMask: Int32Array.from(b.attentionMask),
            })),
          });
        }
        for (const [k, v] of h.pooled) env.pooled.set(k, Float32Array.from(v));
        for (const [k, v] of Object.entries(h.suite.notes)) ctx.note(k, v);
        ctx.note('process', 'child');
        for (const c of h.suite.cases) ctx.record(c);
        if (h.suite.status === 'skipped') return { skip: h.suite.reason ?? 'skipped' };
        if (h.suite.status === 'error' && h.suite.cases.every((c) => c.status !== 'error'))
          throw new Error(h.suite.reason ?? 'error');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
