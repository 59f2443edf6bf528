// Servers for the tests: the tiny fixture model behind a real HTTP server on 127.0.0.1 (any free port), and a
// gate around the real executor so a test can hold the model while it queues requests, deterministically.
import { expect } from 'vitest';
import type { BatchJob } from '../../src/encoder/batches.js';
import type { BatchSettings } from '../../src/encoder/run-batch.js';
import type { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { type Executor, startExecutor } from '../../src/server/executor.js';
import { type SbertServer, type ServerOptions, startServer } from '../../src/server/server.js';
import { fixture } from '../fixtures.js';

export const TINY = fixture('tiny', 'st');

export async function tinyServer(opts: Partial<ServerOptions> = {}): Promise<SbertServer> {
  const server = await startServer({ model: TINY, backend: 'wasm', port: 0, ...opts });
  await server.ready;
  return server;
}

/** A gate: closed, the executor holds every batch before running it; opened, they all go. */
export class Gate {
  private waiting: (() => void)[] = [];
  private isOpen = true;
  /** Jobs that ran, in order. */
  readonly ran: { batch: number; length: number; ids: Int32Array; settings: BatchSettings }[] = [];
  /** Jobs the batcher handed over (running or held). */
  taken = 0;

  close(): void {
    this.isOpen = false;
  }

  open(): void {
    this.isOpen = true;
    for (const f of this.waiting.splice(0)) f();
  }

  wrap(inner: Executor): Executor {
    return {
      slots: inner.slots,
      where: inner.where,
      close: () => inner.close(),
      computeSeconds: () => inner.computeSeconds(),
      run: async (job: Omit<BatchJob, 'rows'>, settings: BatchSettings) => {
        this.taken++;
        if (!this.isOpen) await new Promise<void>((resolve) => this.waiting.push(resolve));
        this.ran.push({ batch: job.batch, length: job.length, ids: job.ids, settings });
        return inner.run(job, settings);
      },
    };
  }

  /** For ServerOptions.executor: the real one (in-process or workers), behind this gate. */
  executor(): (encoder: SentenceEncoder, workers: number) => Promise<Executor> {
    return async (encoder, workers) => this.wrap(await startExecutor(encoder, workers));
  }
}

/** Waits (bounded) until `cond` holds: for states the server reaches asynchronously, never a fixed sleep. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** POSTs `body` (an object is sent as JSON; a string as is) and reads the answer. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  return read(res);
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return read(await fetch(url, { headers }));
}

async function read(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** OpenAI's error object, checked field by field. */
export function expectOpenAiError(
  a: Answer,
  status: number,
  message: RegExp,
  param: string | null = null,
  code: string | null = null,
): void {
  expect(a.status, a.text).toBe(status);
  expect(a.headers.get('content-type')).toMatch(/^application\/json/);
  const e = (a.body as { error: Record<string, unknown> }).error;
  expect(Object.keys(a.body as object)).toEqual(['error']);
  expect(e.message).toMatch(message);
  expect(e.type).toBe(status >= 500 ? 'server_error' : 'invalid_request_error');
  expect(e.param).toBe(param);
  expect(e.code).toBe(code);
}

/** TEI's `{error, error_type}`. */
export function expectTeiError(a: Answer, status: number, message: RegExp, type: string): void {
  expect(a.status, a.text).toBe(status);
  expect(a.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(a.body as object).sort()).toEqual(['error', 'error_type']);
  const b = a.body as { error: string; error_type: string };
  expect(b.error).toMatch(message);
  expect(b.error_type).toBe(type);
}

/** Max |a − b| over rows. */
export function maxAbs(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i]!.length);
    for (let j = 0; j < row.length; j++) m = Math.max(m, Math.abs(row[j]! - b[i]![j]!));
  });
  return m;
}
