// STS evaluation: the correlations against scipy's values, and `sbert evaluate` against the same metrics
// computed from sentence-transformers' own vectors of the tiny fixture.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pearson, ranks, spearman, STS_SIMILARITIES, stsMetrics, type StsResult } from '../../src/encoder/sts.js';
import { errorLine, sbert } from '../cli.js';
import { fixture } from '../fixtures.js';
import { MAIN_BACKEND } from '../model/helpers.js';
import { stRefs } from './helpers.js';

describe('correlations (values from scipy 1.17 stats.pearsonr / spearmanr / rankdata)', () => {
  it('match scipy, ties included', () => {
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 14);
    expect(pearson([1, 2, 3, 4, 5], [10, 9, 2.5, 6, 4])).toBeCloseTo(-0.7426106572325056, 14);
    const x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    const y = [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4];
    expect([...ranks(x)]).toEqual([4.5, 1.5, 6, 1.5, 8, 11, 3, 10, 8, 4.5, 8]);
    expect(spearman(x, y)).toBeCloseTo(0.1384567651467695, 14);
    expect(pearson(x, y)).toBeCloseTo(0.09422924859889797, 14);
  });

  it('a constant side has no correlation (NaN, as scipy); lengths must agree', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2], [1, 2, 3])).toThrow(RangeError);
  });
});

describe('sbert evaluate', () => {
  const refs = stRefs('tiny');
  const tmp = mkdtempSync(join(tmpdir(), 'sbert-sts-'));
  const pairs: [number, number, number][] = [
    [0, 1, 5],
    [2, 3, 4],
    [4, 5, 3],
    [6, 7, 2],
    [8, 9, 1],
    [10, 11, 0],
    [12, 13, 2.5],
    [0, 5, 3.5],
    [1, 8, 1.5],
    [3, 11, 4.5],
  ];
  const data = join(tmp, 'pairs.tsv');
  writeFileSync(data, pairs.map(([a, b, g]) => `${refs.sentences[a]}\t${refs.sentences[b]}\t${g}`).join('\n') + '\n');

  it("--json: every similarity's correlations equal those of ST's vectors (≤ 1e-5)", async () => {
    const r = await sbert([
      'evaluate',
      '--model',
      fixture('tiny', 'st'),
      '--data',
      data,
      '--json',
      '--backend',
      MAIN_BACKEND,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as StsResult;
    const want = stsMetrics(
      pairs.map(([a]) => refs.mean[a]!),
      pairs.map(([, b]) => refs.mean[b]!),
      pairs.map(([, , g]) => g),
    );
    // stsMetrics itself on ST's vectors, against scipy on the same float32 vectors (in float64)
    const scipy: Record<string, [number, number]> = {
      cosine: [-0.014597582764436012, -0.16363636363636364],
      manhattan: [0.05237506648579038, -0.10303030303030303],
      euclidean: [0.07949250254987272, 0.06666666666666665],
      dot: [-0.3276175454231886, -0.34545454545454546],
    };
    for (const k of STS_SIMILARITIES) {
      expect(want[k].pearson, k).toBeCloseTo(scipy[k]![0], 12);
      expect(want[k].spearman, k).toBeCloseTo(scipy[k]![1], 12);
    }
    expect(got.pairs).toBe(10);
    for (const k of STS_SIMILARITIES) {
      expect(Math.abs(got[k].pearson - want[k].pearson), k).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(got[k].spearman - want[k].spearman), k).toBeLessThanOrEqual(1e-5);
    }
    // the table: one line per similarity
    const t = await sbert(['evaluate', '--model', fixture('tiny', 'st'), '--data', data, '--backend', MAIN_BACKEND]);
    expect(t.stdout).toContain(
      `cosine      ${want.cosine.pearson.toFixed(4).padStart(7)}   ${want.cosine.spearman.toFixed(4).padStart(8)}`,
    );
  });

  it('bad data files fail with one error line naming the file (exit 2)', async () => {
    const file = (name: string, text: string) => {
      const p = join(tmp, name);
      writeFileSync(p, text);
      return p;
    };
    const cases: [string, RegExp][] = [
      [
        file('header.tsv', 'sentence1\tsentence2\tscore\na\tb\t1\n'),
        /header\.tsv: line 1: expected "sentence1<TAB>sentence2<TAB>score"/,
      ],
      [file('two-cols.tsv', 'a\tb\t1\nc\td\n'), /two-cols\.tsv: line 2: expected/],
      [file('one.tsv', 'a\tb\t1\n'), /one\.tsv: needs at least 2 scored pairs, found 1/],
      [file('flat.tsv', 'a\tb\t3\nc\td\t3\n'), /flat\.tsv: every gold score is the same/],
      [join(tmp, 'missing.tsv'), /missing\.tsv: no such file/],
    ];
    for (const [path, message] of cases) {
      const r = await sbert(['evaluate', '--model', fixture('tiny', 'st'), '--data', path, '--backend', MAIN_BACKEND]);
      expect(r.code, path).toBe(2);
      expect(errorLine(r)).toMatch(message);
    }
  });
});
