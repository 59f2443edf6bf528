// Runs the built CLI in a child process and measures it: wall time and the child's own peak RSS (written by
// test/measure-preload.mjs from process.resourceUsage() at exit), behind a hang guard that kills the child.
// Tests assert memory bounds on these figures, never times: times are reported (`report`), not asserted.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Run, RunOptions } from './cli.js';
import { ROOT } from './fixtures.js';

export interface Measured extends Run {
  ms: number;
  /** The child's peak resident set, MiB (undefined when it was killed before it could say). */
  rssMiB: number | undefined;
  /** Killed by the hang guard. */
  hung: boolean;
}

const PRELOAD = pathToFileURL(join(ROOT, 'test', 'measure-preload.mjs')).href;

/** `sbert ARGS` in a child, measured; `timeoutMs` is a generous hang guard, not a limit the test asserts. */
export function sbertMeasured(args: string[], opts: RunOptions = {}): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'sbert-measure-'));
  const out = join(dir, 'rusage.json');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SBERT_PROGRESS: '0',
    SBERT_QUIET: '1',
    ...opts.env,
    MEASURE_RUSAGE_OUT: out,
  };
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', PRELOAD, join(ROOT, 'bin', 'sbert.js'), ...args],
      {
        cwd: opts.cwd ?? ROOT,
        env,
        timeout: opts.timeoutMs ?? 120_000,
        killSignal: 'SIGKILL',
        encoding: 'buffer',
        maxBuffer: 1 << 30,
      },
      (err, stdout, stderr) => {
        const ms = performance.now() - t0;
        const hung = err !== null && (err as { killed?: boolean }).killed === true;
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        let rssMiB: number | undefined;
        try {
          rssMiB = (JSON.parse(readFileSync(out, 'utf8')) as { maxRssKiB: number }).maxRssKiB / 1024;
        } catch {
          rssMiB = undefined;
        }
        rmSync(dir, { recursive: true, force: true });
        resolve({ code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), ms, rssMiB, hung });
      },
    );
    child.stdin?.end(opts.input ?? '');
  });
}

export interface Figure {
  what: string;
  ms: number;
  rssMiB?: number;
}

/** Prints measured figures as a table (the issue asks for them to be reported, not asserted). */
export function report(title: string, rows: Figure[]): void {
  const w = Math.min(
    90,
    rows.reduce((m, r) => Math.max(m, r.what.length), 0),
  );
  const lines = rows.map(
    (r) =>
      `  ${r.what.slice(0, 90).padEnd(w)}  ${r.ms.toFixed(0).padStart(6)} ms${r.rssMiB === undefined ? '' : `  ${r.rssMiB.toFixed(0).padStart(4)} MiB`}`,
  );
  console.log(`${title}\n${lines.join('\n')}`);
}
