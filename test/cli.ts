// Runs the built CLI (`node bin/sbert.js`, compiled by test/global-setup.ts) in a child process.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, ROOT } from './fixtures.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  encoding?: 'utf8' | 'buffer';
  /** Report the child's peak RSS (`maxRssMiB`), measured inside it by test/max-rss.cjs. */
  measureRss?: boolean;
}

let rssFiles = 0;

/** Asynchronous, so servers in the test process keep answering while the child runs. */
export function sbert(
  args: string[],
  opts: RunOptions = {},
): Promise<Run & { stdoutBytes: Buffer; maxRssMiB?: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SBERT_PROGRESS: '0', SBERT_QUIET: '1', ...opts.env };
  const rssFile = opts.measureRss ? join(tmpdir(), `sbert-maxrss-${process.pid}-${rssFiles++}`) : undefined;
  if (rssFile) env.SBERT_TEST_MAXRSS = rssFile;
  const preload = rssFile ? ['--require', join(ROOT, 'test', 'max-rss.cjs')] : [];
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...preload, join(ROOT, 'bin', 'sbert.js'), ...args],
      { cwd: opts.cwd ?? ROOT, env, timeout: opts.timeoutMs ?? 120_000, encoding: 'buffer', maxBuffer: 1 << 30 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        const maxRssMiB = rssFile && existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : undefined;
        resolve({
          code,
          stdout: stdout.toString('utf8'),
          stdoutBytes: stdout,
          stderr: stderr.toString('utf8'),
          ...(rssFile ? { maxRssMiB } : {}),
        });
      },
    );
    // A command that stops at a bad line exits without reading the rest of its input: that is no error here.
    child.stdin?.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
    child.stdin?.end(opts.input ?? '');
  });
}

let backendExtra: Promise<number> | undefined;

/**
 * Peak RSS (MiB) the default backend adds over wasm's in a command that loads one (`sbert encode` of one line on the
 * tiny model): about 0 where `auto` takes wasm, ≈ 300 where it takes tfjs-node (libtensorflow's pages). Bounds on
 * the memory a command spends on its input are counted above it.
 */
export function defaultBackendExtraRssMiB(): Promise<number> {
  backendExtra ??= (async () => {
    const args = ['encode', '--model', fixture('tiny', 'st')];
    const auto = await sbert(args, { input: '你好\n', measureRss: true });
    const wasm = await sbert([...args, '--backend', 'wasm'], { input: '你好\n', measureRss: true });
    return Math.max(0, (auto.maxRssMiB ?? 0) - (wasm.maxRssMiB ?? 0));
  })();
  return backendExtra;
}

/** The one `error:` line a failing command must print (and nothing that looks like a stack trace). */
export function errorLine(run: Run): string {
  const lines = run.stderr.split('\n').filter((l) => l.startsWith('error:'));
  if (lines.length !== 1 || /\n\s+at /.test(run.stderr))
    throw new Error(`expected one error: line, got stderr:\n${run.stderr}`);
  return lines[0]!;
}
