// The shared progress bar: formatting, and on/off rules (TTY only, SBERT_PROGRESS=0 turns it off).
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createProgressBar, formatBytes, formatLine, progressEnabled } from '../../src/cli/progress.js';

/** A stream that says it is (or is not) a terminal and keeps what is written to it. */
function fakeStream(isTTY: boolean): PassThrough & { isTTY: boolean; columns: number; text(): string } {
  const chunks: string[] = [];
  const s = Object.assign(new PassThrough(), { isTTY, columns: 120, text: () => chunks.join('') });
  s.on('data', (c: Buffer) => chunks.push(c.toString()));
  return s;
}

const saved = process.env.SBERT_PROGRESS;
afterEach(() => {
  if (saved === undefined) delete process.env.SBERT_PROGRESS;
  else process.env.SBERT_PROGRESS = saved;
});

describe('progress', () => {
  it('formats byte counts in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(2_961_523)).toBe('2.82 MiB');
    expect(formatBytes(409_000_000)).toBe('390.1 MiB');
  });

  it('formats a line for bytes and for sentences', () => {
    expect(
      formatLine({ value: 1_048_576, total: 4_194_304, elapsedMs: 2000, eta: 6, label: 'uer/x', unit: 'bytes' }, 8),
    ).toBe('uer/x |██░░░░░░| 25% 1.00 MiB/4.00 MiB 512.0 KiB/s eta 0:06');
    expect(formatLine({ value: 300, total: 2456, elapsedMs: 10_000, eta: 3725, label: '', unit: 'sentences' }, 4)).toBe(
      '|░░░░| 12% 300/2456 sentences 30.0/s eta 1:02:05',
    );
  });

  it('is on only for a terminal, and off with SBERT_PROGRESS=0', async () => {
    delete process.env.SBERT_PROGRESS;
    expect(progressEnabled({ isTTY: true })).toBe(true);
    expect(progressEnabled({ isTTY: false })).toBe(false);
    expect(progressEnabled({})).toBe(false);
    process.env.SBERT_PROGRESS = '0';
    expect(progressEnabled({ isTTY: true })).toBe(false);

    for (const [tty, env, drawn] of [
      [true, undefined, true],
      [false, undefined, false],
      [true, '0', false],
    ] as const) {
      if (env === undefined) delete process.env.SBERT_PROGRESS;
      else process.env.SBERT_PROGRESS = env;
      const stream = fakeStream(tty);
      const bar = createProgressBar({ stream, unit: 'sentences', label: 'encode' });
      expect(bar.enabled).toBe(drawn);
      bar.start(10);
      bar.increment(4);
      bar.update(10);
      bar.stop();
      await new Promise((r) => setImmediate(r));
      if (drawn) expect(stream.text()).toContain('encode |██████████████████████████████| 100% 10/10 sentences');
      else expect(stream.text()).toBe('');
    }
  });
});
