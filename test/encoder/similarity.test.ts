// cosine / cosSim / semanticSearch against sentence-transformers' own vectors (the tiny fixture's st.mean and
// st.mean_normalized: cos_sim of two means is the dot product of their normalized forms), and `sbert search`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cosine, cosSim, semanticSearch } from '../../src/encoder/similarity.js';
import { errorLine, sbert } from '../cli.js';
import { fixture } from '../fixtures.js';
import { MAIN_BACKEND } from '../model/helpers.js';
import { stRefs } from './helpers.js';

const refs = stRefs('tiny');
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
/** Reference similarity of sentences i and j: ST's normalized vectors, dotted. */
const refSim = (i: number, j: number) => dot(refs.normalized[i]!, refs.normalized[j]!);
/** Reference ranking of the corpus for sentence q. */
const refRanking = (q: number) => refs.sentences.map((_, j) => j).sort((a, b) => refSim(q, b) - refSim(q, a) || a - b);

describe('similarity of embeddings', () => {
  it("cosSim of the means equals the dot products of ST's normalized means; cosine agrees", () => {
    const m = cosSim(refs.mean, refs.mean);
    let worst = 0;
    m.forEach((row, i) =>
      row.forEach(
        (x, j) =>
          (worst = Math.max(
            worst,
            Math.abs(x - refSim(i, j)),
            Math.abs(cosine(refs.mean[i]!, refs.mean[j]!) - refSim(i, j)),
          )),
      ),
    );
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(m[3]![3]).toBeCloseTo(1, 6);
  });

  it('semanticSearch returns the top k best first, equal scores by corpus order', () => {
    const hits = semanticSearch([refs.mean[0]!, refs.mean[5]!], refs.mean, { topK: 4 });
    expect(hits.map((h) => h.map((x) => x.corpusId))).toEqual([refRanking(0).slice(0, 4), refRanking(5).slice(0, 4)]);
    hits
      .flat()
      .forEach((h, k) => expect(Math.abs(h.score - refSim(k < 4 ? 0 : 5, h.corpusId))).toBeLessThanOrEqual(1e-6));
    const same = Float32Array.of(1, 0);
    expect(semanticSearch([same], [Float32Array.of(0, 1), same, same], { topK: 5 })[0]!.map((h) => h.corpusId)).toEqual(
      [1, 2, 0],
    );
  });

  it('refuses vectors of other lengths and a topK below 1', () => {
    expect(() => cosSim([Float32Array.of(1, 2)], [Float32Array.of(1, 2, 3)])).toThrow(
      /vector 0 has 3 dimensions, expected 2/,
    );
    expect(() => cosine(Float32Array.of(1), Float32Array.of(1, 2))).toThrow(RangeError);
    expect(() => semanticSearch([Float32Array.of(1)], [Float32Array.of(1)], { topK: 0 })).toThrow(/topK/);
  });
});

describe('sbert search', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sbert-search-'));
  const corpus = join(tmp, 'corpus.txt');
  const nonEmpty = refs.sentences.map((s, i) => [s, i] as const).filter(([s]) => s !== '');
  writeFileSync(corpus, `${nonEmpty.map(([s]) => s).join('\n')}\n`);

  it("--json: each query's top k corpus sentences, scored as ST's vectors score them (≤ 1e-5)", async () => {
    const [q1, q2] = [nonEmpty[0]!, nonEmpty[6]!];
    const r = await sbert([
      'search',
      '--model',
      fixture('tiny', 'st'),
      '--corpus',
      corpus,
      '--top-k',
      '3',
      '--json',
      '--backend',
      MAIN_BACKEND,
      q1[0],
      q2[0],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { query: string; hits: { corpus_id: number; sentence: string; score: number }[] });
    expect(lines.map((l) => l.query)).toEqual([q1[0], q2[0]]);
    lines.forEach((l, k) => {
      const q = [q1, q2][k]![1];
      const want = refRanking(q)
        .filter((j) => refs.sentences[j] !== '')
        .slice(0, 3);
      expect(l.hits.map((h) => nonEmpty[h.corpus_id]![1])).toEqual(want);
      for (const h of l.hits) {
        expect(h.sentence).toBe(nonEmpty[h.corpus_id]![0]);
        expect(Math.abs(h.score - refSim(q, nonEmpty[h.corpus_id]![1]))).toBeLessThanOrEqual(1e-5);
      }
    });
  });

  it('fails with one error line: empty corpus or missing file (2), --top-k 0 (1)', async () => {
    const empty = join(tmp, 'empty.txt');
    writeFileSync(empty, '');
    const cases: [string[], number, RegExp][] = [
      [['--corpus', empty, 'x'], 2, /empty\.txt: the corpus has no sentences/],
      [['--corpus', join(tmp, 'none.txt'), 'x'], 2, /none\.txt: no such file/],
      [['--corpus', corpus, '--top-k', '0', 'x'], 1, /--top-k/],
    ];
    for (const [args, code, message] of cases) {
      const r = await sbert(['search', '--model', fixture('tiny', 'st'), '--backend', MAIN_BACKEND, ...args]);
      expect(r.code, args.join(' ')).toBe(code);
      expect(errorLine(r)).toMatch(message);
    }
  });
});
