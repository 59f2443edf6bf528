// A real browser for the explorer's end-to-end tests and benchmark: Debian's Chromium (apt-get install
// chromium), driven by playwright-core, headless, with a fresh profile; and `sbert explore` as a process to
// point it at. (Compiled with bench/, so it imports nothing from the tests but test/fixtures.ts.)
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from '../fixtures.js';

/** Chromium's binary, or why there is none (the tests then skip, saying so in one line). */
export function findChromium(): { path?: string; why?: string } {
  if (process.env.SBERT_CHROMIUM) return { path: process.env.SBERT_CHROMIUM };
  try {
    const path = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' })
      .trim()
      .split('\n')[0];
    if (path) return { path };
  } catch {
    // not on PATH
  }
  return { why: 'no chromium on PATH (apt-get install chromium, or SBERT_CHROMIUM=/path/to/chrome)' };
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
];

export interface Browser {
  context: BrowserContext;
  /** Console errors and uncaught exceptions of every page so far, with the page's URL. */
  errors: string[];
  /** Every URL any page requested. */
  requests: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launch(executablePath: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'sbert-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    timeout: 120_000,
  });
  const errors: string[] = [];
  const requests: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    errors,
    requests,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Explorer {
  child: ChildProcess;
  url: string;
  stderr(): string;
  stop(): Promise<void>;
}

/** `sbert explore ARGS --port 0`: waits for the URL it prints once the model is loaded (or for its exit). */
export async function explore(args: string[], timeoutMs = 120_000): Promise<Explorer> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'sbert.js'), 'explore', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, SBERT_PROGRESS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  const done = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sbert explore printed no URL in ${timeoutMs} ms: ${err}`)),
      timeoutMs,
    );
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(http:\/\/\S+\/)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void done.then(() => {
      clearTimeout(timer);
      reject(new Error(`sbert explore exited: ${err}`));
    });
  });
  return {
    child,
    url,
    stderr: () => err,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await done;
    },
  };
}
