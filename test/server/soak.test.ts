// 10 000 requests against `sbert serve` (tiny model), twice: with the model in the server's thread (so its
// tensors show in /metrics) and on the default worker thread: every one answered 200, the tfjs tensor count
// never moves, and the process's RSS (workers included) stays flat.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { describe, expect, it } from 'vitest';
import { corpus } from '../fixtures.js';
import { get, TINY } from './helpers.js';
import { serve } from './spawn.js';

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
  it(`${ROUNDS * PER_ROUND} requests: all 200, tensors constant, RSS flat`, async () => {
    const p = await serve(['--model', TINY, '--log-level', 'warn', ...flags]);
    try {
      let next = 0;
      const samples: { rss: number; tensors: number; texts: number }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const result = await autocannon({
          url: `${p.url}/v1/embeddings`,
          connections: 8,
          amount: PER_ROUND,
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
        expect(result['2xx']).toBe(PER_ROUND);
        const m = (await get(`${p.url}/metrics`)).text;
        samples.push({
          rss: gauge(m, 'process_resident_memory_bytes'),
          tensors: gauge(m, 'sbert_tfjs_tensors'),
          texts: gauge(m, 'sbert_texts_total'),
        });
      }
      const mib = (b: number) => (b / 2 ** 20).toFixed(1);
      process.stderr.write(`soak (${_where}): RSS after each ${PER_ROUND} requests (MiB): ${samples.map((s) => mib(s.rss)).join(', ')}\n`);
      expect(samples.at(-1)!.texts).toBe(expectedTexts(next));
      // The model's weights are the only tensors, before and after 10 000 requests.
      expect(new Set(samples.map((s) => s.tensors)).size).toBe(1);
      // Flat: after the first round (warm-up), RSS moves by under 40 MiB, and not steadily upwards.
      const after = samples.slice(1).map((s) => s.rss);
      expect(Math.max(...after) - samples[0]!.rss).toBeLessThan(40 * 2 ** 20);
      const perRequest = (after.at(-1)! - after[0]!) / ((ROUNDS - 2) * PER_ROUND);
      expect(perRequest).toBeLessThan(2048);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });
});

/** Texts sent by `n` requests of 1, 2, 3, 1, 2, 3, ... texts. */
function expectedTexts(n: number): number {
  let t = 0;
  for (let k = 0; k < n; k++) t += 1 + (k % 3);
  return t;
}
