// `sbert encode` and `sbert similarity` end to end, against sentence-transformers' embeddings.
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLine, sbert } from '../cli.js';
import { fixture } from '../fixtures.js';
import { MAIN_BACKEND } from '../model/helpers.js';
import { syntheticModelDir } from '../synthetic.js';
import { maxAbsRows, shuffledWithDuplicates, stRefs } from '../encoder/helpers.js';
import { readNpy } from '../../src/cli/npy.js';
import { maxWorkers } from '../../src/encoder/max-workers.js';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { UsageError } from '../../src/errors.js';
import { startServer } from '../../src/server/server.js';
import { cosine } from '../../src/encoder/similarity.js';

const refs = stRefs('tiny');
const tmp = mkdtempSync(join(tmpdir(), 'sbert-encode-'));
const order = shuffledWithDuplicates(refs.sentences.length);
const sentences = order.map((i) => refs.sentences[i]!);
const want = order.map((i) => refs.mean[i]!);
// JSONL input carries the empty sentence and any character safely.
const jsonl = sentences.map((s) => JSON.stringify(s)).join('\n') + '\n';

const embeddings = (stdout: string): number[][] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { embedding: number[] }).embedding);

describe('sbert encode', () => {
  it('JSONL in, one embedding per sentence in input order, equal to st.mean (≤ 1e-5)', async () => {
    const r = await sbert(
      ['encode', '--model', fixture('tiny', 'st'), '--input-format', 'jsonl', '--batch-size', '4'],
      { input: jsonl },
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(maxAbsRows(embeddings(r.stdout), want)).toBeLessThanOrEqual(1e-5);
  });

  it('lines from --input, --normalize → st.mean_normalized; --workers 2 gives the same numbers', async () => {
    const nonEmpty = refs.sentences.map((s, i) => [s, i] as const).filter(([s]) => s !== '');
    const file = join(tmp, 'lines.txt');
    writeFileSync(file, nonEmpty.map(([s]) => s).join('\n') + '\n');
    const expected = nonEmpty.map(([, i]) => refs.normalized[i]!);
    const one = await sbert([
      'encode',
      '--model',
      fixture('tiny', 'hf'),
      '--input',
      file,
      '--normalize',
      '--workers',
      '1',
    ]);
    const two = await sbert([
      'encode',
      '--model',
      fixture('tiny', 'hf'),
      '--input',
      file,
      '--normalize',
      '--workers',
      '2',
      '--batch-size',
      '2',
    ]);
    expect([one.code, two.code]).toEqual([0, 0]);
    expect(maxAbsRows(embeddings(one.stdout), expected)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsRows(embeddings(two.stdout), embeddings(one.stdout))).toBeLessThanOrEqual(1e-6);
  });

  it('--format npy writes a float32 [n, dim] array that round-trips to the JSONL numbers', async () => {
    const out = join(tmp, 'out.npy');
    const r = await sbert(
      ['encode', '--model', fixture('tiny', 'st'), '--input-format', 'jsonl', '--format', 'npy', '--output', out],
      { input: jsonl },
    );
    expect(r.code).toBe(0);
    const { shape, data } = readNpy(readFileSync(out));
    expect(shape).toEqual([sentences.length, 32]);
    const rows = Array.from({ length: shape[0] }, (_, i) => data.subarray(i * 32, (i + 1) * 32));
    expect(maxAbsRows(rows, want)).toBeLessThanOrEqual(1e-5);
    // stdout too
    const s = await sbert(['encode', '--model', fixture('tiny', 'st'), '--input-format', 'jsonl', '--format', 'npy'], {
      input: jsonl,
    });
    expect(Buffer.compare(s.stdoutBytes, readFileSync(out))).toBe(0);
  });

  it("--pooling none: every token's last hidden state; cls pooling = its first row", async () => {
    const none = await sbert(['encode', '--model', fixture('tiny', 'st'), '--pooling', 'none'], {
      input: '那个人很开心\n',
    });
    const cls = await sbert(['encode', '--model', fixture('tiny', 'st'), '--pooling', 'cls'], {
      input: '那个人很开心\n',
    });
    const tokens = (JSON.parse(none.stdout) as { tokens: number[][] }).tokens;
    expect(tokens).toHaveLength(8); // [CLS] 那 个 人 很 开 心 [SEP]
    const mean = tokens[0]!.map((_, j) => tokens.reduce((a, t) => a + t[j]!, 0) / tokens.length);
    expect(maxAbsRows([mean], [refs.mean[0]!])).toBeLessThanOrEqual(1e-5);
    expect(maxAbsRows(embeddings(cls.stdout), [tokens[0]!])).toBeLessThanOrEqual(1e-6);
  });

  it('synthetic BERT-base: equals st.mean (≤ 1e-5)', async () => {
    const base = stRefs('base');
    const input = base.sentences.map((s) => JSON.stringify(s)).join('\n');
    const r = await sbert(
      ['encode', '--model', syntheticModelDir('base'), '--input-format', 'jsonl', '--backend', MAIN_BACKEND],
      { input },
    );
    expect(r.code).toBe(0);
    expect(maxAbsRows(embeddings(r.stdout), base.mean)).toBeLessThanOrEqual(1e-5);
  });

  it('bad input: missing file, a directory, empty input, bad JSONL, a folder without weights → error: and exit 2', async () => {
    const model = fixture('tiny', 'st');
    const missing = await sbert(['encode', '--model', model, '--input', join(tmp, 'nope.txt')]);
    expect(missing.code).toBe(2);
    expect(errorLine(missing)).toMatch(/nope\.txt: no such file/);
    const dir = await sbert(['encode', '--model', model, '--input', tmp]);
    expect(dir.code).toBe(2);
    expect(errorLine(dir)).toMatch(/is a directory/);
    const empty = await sbert(['encode', '--model', model], { input: '' });
    expect(empty.code).toBe(2);
    expect(errorLine(empty)).toMatch(/empty input/);
    const bad = await sbert(['encode', '--model', model, '--input-format', 'jsonl'], { input: '"ok"\n{not json\n' });
    expect(bad.code).toBe(2);
    expect(errorLine(bad)).toMatch(/line 2: not valid JSON/);
    const noWeights = join(tmp, 'no-weights');
    mkdirSync(noWeights, { recursive: true });
    writeFileSync(join(noWeights, 'config.json'), readFileSync(fixture('tiny', 'hf', 'config.json')));
    const nw = await sbert(['encode', '--model', noWeights], { input: 'x\n' });
    expect(nw.code).toBe(2);
    expect(errorLine(nw)).toContain('no-weights');
  });

  it('usage errors exit 1', async () => {
    const r = await sbert(['encode', '--model', fixture('tiny', 'st'), '--batch-size', '0'], { input: 'x\n' });
    expect(r.code).toBe(1);
    const npyNone = await sbert(['encode', '--model', fixture('tiny', 'st'), '--format', 'npy', '--pooling', 'none'], {
      input: 'x\n',
    });
    expect(npyNone.code).toBe(1);
  });

  it('--workers past 4 per core (at least 8) is a usage error before anything starts, for every command that takes it', async () => {
    // Before: --workers 1000 started threads until it was killed at 30 s (each holds a backend and the model).
    const max = maxWorkers();
    const model = fixture('tiny', 'st');
    const corpus = join(mkdtempSync(join(tmpdir(), 'sbert-workers-')), 'corpus.txt');
    writeFileSync(corpus, 'a\nb\n');
    for (const args of [
      ['encode', '--model', model, '--workers', String(max + 1)],
      ['encode', '--model', model, '--workers', '1000'],
      ['search', '--model', model, '--workers', '100000', 'q', '--corpus', corpus],
      ['serve', '--model', model, '--workers', '1000', '--port', '0'],
    ]) {
      const r = await sbert(args, { input: 'x\n', timeoutMs: 20_000 });
      expect(r.code, args.join(' ')).toBe(1);
      expect(errorLine(r)).toMatch(new RegExp(`^error: workers must be an integer from [01] to ${max} `));
    }
    // The library and the server refuse it the same way.
    await expect(SentenceEncoder.load(model, { workers: max + 1 })).rejects.toThrow(UsageError);
    await expect(startServer({ model, workers: 10 * max, port: 0 })).rejects.toThrow(/workers must be an integer/);
  });
});

describe('sbert similarity', () => {
  it('--json: cosine of the first sentence to each other one, from st.mean', async () => {
    const [a, b, c, d] = refs.sentences;
    const r = await sbert(['similarity', '--model', fixture('tiny', 'st'), a!, b!, c!, d!, '--json']);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as { source: string; similarities: { sentence: string; score: number }[] };
    expect(got.source).toBe(a);
    expect(got.similarities.map((s) => s.sentence)).toEqual([b, c, d]);
    got.similarities.forEach((s, i) =>
      expect(Math.abs(s.score - cosine(refs.mean[0]!, refs.mean[i + 1]!))).toBeLessThan(1e-5),
    );
  });
});
