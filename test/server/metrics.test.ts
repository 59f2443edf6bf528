// GET /metrics: Prometheus text whose counts agree with what the test sent: requests and errors by route and
// status, latency histograms, texts and tokens (= the usage the answers reported), batch sizes, queue depth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SbertServer } from '../../src/server/server.js';
import { get, post, tinyServer } from './helpers.js';

/** The value of one sample, by name and exact label set (as prom-client writes them, in label order). */
function sample(text: string, name: string, labels = ''): number {
  const key = labels ? `${name}{${labels}}` : name;
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  if (!line) throw new Error(`no sample ${key}`);
  return Number(line.slice(key.length + 1));
}

describe('GET /metrics', () => {
  let server: SbertServer;
  beforeAll(async () => {
    server = await tinyServer({ batchSize: 4 });
  });
  afterAll(async () => {
    await server?.shutdown();
  });

  it('counts what happened', async () => {
    const texts = [
      '那个人很开心',
      '那个人非常开心',
      '那只猫很开心',
      '那个人在吃东西',
      '一个男人在弹吉他',
      '一只狗在跑',
    ];
    const ok = await post(`${server.url}/v1/embeddings`, { input: texts });
    const ok2 = await post(`${server.url}/v1/embeddings`, { input: texts.slice(0, 2) });
    const tei = await post(`${server.url}/embed`, { inputs: texts.slice(0, 3) });
    await post(`${server.url}/embed`, { inputs: 5 });
    await post(`${server.url}/embed`, '{');
    await get(`${server.url}/nowhere`);
    const usage = [ok, ok2].reduce((n, r) => n + (r.body as { usage: { total_tokens: number } }).usage.total_tokens, 0);
    const tokens = usage + Number(tei.headers.get('x-compute-tokens'));

    const res = await get(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = res.text;
    const req = (route: string, method: string, status: number) =>
      sample(m, 'sbert_http_requests_total', `route="${route}",method="${method}",status="${status}"`);
    expect(req('/v1/embeddings', 'POST', 200)).toBe(2);
    expect(req('/embed', 'POST', 200)).toBe(1);
    expect(req('/embed', 'POST', 400)).toBe(2);
    expect(req('unmatched', 'GET', 404)).toBe(1);
    expect(sample(m, 'sbert_http_request_errors_total', 'route="/embed",status="400"')).toBe(2);
    expect(sample(m, 'sbert_http_request_errors_total', 'route="unmatched",status="404"')).toBe(1);
    expect(m).not.toMatch(/^sbert_http_request_errors_total\{route="\/v1\/embeddings"/m);
    const hist = 'route="/v1/embeddings",method="POST",status="200"';
    expect(sample(m, 'sbert_http_request_duration_seconds_count', hist)).toBe(2);
    expect(sample(m, 'sbert_http_request_duration_seconds_bucket', `le="+Inf",${hist}`)).toBe(2);
    expect(sample(m, 'sbert_http_request_duration_seconds_sum', hist)).toBeGreaterThan(0);

    expect(sample(m, 'sbert_texts_total')).toBe(11);
    expect(sample(m, 'sbert_tokens_total')).toBe(tokens);
    expect(sample(m, 'sbert_batch_size_sum')).toBe(11);
    // Requests one after another: 6 texts in batches of at most 4, then 2, then 3.
    expect(sample(m, 'sbert_batch_size_count')).toBe(4);
    expect(sample(m, 'sbert_batch_size_bucket', 'le="4"')).toBe(4);
    expect(sample(m, 'sbert_batch_size_bucket', 'le="2"')).toBe(2);
    expect(sample(m, 'sbert_queue_wait_seconds_count')).toBe(11);
    expect(sample(m, 'sbert_batch_duration_seconds_count')).toBe(4);
    expect(sample(m, 'sbert_batch_padded_tokens_count')).toBe(4);
    // The model's own compute time (in its worker) lies within the forwards as the batcher timed them.
    const compute = sample(m, 'sbert_forward_compute_seconds_total');
    expect(compute).toBeGreaterThan(0);
    expect(compute).toBeLessThanOrEqual(sample(m, 'sbert_batch_duration_seconds_sum'));
    expect(sample(m, 'sbert_event_loop_busy_seconds_total')).toBeGreaterThan(0);
    expect(sample(m, 'sbert_queue_depth')).toBe(0);
    expect(sample(m, 'sbert_forwards_running')).toBe(0);
    expect(sample(m, 'sbert_http_requests_in_flight')).toBe(1); // this scrape
    expect(sample(m, 'sbert_ready')).toBe(1);
    expect(sample(m, 'sbert_tokens_per_second')).toBeGreaterThan(0);
    expect(sample(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m).toMatch(/^nodejs_eventloop_lag_seconds \S+$/m);
    for (const name of ['sbert_queue_depth', 'sbert_texts_total', 'sbert_http_request_duration_seconds']) {
      expect(m).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
    }
  });
});
