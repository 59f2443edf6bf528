// 10 000 requests against `sbert serve` (tiny model), after 5 000 to warm up, twice: with the model in the
// server's thread (so its tensors show in /metrics) and on the default worker thread: every one answered 200,
// the tfjs tensor count never moves, and the process's RSS (workers included) stays flat: within the heaps'
// saw-tooth (they grow for some thousands of requests, then a collection gives the memory back), so a leak of
// 8 KB or more a request would fail it; smaller ones need longer runs than a test suite can afford.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { describe, expect, it } from 'vitest';
import { corpus } from '../fixtures.js';
import { get, TINY } from './helpers.js';
import { serve } from './spawn.js';

const WARMUP = 5000;
const ROUNDS = 5;
const PER_ROUND = 2000;

const sentences = readFileSync(corpus('sts-b.test.tsv'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split('\t')[0]!);

function gauge(metrics: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

describe.each([
  ['in the server thread', ['--workers', '0']],
  ['on a worker thread (the default)', []],
])('soak, model %s', (_where, flags) => {
  it(`${WARMUP} + ${ROUNDS * PER_ROUND} requests: all 200, tensors constant, RSS flat`, async () => {
    const p = await serve(['--model', TINY, '--log-level', 'warn', ...flags]);
    try {
      let next = 0;
      const samples: { rss: number; tensors: number; texts: number }[] = [];
      for (let round = 0; round <= ROUNDS; round++) {
        const amount = round === 0 ? WARMUP : PER_ROUND;
        const result = await autocannon({
          url: `${p.url}/v1/embeddings`,
          connections: 8,
          amount,
          timeout: 60,
          requests: [
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              setupRequest: (req) => {
                const n = 1 + (next % 3);
                const input = Array.from({ length: n }, (_, i) => sentences[(next + i) % sentences.length]!);
                next++;
                return { ...req, body: JSON.stringify({ model: 'm', input }) };
              },
            },
          ],
        });
        expect(result.non2xx + result.errors + result.timeouts).toBe(0);
        expect(result['2xx']).toBe(amount);
        const m = (await get(`${p.url}/metrics`)).text;
        samples.push({
          rss: gauge(m, 'process_resident_memory_bytes'),
          tensors: gauge(m, 'sbert_tfjs_tensors'),
          texts: gauge(m, 'sbert_texts_total'),
        });
      }
      const mib = (b: number) => (b / 2 ** 20).toFixed(1);
      process.stderr.write(
        `soak (${_where}): RSS after ${WARMUP} warm-up requests, then after each ${PER_ROUND} (MiB): ${samples.map((x) => mib(x.rss)).join(', ')}\n`,
      );
      expect(samples.at(-1)!.texts).toBe(expectedTexts(next));
      // No tensor outlives its request: the count after 15 000 requests is the count after 5 000.
      expect(new Set(samples.map((x) => x.tensors)).size).toBe(1);
      // Flat: over the 10 000 measured requests RSS never rises more than 80 MiB above where the warm-up left it
      // (the heaps' saw-tooth: on a worker thread, 60 000 requests went 171–234 MiB with no upward trend).
      const rss = samples.map((x) => x.rss);
      expect(Math.max(...rss) - rss[0]!).toBeLessThan(80 * 2 ** 20);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  }, 900_000);
});

/** Texts sent by `n` requests of 1, 2, 3, 1, 2, 3, ... texts. */
function expectedTexts(n: number): number {
  let t = 0;
  for (let k = 0; k < n; k++) t += 1 + (k % 3);
  return t;
}
