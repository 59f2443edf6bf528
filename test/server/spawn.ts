// `sbert serve` as a child process (the built CLI), for what only a real process shows: flags, exit codes,
// signals.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../fixtures.js';
import { until } from './helpers.js';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Starts `sbert serve ARGS --port 0` and waits for its "ready" line (or its exit). */
export async function serve(
  args: string[],
  env: Record<string, string> = {},
  bin = join(ROOT, 'bin', 'sbert.js'),
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, SBERT_PROGRESS: '0', SBERT_QUIET: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  let done = false;
  void exited.then(() => (done = true));
  await until(() => done || /^sbert: ready: /m.test(err), 'the server to be ready', 120_000);
  const url = /listening on (http:\/\/\S+)/.exec(err)?.[1] ?? '';
  return { child, url, exited, stderr: () => err, stdout: () => out };
}
