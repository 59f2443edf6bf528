// How the encoder cuts sorted batches on CPU backends.
import { describe, expect, it } from 'vitest';
import { cpuChunks } from '../../src/encoder/batches.js';

describe('cpuChunks', () => {
  it('caps every piece at maxTokens padded tokens: 32 texts of 512 tokens → pieces of 16', () => {
    const chunks = cpuChunks(Array(32).fill(512), 8192);
    expect(chunks).toEqual([
      [0, 16],
      [16, 32],
    ]);
  });

  it('covers every row once, in order, and no piece is over the cap', () => {
    const lengths = [512, 500, 300, 300, 120, 64, 64, 20, 18, 9, 9, 5];
    const chunks = cpuChunks(lengths, 1024);
    expect(chunks.flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i))).toEqual(
      lengths.map((_, i) => i),
    );
    for (const [a, b] of chunks) expect((b - a) * lengths[a]! <= 1024 || b - a === 1).toBe(true);
  });

  it('a single row longer than the cap still goes through, alone', () => {
    expect(cpuChunks([512, 512], 256)).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });
});
