// The server's batching rule on its own (no model): which waiting texts go into the next forward, for queues of
// known lengths. The oldest text is in every forward (nothing starves); the rest are the closest lengths from
// the whole pool; the batch is cut by encode's rule; a deep queue batches as offline `encode` does.
import { describe, expect, it } from 'vitest';
import { cpuChunks } from '../../src/encoder/batches.js';
import type { ChunkCost } from '../../src/model/batching.js';
import { nextBatch, type Waiting } from '../../src/server/batcher.js';

const queue = (lengths: readonly number[], key = 'mean/false'): Waiting[] =>
  lengths.map((length, seq) => ({ length, key, seq }));

/** STS-B-like lengths (5–80 tokens, most near 15): a fixed LCG, so every run sees the same pool. */
function lengthsOf(n: number, seed = 7): number[] {
  let s = seed;
  const u = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) / 2 ** 24;
  };
  return Array.from({ length: n }, () => Math.min(80, 5 + Math.floor(-12 * Math.log(1 - u()) + 6 * u())));
}

/** Padded tokens + a forward's fixed cost over forwards of the given lengths. */
const cost = (forwards: number[][], c: Required<ChunkCost>) =>
  forwards.reduce((n, f) => n + f.length * Math.max(...f) + c.overheadTokens, 0);

describe('nextBatch', () => {
  const limits = { batchSize: 4, maxBatchTokens: 8192 };

  it('takes the oldest text and the closest lengths from the whole queue (ties: the older), longest first', () => {
    const w = queue([20, 5, 40, 21, 19, 60, 22, 20, 18]);
    // |Δ| from 20: seq 7 (0), seq 3 and 4 (1; 3 is older), then 6 and 8 (2).
    expect(nextBatch(w, limits)).toEqual([3, 0, 7, 4]);
    expect(nextBatch(w, limits).map((i) => w[i]!.length)).toEqual([21, 20, 20, 19]);
  });

  it('the oldest text goes next whatever its length, even beside a deep pool of others', () => {
    const w = queue([77, ...Array(500).fill(12)]);
    const picked = nextBatch(w, { batchSize: 32, maxBatchTokens: 8192 });
    expect(picked[0]).toBe(0);
    expect(picked).toHaveLength(32);
    // With encode's cut, the outlier runs alone rather than padding 31 short texts to 77 tokens.
    const cut = (l: readonly number[]) => cpuChunks(l, 8192, { overheadTokens: 64, minTokens: 128 });
    expect(nextBatch(w, { batchSize: 32, maxBatchTokens: 8192 }, cut)).toEqual([0]);
  });

  it('stays within --batch-size and --max-batch-tokens; a lone text over the budget still goes, alone', () => {
    const w = queue([100, 100, 100, 90, 100]);
    expect(nextBatch(w, { batchSize: 8, maxBatchTokens: 300 })).toEqual([0, 1, 2]);
    expect(nextBatch(queue([700, 10]), { batchSize: 8, maxBatchTokens: 512 })).toEqual([0]);
  });

  it('texts with other settings never join', () => {
    const w = [...queue([20, 20]), { length: 20, key: 'mean/true', seq: 2 }, { length: 20, key: 'mean/false', seq: 3 }];
    expect(nextBatch(w, limits)).toEqual([0, 1, 3]);
  });

  it('returns the piece of the cut that holds the oldest text; the rest stays queued', () => {
    const w = queue([30, 10, 30, 10, 30, 10]);
    const cut = (l: readonly number[]) => cpuChunks(l, 8192, { overheadTokens: 4, minTokens: 16 });
    // Sorted: 30 30 30 10 10 10; the cut separates the 30s from the 10s.
    expect(nextBatch(w, { batchSize: 8, maxBatchTokens: 8192 }, cut)).toEqual([0, 2, 4]);
    expect(nextBatch(queue([10, 30, 10, 30]), { batchSize: 8, maxBatchTokens: 8192 }, cut)).toEqual([0, 2]);
  });

  it('no text starves: under a steady stream of arrivals, each leaves within the forwards ahead of it', () => {
    const lengths = lengthsOf(3000);
    const c = { overheadTokens: 64, minTokens: 128 };
    const cut = (l: readonly number[]) => cpuChunks(l, 8192, c);
    let waiting: Waiting[] = [];
    let next = 0;
    const arrive = (n: number) => {
      for (let k = 0; k < n && next < lengths.length; k++, next++)
        waiting.push({ length: lengths[next]!, key: 'k', seq: next });
    };
    arrive(600);
    const leftAt = new Map<number, number>();
    for (let forward = 0; waiting.length > 0; forward++) {
      const picked = nextBatch(waiting, { batchSize: 32, maxBatchTokens: 8192 }, cut);
      // The oldest waiting text is in every forward.
      expect(picked).toContain(0);
      expect(picked.length).toBeLessThanOrEqual(32);
      for (const i of picked) leftAt.set(waiting[i]!.seq, forward);
      const taken = new Set(picked);
      waiting = waiting.filter((_, i) => !taken.has(i));
      arrive(picked.length); // a closed loop: as many arrive as leave
    }
    expect(leftAt.size).toBe(lengths.length);
    // Text k had at most k texts ahead of it, so it left within k + 1 forwards of the start.
    for (const [seq, forward] of leftAt) expect(forward).toBeLessThanOrEqual(seq);
  });

  // wasm's default forward price (cpuChunks' defaults), tensorflow's, and a dearer one.
  it.each([
    { overheadTokens: 4, minTokens: 48 },
    { overheadTokens: 35, minTokens: 128 },
    { overheadTokens: 64, minTokens: 128 },
  ])(
    'a deep queue batches as offline encode does: forwards as full, cost no higher (forward = $overheadTokens tokens)',
    (c) => {
      const lengths = lengthsOf(1024);
      const cut = (l: readonly number[]) => cpuChunks(l, 8192, c);
      // Offline encode: all texts sorted longest first, batches of 32, each cut by the same rule.
      const sorted = [...lengths].sort((a, b) => b - a);
      const offline: number[][] = [];
      for (let i = 0; i < sorted.length; i += 32) {
        const batch = sorted.slice(i, i + 32);
        for (const [from, to] of cut(batch)) offline.push(batch.slice(from, to));
      }
      // The server: the same texts all waiting, drained by nextBatch.
      let waiting = queue(lengths);
      const served: number[][] = [];
      while (waiting.length > 0) {
        const picked = nextBatch(waiting, { batchSize: 32, maxBatchTokens: 8192 }, cut);
        served.push(picked.map((i) => waiting[i]!.length));
        const taken = new Set(picked);
        waiting = waiting.filter((_, i) => !taken.has(i));
      }
      expect(served.flat().sort((a, b) => a - b)).toEqual([...lengths].sort((a, b) => a - b));
      expect(lengths.length / served.length).toBeGreaterThanOrEqual(0.9 * (lengths.length / offline.length));
      expect(cost(served, c)).toBeLessThanOrEqual(1.02 * cost(offline, c));
    },
  );
});
