// How the encoder cuts sorted batches on CPU backends.
import { describe, expect, it } from 'vitest';
import { batchingOf, cpuChunks, cutBatch, WASM_BLAS_BATCHING } from '../../src/encoder/batches.js';

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

describe('cutBatch: one rule for encode and the server, per backend', () => {
  // 32 sorted texts whose lengths run from 24 down to 15: cheap forwards favour pieces, dear ones fewer.
  const lengths = Array.from({ length: 32 }, (_, i) => 24 - Math.floor(i / 3.3));

  it('a GPU runs the whole batch', () => {
    expect(cutBatch(lengths, 'webgpu')).toEqual([[0, 32]]);
    expect(batchingOf('webgpu')).toBe('whole batches');
  });

  it('wasm and cpu cut as cpuChunks with the default cost; tensorflow with its own', () => {
    expect(cutBatch(lengths, 'wasm')).toEqual(cpuChunks(lengths, 8192));
    expect(cutBatch(lengths, 'wasm').length).toBeGreaterThan(2);
    expect(cutBatch(lengths, 'tensorflow')).toEqual(cpuChunks(lengths, 8192, { overheadTokens: 35, minTokens: 128 }));
    // A dearer forward: fewer, fuller pieces (the server's batcher used to cut every backend as wasm).
    expect(cutBatch(lengths, 'tensorflow').length).toBeLessThan(cutBatch(lengths, 'wasm').length);
    expect(batchingOf('wasm')).toBe('cpu cuts');
  });

  it('wasm on a BLAS (its own key, wasm+blas) prices a forward at 64 tokens, pieces of ≥ 128 padded tokens', () => {
    expect(WASM_BLAS_BATCHING).toBe('wasm+blas');
    expect(cutBatch(lengths, WASM_BLAS_BATCHING)).toEqual(
      cpuChunks(lengths, 8192, { overheadTokens: 64, minTokens: 128 }),
    );
    expect(cutBatch(lengths, WASM_BLAS_BATCHING).length).toBeLessThan(cutBatch(lengths, 'wasm').length);
    expect(cutBatch(lengths, WASM_BLAS_BATCHING).length).toBeLessThanOrEqual(cutBatch(lengths, 'tensorflow').length);
    for (const [a, b] of cutBatch(lengths, WASM_BLAS_BATCHING))
      expect((b - a) * lengths[a]!).toBeGreaterThanOrEqual(128);
    expect(batchingOf(WASM_BLAS_BATCHING)).toBe('wasm+blas cuts');
    expect(cutBatch(Array(32).fill(512), WASM_BLAS_BATCHING, 8192)).toEqual([
      [0, 16],
      [16, 32],
    ]);
  });

  it('still caps every piece at maxTokens', () => {
    expect(cutBatch(Array(32).fill(512), 'webgpu', 8192)).toEqual([[0, 32]]);
    expect(cutBatch(Array(32).fill(512), 'cpu', 8192)).toEqual([
      [0, 16],
      [16, 32],
    ]);
  });
});
