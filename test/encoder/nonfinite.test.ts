// Silent wrong numbers (issue 14): a NaN in any weight (the instance: an fp16 LayerNorm weight 0x7E00) is a
// load-time error naming the file and the tensor; --allow-nonfinite / allowNonFinite loads it anyway, and then
// the output guard stops the run before a NaN reaches any output: no `{"embedding":[NaN,...]}` (invalid JSON),
// no all-NaN .npy. Weights that are finite but overflow are caught by the same guard.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { CheckpointError, InputError } from '../../src/errors.js';
import { defaultBackendExtraRssMiB, errorLine } from '../cli.js';
import { type Figure, report, sbertMeasured } from '../measure.js';
import { nanModel, patchedFp16 } from '../nonfinite-model.js';

let tmp: string;
const figures: Figure[] = [];

let nanDir: string;
let hugeDir: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sbert-nonfinite-'));
  nanDir = nanModel(tmp);
  // 65504 (the largest half) in a query weight: finite, but the scores overflow to Inf and softmax to NaN.
  hugeDir = patchedFp16(tmp, 'huge', 'encoder.layer.0.attention.self.query.weight', 0, 0x7bff);
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  report('non-finite weights, sbert CLI (wall time, peak RSS):', figures);
});

async function run(what: string, args: string[], input = '那个人很开心\n那只猫很开心\n') {
  const r = await sbertMeasured(args, { input, timeoutMs: 120_000 });
  figures.push({ what, ms: r.ms, rssMiB: r.rssMiB });
  expect(r.hung, what).toBe(false);
  expect(r.rssMiB!, what).toBeLessThan(200 + (await defaultBackendExtraRssMiB())); // + tfjs-node's libraries
  return r;
}

describe('NaN and Inf in weights', () => {
  it('sbert encode refuses a NaN weight at load: exit 2, one line naming the file and the tensor, nothing on stdout', async () => {
    const r = await run('encode, NaN weight', ['encode', '--model', nanDir]);
    expect(r.code).toBe(2);
    expect(errorLine(r)).toBe(
      `error: ${join(nanDir, 'model.safetensors')}: tensor embeddings.LayerNorm.weight holds NaN at [3]; every output it reaches would be NaN ` +
        '(--allow-nonfinite, or the load option allowNonFinite, loads it anyway)',
    );
    expect(r.stdout).toBe('');
  });

  it('--allow-nonfinite loads it; the output guard then ends the run before any NaN is written (jsonl and npy)', async () => {
    const jsonl = await run('encode --allow-nonfinite, NaN weight', ['encode', '--model', nanDir, '--allow-nonfinite']);
    expect(jsonl.code).toBe(2);
    expect(errorLine(jsonl)).toMatch(
      new RegExp(
        `^error: ${join(nanDir, 'model.safetensors')}: the model's output for sentence 1 is not finite \\(NaN\\)`,
      ),
    );
    expect(jsonl.stdout).not.toMatch(/NaN|Infinity/);
    for (const line of jsonl.stdout.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
    const out = join(tmp, 'out.npy');
    const npy = await run('encode --format npy --allow-nonfinite', [
      'encode',
      '--model',
      nanDir,
      '--allow-nonfinite',
      '--format',
      'npy',
      '--output',
      out,
    ]);
    expect(npy.code).toBe(2);
    expect(errorLine(npy)).toMatch(/is not finite/);
    const tokens = await run('encode --pooling none --allow-nonfinite', [
      'encode',
      '--model',
      nanDir,
      '--allow-nonfinite',
      '--pooling',
      'none',
    ]);
    expect(tokens.code).toBe(2);
    expect(tokens.stdout).not.toMatch(/NaN/);
    const sim = await run('similarity --allow-nonfinite', [
      'similarity',
      '--model',
      nanDir,
      '--allow-nonfinite',
      '--json',
      '那个人很开心',
      '那只猫很开心',
    ]);
    expect(sim.code).toBe(2);
    expect(sim.stdout).toBe('');
  });

  it('finite weights that overflow are caught by the same guard', async () => {
    const r = await run('encode, weights that overflow', ['encode', '--model', hugeDir]);
    if (r.code === 0) {
      // This input did not overflow on this backend: whatever came out is finite, valid JSON.
      for (const line of r.stdout.split('\n').filter(Boolean))
        expect((JSON.parse(line) as { embedding: number[] }).embedding.every(Number.isFinite)).toBe(true);
    } else {
      expect(r.code).toBe(2);
      expect(errorLine(r)).toMatch(/is not finite/);
      expect(r.stdout).not.toMatch(/NaN|Infinity/);
    }
  });

  it('the library: load refuses (CheckpointError); with allowNonFinite, encode rejects instead of returning NaN', async () => {
    await expect(SentenceEncoder.load(nanDir, { backend: 'cpu', quiet: true })).rejects.toThrow(CheckpointError);
    const enc = await SentenceEncoder.load(nanDir, { backend: 'cpu', quiet: true, allowNonFinite: true });
    try {
      const err = await enc.encode(['那个人很开心']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/the model's output for sentence 1 is not finite/);
    } finally {
      await enc.dispose();
    }
  });
});
