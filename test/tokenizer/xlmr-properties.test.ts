// Property tests of the XLM-R (SentencePiece Unigram) tokenizer on random Unicode: all planes, lone surrogates,
// combining marks and other grapheme joiners, characters the normalizer expands or deletes, special tokens in
// the text, empty and 100k-character strings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Encoding } from '../../src/tokenizer/index.js';
import { XLMRobertaTokenizer } from '../../src/tokenizer/xlmr-tokenizer.js';
import { fixture } from '../fixtures.js';

const tok = XLMRobertaTokenizer.fromDir(fixture('xlmr', 'xlmr-tiny', 'hf'));

const cp = (min: number, max: number): fc.Arbitrary<string> =>
  fc.integer({ min, max }).map((c) => String.fromCodePoint(c));
const unit = fc.oneof(
  cp(0, 0x10ffff), // any code point of any plane, lone surrogates (U+D800-DFFF) included
  cp(0xd800, 0xdfff), // lone surrogates, more often
  cp(0x20, 0x7e), // ASCII
  cp(0x300, 0x36f), // combining marks
  cp(0x4e00, 0x9fff), // CJK
  cp(0xff00, 0xffef), // full- and half-width forms (NFKC rewrites them; ﾞ joins the character before)
  cp(0x1100, 0x11ff), // conjoining jamo
  cp(0x900, 0x97f), // Devanagari (virama conjuncts)
  cp(0x1f1e6, 0x1f1ff), // regional indicators
  cp(0x1f300, 0x1faff), // emoji
  fc.constantFrom(
    '\t',
    '\n',
    '\r',
    '\r\n',
    ' ',
    '\u3000',
    '\u00a0',
    '\u200b',
    '\u200d',
    '\ufeff',
    '\u0000',
    '\u007f',
    '\u2581',
  ),
  fc.constantFrom(
    '<s>',
    '</s>',
    '<mask>',
    '<pad>',
    '<unk>',
    ' <mask>',
    '＜ｓ＞',
    'ﬁ',
    '①',
    '½',
    '™',
    'ｶﾞ',
    'e\u0301',
    'ﷺ',
  ),
);
const text = fc.string({ unit, maxLength: 60 });

function cpLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Invariants of every encoding: `lens` holds the code-point length of each segment's text. */
function checkEncoding(e: Encoding, lens: number[]): void {
  const n = e.inputIds.length;
  for (const a of [e.tokenTypeIds, e.attentionMask, e.tokens, e.offsets]) expect(a.length).toBe(n);
  expect(e.tokenTypeIds.every((t) => t === 0)).toBe(true);
  expect(e.inputIds[0]).toBe(tok.clsId);
  expect(e.inputIds[n - 1]).toBe(tok.sepId);
  let segment = 0;
  let lastStart = 0;
  for (let i = 1; i < n - 1; i++) {
    const id = e.inputIds[i]!;
    const [s, end] = e.offsets[i]!;
    if (id === tok.sepId && s === 0 && end === 0) {
      // the template's </s></s> between the two texts
      if (e.inputIds[i + 1] === tok.sepId && e.offsets[i + 1]![1] === 0) i++;
      segment++;
      lastStart = 0;
      continue;
    }
    expect(Number.isInteger(id) && id >= 0 && id < tok.vocabSize).toBe(true);
    expect(e.tokens[i]).toBe(tok.idToToken(id));
    expect(s).toBeGreaterThanOrEqual(lastStart); // non-decreasing
    expect(end).toBeGreaterThan(s);
    expect(end).toBeLessThanOrEqual(lens[Math.min(segment, lens.length - 1)]!); // inside the text
    lastStart = s;
  }
}

describe('XLM-R tokenizer properties', () => {
  it('never throws on random Unicode; ids in the vocabulary; offsets inside the text and non-decreasing', () => {
    fc.assert(
      fc.property(text, (t) => checkEncoding(tok.encode(t), [cpLength(t)])),
      { numRuns: 2000 },
    );
  });

  it('pairs and truncation keep the invariants and the length limit', () => {
    fc.assert(
      fc.property(text, text, fc.integer({ min: 4, max: 40 }), (a, b, max) => {
        const e = tok.encodePair(a, b, { maxLength: max });
        expect(e.inputIds.length).toBeLessThanOrEqual(max);
        checkEncoding(e, b === '' ? [cpLength(a)] : [cpLength(a), cpLength(b)]);
        const s = tok.encode(a, { maxLength: max });
        expect(s.inputIds.length).toBeLessThanOrEqual(max);
        expect(s.inputIds.slice(0, -1)).toEqual(tok.encode(a).inputIds.slice(0, s.inputIds.length - 1));
      }),
      { numRuns: 500 },
    );
  });

  it('prefixDecides: when it says a prefix decides, every text with that prefix encodes the same', () => {
    let decided = 0;
    // texts of many short words, so that tokenizing stops well inside them
    const words = fc
      .array(fc.string({ unit, minLength: 1, maxLength: 5 }), { minLength: 8, maxLength: 40 })
      .map((w) => w.join(' '));
    fc.assert(
      fc.property(words, text, fc.integer({ min: 2, max: 12 }), (head, tail, max) => {
        const prefix = head + tail.slice(0, 8);
        if (!tok.prefixDecides(prefix, max)) return;
        decided++;
        const full = tok.encode(prefix + tail, { maxLength: max });
        expect(full).toEqual(tok.encode(prefix, { maxLength: max }));
      }),
      { numRuns: 3000 },
    );
    expect(decided).toBeGreaterThan(100); // the property was exercised
    expect(tok.prefixDecides('word '.repeat(40), 8)).toBe(true);
    expect(tok.prefixDecides('word '.repeat(3), 8)).toBe(false); // tokenizing never stopped
    expect(tok.prefixDecides('x'.repeat(200), 8)).toBe(false); // one word, which the rest may continue
  });

  it('batches pad every encoding to the longest with <pad> and mask 0', () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 6 }), (texts) => {
        const encs = tok.encodeBatch(texts);
        const len = Math.max(...texts.map((t) => tok.encode(t).inputIds.length));
        encs.forEach((e, i) => {
          const alone = tok.encode(texts[i]!);
          expect(e.inputIds.length).toBe(len);
          expect(e.inputIds.slice(0, alone.inputIds.length)).toEqual(alone.inputIds);
          expect(e.inputIds.slice(alone.inputIds.length).every((id) => id === tok.padId)).toBe(true);
          expect(e.attentionMask.reduce((a, b) => a + b, 0)).toBe(alone.inputIds.length);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the invariants on 100k-character texts of every kind', () => {
    const mixed = fc.sample(text, { numRuns: 5000, seed: 42 }).join(' ').slice(0, 100_000);
    const samples = [
      mixed,
      '\ud800'.repeat(100_000), // lone surrogates only
      '\u0301'.repeat(100_000), // one grapheme cluster of 100k marks
      '🇨🇳a\u0301ｶﾞ'.repeat(16_000),
      ' \u3000\u200b'.repeat(33_000),
      '<mask>'.repeat(16_000),
    ];
    for (const t of samples) {
      checkEncoding(tok.encode(t), [cpLength(t)]);
      const cut = tok.encode(t, { maxLength: 512 });
      expect(cut.inputIds.length).toBeLessThanOrEqual(512);
      checkEncoding(cut, [cpLength(t)]);
    }
    expect(tok.encode('').inputIds).toEqual([0, 2]);
  });
});
