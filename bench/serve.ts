// Load benchmark of `sbert serve` on loopback: autocannon at 1, 16 and 64 concurrent clients, each request
// 1–16 STS-B test sentences (uniform, a fixed sequence over the distinct sentences in a fixed shuffled order, so
// that every stretch of it has the corpus's mix of lengths), against offline `SentenceEncoder.encode` of the first
// `--offline` texts of the same sequence (default: one whole pass over the distinct sentences, 2 456, the mix
// every level sees in the long run) on the same model and backend, timed before and after the server runs.
//   npm run bench:serve                          # synthetic BERT-base, wasm; ≈ 11 minutes
//   node dist/bench/serve.js --quick             # tiny model, 1 and 4 clients, seconds (a smoke run)
//   node dist/bench/serve.js [--model DIR] [--backend B] [--clients 1,16,64] [--duration 1:60,16:90,64:240]
//                            [--warmup 0.25] [--offline N] [--route openai|tei] [--workers N] [--batch-size N]
// Per level, one closed-loop run of D seconds; the first `warmup` × D seconds are not counted. Requests/s,
// sentences/s delivered and latencies are of the responses that completed after that; sentences/s computed is
// the server's own count of texts embedded in the same window (sbert_texts_total), its throughput: the delivered
// rate approaches it when the window is long beside one request's latency (clients × 8.5 sentences ÷ the rate).
// Errors (non-2xx, socket errors, timeouts) are counted over the whole run. Writes bench/results/<date>-serve.json
// and latest-serve.json (or only --out FILE); exits 1 if any request failed.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { BackendName } from '../src/backend/index.js';
import { encodeJobs } from '../src/encoder/batches.js';
import { SentenceEncoder } from '../src/encoder/sentence-encoder.js';
import { fixture, ROOT } from '../test/fixtures.js';
import { syntheticModelDir } from '../test/synthetic.js';
import { stsSentences } from './inputs.js';
import { machineInfo } from './machine.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    model: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    clients: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string', default: '0.25' },
    offline: { type: 'string' },
    route: { type: 'string', default: 'openai' },
    workers: { type: 'string' },
    'batch-size': { type: 'string', default: '32' },
    out: { type: 'string' },
  },
});

const quick = values.quick!;
const clients = (values.clients ?? (quick ? '1,4' : '1,16,64')).split(',').map(Number);
const durations = new Map<number, number>();
for (const part of (values.duration ?? (quick ? '1:4,4:4' : '1:60,16:90,64:240')).split(',')) {
  const [c, d] = part.includes(':') ? part.split(':').map(Number) : [undefined, Number(part)];
  if (c === undefined) for (const k of clients) durations.set(k, d!);
  else durations.set(c, d!);
}
const warmupFraction = Number(values.warmup);
const batchSize = Number(values['batch-size']);
const backend = values.backend as BackendName;
const route = values.route === 'tei' ? 'tei' : 'openai';
const log = (m: string) => process.stderr.write(`bench/serve: ${m}\n`);

const model = values.model ?? (quick ? fixture('tiny', 'st') : syntheticModelDir('base'));

/**
 * Request k's sentences: 1–16 of them (a fixed LCG), taken in turn from the distinct STS-B test sentences in a
 * fixed shuffled order. The file runs from short sentences (its first 512 average 14.5 tokens) to longer ones
 * (20.5 over all): unshuffled, the offline reference and each level would see different lengths.
 */
class RequestStream {
  private s = 12345;
  private at = 0;
  constructor(private readonly sentences: readonly string[]) {}
  next(): string[] {
    this.s = (Math.imul(this.s, 1103515245) + 12345) >>> 0;
    const n = 1 + ((this.s >>> 16) % 16);
    const out = Array.from({ length: n }, (_, i) => this.sentences[(this.at + i) % this.sentences.length]!);
    this.at += n;
    return out;
  }
}

/** `items` in a fixed pseudo-random order (Fisher–Yates over an LCG). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  let s = 2463534242;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const sentences = shuffled(stsSentences('test', true));
const offlineCount = Number(values.offline ?? (quick ? 64 : sentences.length));

interface OfflineResult {
  sentences: number;
  seconds: number;
  perSecond: number;
  /** The forwards `encode` ran: texts per forward, padded tokens per real token. */
  meanBatchSize: number;
  paddedPerToken: number;
  /** Real tokens per text (special tokens included): the mix's lengths. */
  tokensPerText: number;
  /** CPU seconds of this process (all its threads) per sentence. */
  cpuPerSentence: number;
}

async function offline(): Promise<OfflineResult> {
  const enc = await SentenceEncoder.load(model, { backend, workers: 1 });
  try {
    await enc.encode(sentences.slice(0, 8), { batchSize }); // uploads the model
    const stream = new RequestStream(sentences);
    const texts: string[] = [];
    while (texts.length < offlineCount) texts.push(...stream.next());
    texts.length = offlineCount;
    const jobs = encodeJobs(enc.tokenize(texts), batchSize, enc.tokenizer.padId, enc.batching);
    const tokens = enc.tokenize(texts).reduce((n, e) => n + e.inputIds.length, 0);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await enc.encode(texts, { batchSize });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      sentences: offlineCount,
      seconds,
      perSecond: offlineCount / seconds,
      meanBatchSize: offlineCount / jobs.length,
      paddedPerToken: jobs.reduce((n, j) => n + j.batch * j.length, 0) / tokens,
      tokensPerText: tokens / offlineCount,
      cpuPerSentence: (cpu.user + cpu.system) / 1e6 / offlineCount,
    };
  } finally {
    await enc.dispose();
  }
}

async function startServer(): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const args = [
    'serve',
    '--model',
    model,
    '--backend',
    backend,
    '--port',
    '0',
    '--log-level',
    'warn',
    '--batch-size',
    String(batchSize),
  ];
  if (values.workers !== undefined) args.push('--workers', values.workers);
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'sbert.js'), ...args], {
    env: { ...process.env, SBERT_QUIET: '0' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const ready = /^sbert: ready: .* on (http:\/\/\S+)$/m.exec(err);
      if (ready) resolve(ready[1]!);
    });
    void exited.then((code) => reject(new Error(`sbert serve exited with ${code}:\n${err}`)));
  });
  return { child, url, exited };
}

function sample(metrics: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : NaN;
}

interface Scrape {
  at: number;
  batches: number;
  batchTexts: number;
  texts: number;
  tokens: number;
  paddedTokens: number;
  compute: number;
  eventLoop: number;
  cpu: number;
  rss: number;
}

async function scrape(url: string): Promise<Scrape> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    at: performance.now(),
    batches: sample(text, 'sbert_batch_size_count'),
    batchTexts: sample(text, 'sbert_batch_size_sum'),
    texts: sample(text, 'sbert_texts_total'),
    tokens: sample(text, 'sbert_tokens_total'),
    paddedTokens: sample(text, 'sbert_batch_padded_tokens_sum'),
    compute: sample(text, 'sbert_forward_compute_seconds_total'),
    eventLoop: sample(text, 'sbert_event_loop_busy_seconds_total'),
    cpu: sample(text, 'process_cpu_seconds_total'),
    rss: sample(text, 'process_resident_memory_bytes'),
  };
}

interface LevelResult {
  clients: number;
  durationS: number;
  measuredS: number;
  requests: number;
  sentences: number;
  requestsPerSecond: number;
  /** Sentences of the responses that arrived after the warm-up, per second of it. */
  sentencesPerSecond: number;
  /** Texts the server embedded after the warm-up, per second (its sbert_texts_total). */
  computedPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  meanBatchSize: number;
  /** Padded tokens computed per real token (1 = no padding). */
  paddedPerToken: number;
  /** Real tokens per text embedded in the window (the mix the level saw). */
  tokensPerText: number;
  /** Share of the time the model computed (per slot; the rest it waited for the event loop or for work). */
  modelBusy: number;
  /** Share of the time the server's event loop was busy. */
  eventLoopBusy: number;
  /** The server process's CPU seconds (all threads) per text embedded. */
  cpuPerSentence: number;
  /** The server process's RSS (its worker threads included) after the run. */
  serverRssMiB: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function level(url: string, connections: number, durationS: number): Promise<LevelResult> {
  const stream = new RequestStream(sentences);
  const path = route === 'openai' ? '/v1/embeddings' : '/embed';
  const start = performance.now();
  const warmEnd = start + warmupFraction * durationS * 1000;
  const done: { at: number; ms: number; n: number }[] = [];
  const before = await scrape(url);
  // The server's own count of texts embedded, from the end of the warm-up to the end of the run: its
  // throughput, which the delivered count approaches only when the run is long beside one request's latency.
  let warm: Scrape | undefined;
  const warmTimer = setTimeout(() => {
    void scrape(url).then((m) => (warm = m));
  }, warmEnd - performance.now());
  const result = await autocannon({
    url: `${url}${path}`,
    connections,
    duration: durationS,
    timeout: 1200,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req, context) => {
          const input = stream.next();
          Object.assign(context, { n: input.length, sent: performance.now() });
          return { ...req, body: JSON.stringify(route === 'openai' ? { model: 'bench', input } : { inputs: input }) };
        },
        onResponse: (status, _body, context) => {
          const c = context as { n: number; sent: number };
          if (status === 200) done.push({ at: performance.now(), ms: performance.now() - c.sent, n: c.n });
        },
      },
    ],
  });
  clearTimeout(warmTimer);
  const after = await scrape(url);
  const afterAt = after.at;
  // Load-independent measures over the counted window (from the warm-up's end; the whole run if it never came).
  const w = warm ?? before;
  const windowS = (after.at - w.at) / 1000;
  const dTexts = after.texts - w.texts;
  const counted = done.filter((d) => d.at >= warmEnd);
  const measuredS = (start + durationS * 1000 - warmEnd) / 1000;
  const lat = counted.map((d) => d.ms).sort((a, b) => a - b);
  const n = counted.reduce((s, d) => s + d.n, 0);
  return {
    clients: connections,
    durationS,
    measuredS,
    requests: counted.length,
    sentences: n,
    requestsPerSecond: counted.length / measuredS,
    sentencesPerSecond: n / measuredS,
    computedPerSecond: warm ? (after.texts - warm.texts) / ((afterAt - warm.at) / 1000) : NaN,
    latencyP50Ms: percentile(lat, 50),
    latencyP99Ms: percentile(lat, 99),
    errors: result.errors,
    non2xx: result.non2xx,
    timeouts: result.timeouts,
    meanBatchSize: (after.batchTexts - w.batchTexts) / (after.batches - w.batches),
    paddedPerToken: (after.paddedTokens - w.paddedTokens) / (after.tokens - w.tokens),
    tokensPerText: (after.tokens - w.tokens) / dTexts,
    modelBusy: (after.compute - w.compute) / windowS,
    eventLoopBusy: (after.eventLoop - w.eventLoop) / windowS,
    cpuPerSentence: (after.cpu - w.cpu) / dTexts,
    serverRssMiB: after.rss / 2 ** 20,
  };
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const time = (ms: number) =>
  !Number.isFinite(ms) ? '–' : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;

log(`model ${model}, backend ${backend}, batch size ${batchSize}, route ${route}, clients ${clients.join(', ')}`);
log(`offline encode of ${offlineCount} sentences (before the server)`);
const offlineBefore = await offline();
const offlineLine = (o: OfflineResult) =>
  `${f(o.perSecond)} sentences/s, mean batch ${f(o.meanBatchSize)}, ${f(o.tokensPerText)} tokens/text, padded/real ${f(o.paddedPerToken, 3)}, CPU ${f(o.cpuPerSentence * 1000, 1)} ms/sentence`;
log(`offline: ${offlineLine(offlineBefore)}`);
const server = await startServer();
log(`server ready on ${server.url}`);
const levels: LevelResult[] = [];
try {
  for (const c of clients) {
    const d = durations.get(c) ?? 60;
    log(`${c} client${c === 1 ? '' : 's'}, ${d} s (first ${f(warmupFraction * d, 0)} s not counted)`);
    const r = await level(server.url, c, d);
    log(
      `${c}: ${f(r.sentencesPerSecond)} sentences/s delivered, ${f(r.computedPerSecond)} computed, p50 ${time(r.latencyP50Ms)}, errors ${r.errors + r.non2xx + r.timeouts}; ` +
        `mean batch ${f(r.meanBatchSize)}, ${f(r.tokensPerText)} tokens/text, padded/real ${f(r.paddedPerToken, 3)}, model busy ${f(r.modelBusy, 3)}, ` +
        `event loop busy ${f(r.eventLoopBusy, 3)}, CPU ${f(r.cpuPerSentence * 1000, 1)} ms/sentence`,
    );
    levels.push(r);
  }
} finally {
  server.child.kill('SIGTERM');
}
const exitCode = await server.exited;
log(`offline encode again (after the server; exit ${exitCode})`);
const offlineAfter = await offline();
log(`offline: ${offlineLine(offlineAfter)}`);
const offlineRate = (offlineBefore.perSecond + offlineAfter.perSecond) / 2;
const offlineTokenRate = offlineRate * offlineBefore.tokensPerText;

const machine = machineInfo();
const report = {
  kind: 'serve',
  machine,
  settings: {
    model,
    backend,
    batchSize,
    route,
    warmupFraction,
    offlineCount,
    workers: values.workers ?? 'default',
    loadGenerator: 'autocannon 9.0.0',
  },
  offline: { before: offlineBefore, after: offlineAfter, meanPerSecond: offlineRate },
  levels: levels.map((l) => ({
    ...l,
    ratioToOffline: l.computedPerSecond / offlineRate,
    deliveredRatioToOffline: l.sentencesPerSecond / offlineRate,
    /** Real tokens/s computed ÷ offline's: the same ratio free of any difference in the texts' lengths. */
    tokenRatioToOffline: (l.computedPerSecond * l.tokensPerText) / offlineTokenRate,
  })),
  serverExitCode: exitCode,
};
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const out = values.out ?? join(dir, `${machine.date.slice(0, 10)}-serve${quick ? '-quick' : ''}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
if (!values.out)
  writeFileSync(join(dir, `latest-serve${quick ? '-quick' : ''}.json`), `${JSON.stringify(report, null, 2)}\n`);

const lines = [
  `| clients | requests/s | sentences/s delivered | sentences/s computed | p50 latency | p99 latency | errors | mean batch | padded ÷ real tokens | tokens/text | server RSS | computed ÷ offline (delivered ÷ offline) | tokens/s ÷ offline |`,
  `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ...report.levels.map(
    (l) =>
      `| ${l.clients} | ${f(l.requestsPerSecond, 2)} | ${f(l.sentencesPerSecond)} | ${f(l.computedPerSecond)} | ${time(l.latencyP50Ms)} | ` +
      `${time(l.latencyP99Ms)} | ${l.errors + l.non2xx + l.timeouts} | ${f(l.meanBatchSize)} | ${f(l.paddedPerToken, 3)} | ${f(l.tokensPerText)} | ${f(l.serverRssMiB, 0)} MiB | ` +
      `${f(l.ratioToOffline, 2)} (${f(l.deliveredRatioToOffline, 2)}) | ${f(l.tokenRatioToOffline, 2)} |`,
  ),
  '',
  `Offline \`encode\` of the first ${offlineCount} texts of the same sequence (${f(offlineBefore.tokensPerText)} tokens/text), batch ${batchSize}, 1 process: ` +
    `${f(offlineBefore.perSecond)} sentences/s before the server ran, ${f(offlineAfter.perSecond)} after (mean ${f(offlineRate)}); mean batch ` +
    `${f(offlineBefore.meanBatchSize)}, padded ÷ real tokens ${f(offlineBefore.paddedPerToken, 3)}. ${machine.cpuModel}, ${machine.cores} cores, load average at the end ${machine.loadAverage.join(' / ')}.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
log(`wrote ${out}`);
const failed = levels.some((l) => l.errors + l.non2xx + l.timeouts > 0) || exitCode !== 0;
if (failed) process.exitCode = 1;
