// Progress bars on stderr (cli-progress), shared by `download` (bytes) and `encode` (sentences).
// Off when the stream is not a terminal (pipes, CI logs) or when SBERT_PROGRESS=0.
import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';

// cli-progress is loaded only when a bar is drawn (on a terminal): pipes and CI logs never pay for it.
const require = createRequire(import.meta.url);

export interface ProgressOptions {
  /** Text before the bar, e.g. the file or model being processed. */
  label?: string;
  /** 'bytes' shows KiB/MiB and a transfer rate; anything else is a count of items with that name. */
  unit?: 'bytes' | string;
  /** Where to draw; stderr by default. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force on or off; by default on only when `stream` is a TTY and SBERT_PROGRESS is not 0. */
  enabled?: boolean;
}

export interface ProgressBar {
  readonly enabled: boolean;
  start(total: number, value?: number): void;
  update(value: number): void;
  increment(delta?: number): void;
  setTotal(total: number): void;
  setLabel(label: string): void;
  stop(): void;
}

export function progressEnabled(stream: { isTTY?: boolean } = process.stderr): boolean {
  const env = process.env.SBERT_PROGRESS;
  if (env !== undefined && /^(0|false|no|off)$/i.test(env)) return false;
  return stream.isTTY === true;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[u]}`;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number): string => String(x).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** One line: `label |=====-----| 42% 1.20 MiB/2.86 MiB 3.1 MiB/s eta 0:01`. */
export function formatLine(
  p: { value: number; total: number; elapsedMs: number; eta: number; label: string; unit: string },
  barsize = 30,
): string {
  const frac = p.total > 0 ? Math.min(1, p.value / p.total) : 0;
  const filled = Math.round(frac * barsize);
  const bar = '█'.repeat(filled) + '░'.repeat(barsize - filled);
  const rate = p.elapsedMs > 0 ? (p.value * 1000) / p.elapsedMs : 0;
  const bytes = p.unit === 'bytes';
  const amount = bytes ? `${formatBytes(p.value)}/${formatBytes(p.total)}` : `${p.value}/${p.total} ${p.unit}`;
  const speed = bytes ? `${formatBytes(Math.round(rate))}/s` : `${rate.toFixed(1)}/s`;
  const label = p.label ? `${p.label} ` : '';
  return `${label}|${bar}| ${Math.floor(frac * 100)}% ${amount} ${speed} eta ${formatEta(p.eta)}`;
}

const DISABLED: ProgressBar = {
  enabled: false,
  start() {},
  update() {},
  increment() {},
  setTotal() {},
  setLabel() {},
  stop() {},
};

export function createProgressBar(opts: ProgressOptions = {}): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  if (!(opts.enabled ?? progressEnabled(stream))) return DISABLED;
  const unit = opts.unit ?? 'items';
  let label = opts.label ?? '';
  const { SingleBar } = require('cli-progress') as typeof CliProgress;
  const bar = new SingleBar({
    stream: stream as NodeJS.WritableStream,
    // A forced-on bar on a non-TTY stream (tests, `enabled: true`) still draws.
    noTTYOutput: true,
    notTTYSchedule: 1000,
    fps: 8,
    hideCursor: false,
    clearOnComplete: false,
    format: (_options, params) =>
      formatLine({
        value: params.value,
        total: params.total,
        elapsedMs: (params.stopTime ?? Date.now()) - params.startTime,
        eta: params.eta,
        label,
        unit,
      }),
  });
  let running = false;
  return {
    enabled: true,
    start(total, value = 0) {
      bar.start(total, value);
      running = true;
    },
    update(value) {
      if (running) bar.update(value);
    },
    increment(delta = 1) {
      if (running) bar.increment(delta);
    },
    setTotal(total) {
      if (running) bar.setTotal(total);
    },
    setLabel(l) {
      label = l;
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
