// Load benchmark of `sbert serve` on loopback: autocannon at 1, 16 and 64 concurrent clients, each request
// 1–16 STS-B test sentences (uniform, a fixed sequence), against offline `SentenceEncoder.encode` of the same
// sentences on the same model and backend, timed before and after the server runs.
//   npm run bench:serve                          # synthetic BERT-base, wasm; ≈ 10 minutes
//   node dist/bench/serve.js --quick             # tiny model, 1 and 4 clients, seconds (a smoke run)
//   node dist/bench/serve.js [--model DIR] [--backend B] [--clients 1,16,64] [--duration 1:60,16:90,64:240]
//                            [--warmup 0.25] [--offline 512] [--route openai|tei] [--workers N] [--batch-size N]
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
const offlineCount = Number(values.offline ?? (quick ? 64 : 512));
const batchSize = Number(values['batch-size']);
const backend = values.backend as BackendName;
const route = values.route === 'tei' ? 'tei' : 'openai';
const log = (m: string) => process.stderr.write(`bench/serve: ${m}\n`);

const model = values.model ?? (quick ? fixture('tiny', 'st') : syntheticModelDir('base'));

/** Request k's sentences: 1–16 of them (a fixed LCG), taken in turn from the distinct STS-B test sentences. */
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

const sentences = stsSentences('test', true);

async function offline(): Promise<{ sentences: number; seconds: number; perSecond: number }> {
  const enc = await SentenceEncoder.load(model, { backend, workers: 1 });
  try {
    await enc.encode(sentences.slice(0, 8), { batchSize }); // uploads the model
    const stream = new RequestStream(sentences);
    const texts: string[] = [];
    while (texts.length < offlineCount) texts.push(...stream.next());
    texts.length = offlineCount;
    const t0 = performance.now();
    await enc.encode(texts, { batchSize });
    const seconds = (performance.now() - t0) / 1000;
    return { sentences: offlineCount, seconds, perSecond: offlineCount / seconds };
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

async function scrape(url: string): Promise<{ batches: number; batchTexts: number; texts: number; rss: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    batches: sample(text, 'sbert_batch_size_count'),
    batchTexts: sample(text, 'sbert_batch_size_sum'),
    texts: sample(text, 'sbert_texts_total'),
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
  let warm: { at: number; texts: number } | undefined;
  const warmTimer = setTimeout(() => {
    void scrape(url).then((m) => (warm = { at: performance.now(), texts: m.texts }));
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
  const afterAt = performance.now();
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
    meanBatchSize: (after.batchTexts - before.batchTexts) / (after.batches - before.batches),
    serverRssMiB: after.rss / 2 ** 20,
  };
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const time = (ms: number) =>
  !Number.isFinite(ms) ? '–' : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;

log(`model ${model}, backend ${backend}, batch size ${batchSize}, route ${route}, clients ${clients.join(', ')}`);
log(`offline encode of ${offlineCount} sentences (before the server)`);
const offlineBefore = await offline();
log(`offline: ${f(offlineBefore.perSecond)} sentences/s`);
const server = await startServer();
log(`server ready on ${server.url}`);
const levels: LevelResult[] = [];
try {
  for (const c of clients) {
    const d = durations.get(c) ?? 60;
    log(`${c} client${c === 1 ? '' : 's'}, ${d} s (first ${f(warmupFraction * d, 0)} s not counted)`);
    const r = await level(server.url, c, d);
    log(
      `${c}: ${f(r.sentencesPerSecond)} sentences/s delivered, ${f(r.computedPerSecond)} computed, p50 ${time(r.latencyP50Ms)}, errors ${r.errors + r.non2xx + r.timeouts}`,
    );
    levels.push(r);
  }
} finally {
  server.child.kill('SIGTERM');
}
const exitCode = await server.exited;
log(`offline encode again (after the server; exit ${exitCode})`);
const offlineAfter = await offline();
const offlineRate = (offlineBefore.perSecond + offlineAfter.perSecond) / 2;

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
  `| clients | requests/s | sentences/s delivered | sentences/s computed | p50 latency | p99 latency | errors | mean batch | server RSS | computed ÷ offline (delivered ÷ offline) |`,
  `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ...report.levels.map(
    (l) =>
      `| ${l.clients} | ${f(l.requestsPerSecond, 2)} | ${f(l.sentencesPerSecond)} | ${f(l.computedPerSecond)} | ${time(l.latencyP50Ms)} | ` +
      `${time(l.latencyP99Ms)} | ${l.errors + l.non2xx + l.timeouts} | ${f(l.meanBatchSize)} | ${f(l.serverRssMiB, 0)} MiB | ` +
      `${f(l.ratioToOffline, 2)} (${f(l.deliveredRatioToOffline, 2)}) |`,
  ),
  '',
  `Offline \`encode\` of ${offlineCount} of the same sentences, batch ${batchSize}, 1 process: ${f(offlineBefore.perSecond)} sentences/s before the server ran, ` +
    `${f(offlineAfter.perSecond)} after (mean ${f(offlineRate)}). ${machine.cpuModel}, ${machine.cores} cores, load average at the end ${machine.loadAverage.join(' / ')}.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
log(`wrote ${out}`);
const failed = levels.some((l) => l.errors + l.non2xx + l.timeouts > 0) || exitCode !== 0;
if (failed) process.exitCode = 1;
