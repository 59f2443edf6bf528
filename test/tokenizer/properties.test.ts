// Property tests on random Unicode: all planes, lone surrogates, combining marks, CJK, special tokens,
// control and zero-width characters, empty and 100k-character strings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BertTokenizer, utf16Offsets, type Encoding } from '../../src/tokenizer/index.js';
import { fixture } from '../fixtures.js';

const zh = BertTokenizer.fromFiles({ vocab: fixture('vocab.txt') });
const en = BertTokenizer.fromFiles({ vocab: fixture('vocab-en.txt') });

const cp = (min: number, max: number): fc.Arbitrary<string> =>
  fc.integer({ min, max }).map((c) => String.fromCodePoint(c));
const unit = fc.oneof(
  cp(0, 0x10ffff), // any code point of any plane, lone surrogates (U+D800-DFFF) included
  cp(0xd800, 0xdfff), // lone surrogates, more often
  cp(0x20, 0x7e), // ASCII
  cp(0x300, 0x36f), // combining marks
  cp(0x4e00, 0x9fff), // CJK
  cp(0x20000, 0x2a6df), // CJK extension B (supplementary plane)
  cp(0x1f300, 0x1faff), // emoji
  cp(0xac00, 0xd7a3), // Hangul syllables (NFD expands them)
  fc.constantFrom(
    '\t',
    '\n',
    '\r',
    ' ',
    '\u3000',
    '\u00a0',
    '\u200b',
    '\u200d',
    '\ufeff',
    '\u0000',
    '\ufffd',
    '\u2028',
    '\u00ad',
  ),
  fc.constantFrom('[CLS]', '[SEP]', '[MASK]', '[UNK]', '[PAD]', '##', 'İ', 'Σ', 'ß', 'ﬁ', 'Ǆ', 'Å', 'é', '豈'),
);
const text = fc.string({ unit, maxLength: 60 });

function cpLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The invariants every encoding must satisfy, for a single text of `len` code points. */
function checkEncoding(tok: BertTokenizer, e: Encoding, lens: number[]): void {
  const n = e.inputIds.length;
  expect(e.tokenTypeIds.length).toBe(n);
  expect(e.attentionMask.length).toBe(n);
  expect(e.tokens.length).toBe(n);
  expect(e.offsets.length).toBe(n);
  expect(e.inputIds[0]).toBe(tok.clsId);
  expect(e.inputIds[n - 1]).toBe(tok.sepId);
  let segment = 0;
  let lastStart = 0;
  for (let i = 0; i < n; i++) {
    const id = e.inputIds[i]!;
    expect(Number.isInteger(id) && id >= 0 && id < tok.vocabSize).toBe(true);
    expect(e.tokens[i]).toBe(tok.idToToken(id));
    const [s, end] = e.offsets[i]!;
    if (i > 0 && e.inputIds[i - 1] === tok.sepId && e.offsets[i - 1]![1] === 0 && i !== n - 1) {
      segment++;
      lastStart = 0;
    }
    if ((id === tok.clsId || id === tok.sepId) && s === 0 && end === 0) continue;
    expect(s).toBeGreaterThanOrEqual(lastStart); // non-decreasing
    expect(end).toBeGreaterThan(s);
    expect(end).toBeLessThanOrEqual(lens[Math.min(segment, lens.length - 1)]!); // inside the text
    lastStart = s;
  }
}

describe('tokenizer properties', () => {
  it('never throws on random Unicode; ids in the vocabulary; offsets inside the text and non-decreasing', () => {
    fc.assert(
      fc.property(text, (t) => {
        for (const tok of [zh, en]) checkEncoding(tok, tok.encode(t), [cpLength(t)]);
      }),
      { numRuns: 1500 },
    );
  });

  it('pairs and truncation keep the invariants and the length limit', () => {
    fc.assert(
      fc.property(text, text, fc.integer({ min: 3, max: 40 }), (a, b, max) => {
        const e = zh.encodePair(a, b, { maxLength: max });
        expect(e.inputIds.length).toBeLessThanOrEqual(max);
        checkEncoding(zh, e, b === '' ? [cpLength(a)] : [cpLength(a), cpLength(b)]);
        const s = zh.encode(a, { maxLength: max });
        expect(s.inputIds.length).toBeLessThanOrEqual(max);
        expect(s.inputIds.slice(0, -1)).toEqual(zh.encode(a).inputIds.slice(0, s.inputIds.length - 1));
      }),
      { numRuns: 400 },
    );
  });

  it('on lower-case ASCII, every piece is the text at its offsets (## removed)', () => {
    const ascii = fc.string({
      unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789 .,!?-'#".split('')),
      maxLength: 80,
    });
    fc.assert(
      fc.property(ascii, (t) => {
        const e = en.encode(t);
        const u = utf16Offsets(t, e.offsets);
        e.tokens.forEach((tok, i) => {
          if (i === 0 || i === e.tokens.length - 1 || tok === '[UNK]') return;
          expect(tok.replace(/^##/, '')).toBe(t.slice(u[i]![0], u[i]![1]));
        });
      }),
      { numRuns: 500 },
    );
  });

  it('handles the empty string and 100k-character strings', () => {
    expect(zh.encode('').inputIds).toEqual([101, 102]);
    const word = 'a'.repeat(100_000);
    const w = zh.encode(word);
    expect(w.tokens).toEqual(['[CLS]', '[UNK]', '[SEP]']);
    expect(w.offsets[1]).toEqual([0, 100_000]);
    const cjk = '中'.repeat(100_000);
    const c = zh.encode(cjk);
    expect(c.inputIds.length).toBe(100_002);
    expect(c.offsets[100_000]).toEqual([99_999, 100_000]);
    const mixed = fc.sample(text, { numRuns: 5000, seed: 42 }).join(' ').slice(0, 100_000);
    checkEncoding(zh, zh.encode(mixed), [cpLength(mixed)]);
    const truncated = zh.encode(mixed, { maxLength: 512 });
    expect(truncated.inputIds.length).toBe(512);
  });
});
