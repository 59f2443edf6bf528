// Prometheus metrics (prom-client), one registry per server: HTTP requests, errors and latency by route and
// status; the batcher's queue depth, queue waits, batch sizes and forward times; texts and tokens computed and
// the recent tokens/s; readiness; the process's own metrics (RSS, CPU, event-loop lag, GC).
import { performance as perfHooks } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchStats } from './batcher.js';

/** Label for requests that matched no route (keeps the label set bounded whatever URLs clients send). */
export const UNMATCHED_ROUTE = 'unmatched';
/** Status recorded for a request whose client disconnected before the answer (nginx's convention). */
export const CLIENT_CLOSED = 499;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Tokens/s is averaged over this many seconds of recent forwards. */
const RATE_WINDOW_S = 10;

export interface MetricsSource {
  inFlight(): number;
  queueDepth(): number;
  busy(): number;
  ready(): boolean;
  /** Seconds the model has spent computing forwards (0 before it is loaded). */
  computeSeconds(): number;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly errors: Counter<'route' | 'status'>;
  private readonly latency: Histogram<'route' | 'method' | 'status'>;
  private readonly batchSize: Histogram;
  private readonly batchTokens: Histogram;
  private readonly batchSeconds: Histogram;
  private readonly queueWait: Histogram;
  private readonly texts: Counter;
  private readonly tokens: Counter;
  /** [end time in s, tokens] of recent forwards. */
  private recent: [number, number][] = [];
  private readonly started = performance.now() / 1000;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'sbert_http_requests_total',
      help: 'HTTP requests answered, by route (the route pattern; "unmatched" for 404s), method and status (499: client went away)',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.errors = new Counter({
      name: 'sbert_http_request_errors_total',
      help: 'HTTP requests answered with a status of 400 or more, by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'sbert_http_request_duration_seconds',
      help: "Time from a request's arrival to its answer, by route, method and status",
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'sbert_http_requests_in_flight',
      help: 'HTTP requests being handled now (this scrape included)',
      registers,
      collect() {
        this.set(source.inFlight());
      },
    });
    new Gauge({
      name: 'sbert_queue_depth',
      help: 'Texts waiting for a forward (the autoscaling signal: load beyond what the replicas compute)',
      registers,
      collect() {
        this.set(source.queueDepth());
      },
    });
    new Gauge({
      name: 'sbert_forwards_running',
      help: 'Batches in the model now',
      registers,
      collect() {
        this.set(source.busy());
      },
    });
    new Counter({
      name: 'sbert_forward_compute_seconds_total',
      help: 'Seconds the model spent computing forwards; its rate is the share of time the model was busy (per slot)',
      registers,
      collect() {
        this.reset();
        this.inc(source.computeSeconds());
      },
    });
    const loopStart = perfHooks.eventLoopUtilization();
    new Counter({
      name: 'sbert_event_loop_busy_seconds_total',
      help: "Seconds the server's event loop was busy (HTTP, JSON, tokenization, responses); near 1/s it is saturated",
      registers,
      collect() {
        this.reset();
        this.inc(perfHooks.eventLoopUtilization(loopStart).active / 1000);
      },
    });
    new Gauge({
      name: 'sbert_ready',
      help: '1 when the model is loaded and requests are taken, else 0 (loading or shutting down)',
      registers,
      collect() {
        this.set(source.ready() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sbert_tfjs_tensors',
      help: "tfjs tensors alive in the server's thread (constant when nothing leaks; the model's when it runs there)",
      registers,
      collect() {
        this.set(tf.memory().numTensors);
      },
    });
    const self = this;
    new Gauge({
      name: 'sbert_tokens_per_second',
      help: `Real (unpadded) tokens computed per second over the last ${RATE_WINDOW_S} s`,
      registers,
      collect() {
        this.set(self.tokensPerSecond());
      },
    });
    this.queueWait = new Histogram({
      name: 'sbert_queue_wait_seconds',
      help: 'Time a text waited in the queue before its forward started',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchSize = new Histogram({
      name: 'sbert_batch_size',
      help: 'Texts per forward',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.batchTokens = new Histogram({
      name: 'sbert_batch_padded_tokens',
      help: 'Padded tokens per forward (texts × the longest)',
      buckets: [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'sbert_batch_duration_seconds',
      help: 'Time of one forward, read-back included',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.texts = new Counter({ name: 'sbert_texts_total', help: 'Texts embedded', registers });
    this.tokens = new Counter({ name: 'sbert_tokens_total', help: 'Real (unpadded) tokens computed', registers });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const labels = { route, method, status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
    if (status >= 400) this.errors.inc({ route, status: String(status) });
  }

  observeBatch(s: BatchStats): void {
    this.batchSize.observe(s.texts);
    this.batchTokens.observe(s.paddedTokens);
    this.batchSeconds.observe(s.seconds);
    for (const w of s.waits) this.queueWait.observe(w);
    this.texts.inc(s.texts);
    this.tokens.inc(s.tokens);
    this.recent.push([performance.now() / 1000, s.tokens]);
  }

  tokensPerSecond(): number {
    const t = performance.now() / 1000;
    this.recent = this.recent.filter(([end]) => end > t - RATE_WINDOW_S);
    const window = Math.min(RATE_WINDOW_S, Math.max(t - this.started, 1e-3));
    return this.recent.reduce((n, [, k]) => n + k, 0) / window;
  }
}
