// Added tokens with tokenizer.json flags (single_word, lstrip, rstrip, normalized), on the cases of HF
// tokenizers' own tests (added_vocabulary.rs: options_use_cases, test_single_word_is_correct,
// test_single_word_is_unicode_correct, test_lstrip_unicode_space), with BERT's normalizer. The expected
// splits are HF's; the text between added tokens must tokenize exactly as it does on its own.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { BertTokenizer } from '../../src/tokenizer/index.js';
import { WordPiece } from '../../src/tokenizer/wordpiece.js';
import { fixture } from '../fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'sbert-added-'));
const base = JSON.parse(readFileSync(fixture('tiny', 'hf', 'tokenizer.json'), 'utf8')) as { added_tokens: object[] };
const plain = BertTokenizer.fromFiles({ tokenizerJson: fixture('tiny', 'hf', 'tokenizer.json') });
const FIRST_ID = 21128; // after the vocabulary

interface Flags {
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

let files = 0;
/** tiny/hf's tokenizer.json with `tokens` added (ids from 21128, in order). */
function withAdded(tokens: [string, Flags][]): BertTokenizer {
  const added = tokens.map(([content, f], i) => ({
    id: FIRST_ID + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: false,
    ...f,
  }));
  const file = join(tmp, `tokenizer-${files++}.json`);
  writeFileSync(file, JSON.stringify({ ...base, added_tokens: [...base.added_tokens, ...added] }));
  return BertTokenizer.fromFiles({ tokenizerJson: file });
}

/**
 * What `text` must tokenize to, given HF's splits: `[start, end, id]` for an added token's span (code
 * points), and the text between spans tokenized on its own by the plain tokenizer, shifted to its place.
 */
function expected(
  text: string,
  spans: [number, number, number][],
): { ids: number[]; starts: number[]; ends: number[] } {
  const cps = [...text];
  const out = { ids: [] as number[], starts: [] as number[], ends: [] as number[] };
  const between = (a: number, b: number) => {
    const t = plain.tokenizeRaw(cps.slice(a, b).join(''));
    out.ids.push(...t.ids);
    out.starts.push(...t.starts.map((s) => s + a));
    out.ends.push(...t.ends.map((e) => e + a));
  };
  let done = 0;
  for (const [s, e, id] of spans) {
    between(done, s);
    out.ids.push(id);
    out.starts.push(s);
    out.ends.push(e);
    done = e;
  }
  between(done, cps.length);
  return out;
}

describe('added tokens with flags, as HF tokenizers splits them', () => {
  it('lstrip + rstrip take the spaces beside the token; normalized tokens match lower-cased text (options_use_cases)', () => {
    const tok = withAdded([
      ['my', { lstrip: true, rstrip: true, normalized: true }],
      ['name', { normalized: true }],
      ['ony', { single_word: true, normalized: true }],
    ]);
    const text = '[CLS] My name is Anthony [SEP]';
    const [cls, sep] = [plain.clsId, plain.sepId];
    // HF: "[CLS]" | " my " | "name" | " is anthony " | "[SEP]". "my" and "name" are in the vocabulary, so HF gives
    // them its ids (8422, 8617; AddedVocabulary::add_tokens), whatever the file says; "ony" gets the first new id.
    expect(tok.tokenizeRaw(text)).toEqual(
      expected(text, [
        [0, 5, cls],
        [5, 9, 8422],
        [9, 13, 8617],
        [25, 30, sep],
      ]),
    );
    expect(tok.vocab.ids.get('ony')).toBe(FIRST_ID);
    // the added "my" really was matched: its span took the spaces around it
    expect(plain.tokenizeRaw(text).starts).not.toEqual(tok.tokenizeRaw(text).starts);
    expect(tok.encode(text).tokens.slice(0, 5)).toEqual(['[CLS]', '[CLS]', 'my', 'name', plain.encode('is').tokens[1]]);
  });

  it('a token with normalized: false matches only its exact raw form', () => {
    const tok = withAdded([['my', { lstrip: true, rstrip: true }]]);
    expect(tok.tokenizeRaw('My my')).toEqual(expected('My my', [[2, 5, 8422]]));
  });

  it('single_word: not inside a word, whatever its script (test_single_word_is_correct, _is_unicode_correct)', () => {
    const tok = withAdded([['<mask>', { single_word: true }]]);
    const text = '<mask> My name <mask> A<mask> <mask>ony <mask>';
    expect(tok.tokenizeRaw(text)).toEqual(
      expected(text, [
        [0, 6, FIRST_ID],
        [15, 21, FIRST_ID],
        [40, 46, FIRST_ID],
      ]),
    );
    // punctuation and a dash are not word characters; a combining mark (U+0330 after U+25CC) is
    const uni = '<mask>, <mask>- \u25cc\u0330<mask>';
    expect(tok.tokenizeRaw(uni)).toEqual(
      expected(uni, [
        [0, 6, FIRST_ID],
        [8, 14, FIRST_ID],
      ]),
    );
    // without the flag every occurrence is the token
    const loose = withAdded([['<mask>', {}]]);
    expect(loose.tokenizeRaw(text).ids.filter((id) => id === FIRST_ID)).toHaveLength(5);
  });

  it('lstrip / rstrip take any Unicode whitespace, never what an earlier token took (test_lstrip_unicode_space)', () => {
    const tok = withAdded([['<mask>', { lstrip: true, rstrip: true, single_word: true }]]);
    const text = 'Hi <mask> there\t<mask>\t<mask>\u2000';
    expect(tok.tokenizeRaw(text)).toEqual(
      expected(text, [
        [2, 10, FIRST_ID],
        [15, 23, FIRST_ID],
        [23, 30, FIRST_ID],
      ]),
    );
  });

  it('normalized tokens match accent-stripped, lower-cased text, and CJK words across the spaces BERT puts around ideographs', () => {
    // "cafe" is in the vocabulary (8377); "新冠" is not, and gets the first new id (HF, as above)
    const tok = withAdded([
      ['cafe', { normalized: true }],
      ['新冠', { normalized: true }],
    ]);
    expect(tok.tokenizeRaw('CAFÉ au lait')).toEqual(expected('CAFÉ au lait', [[0, 4, 8377]]));
    // normalised: " 我  新  冠  了 ", pattern " 新  冠 " (the padding spaces align to their ideograph)
    expect(tok.tokenizeRaw('我新冠了')).toEqual(expected('我新冠了', [[1, 3, FIRST_ID]]));
    expect(withAdded([['新冠', {}]]).tokenizeRaw('我新冠了')).toEqual(expected('我新冠了', [[1, 3, FIRST_ID]]));
    // a code point beyond the BMP before the token keeps the offsets in code points
    expect(tok.tokenizeRaw('𠀀CAFE')).toEqual(expected('𠀀CAFE', [[1, 5, 8377]]));
  });

  it('the same content listed twice: one id, the later flags (HF keeps one token per id)', () => {
    // HF (tokenizers 0.23.2): York[X]! → york (0,4), [X] 21128 (4,7), ! (7,8) when the later entry drops single_word
    expect(
      withAdded([
        ['[X]', { single_word: true }],
        ['[X]', {}],
      ]).tokenizeRaw('York[X]!'),
    ).toEqual({ ids: [9507, FIRST_ID, 106], starts: [0, 4, 7], ends: [4, 7, 8] });
    expect(
      withAdded([
        ['[X]', {}],
        ['[X]', { single_word: true }],
      ]).tokenizeRaw('York[X]!').ids,
    ).toEqual([9507, 138, 166, 140, 106]);
  });

  it('a match inside the whitespace an rstrip token took: the spans overlap, as in HF', () => {
    // HF: "x a  a y" → x (0,1), " a " (1,5) with the extra space, " a " (4,7), y (7,8)
    expect(withAdded([[' a ', { rstrip: true }]]).tokenizeRaw('x a  a y')).toEqual({
      ids: [166, FIRST_ID, FIRST_ID, 167],
      starts: [0, 1, 4, 7],
      ends: [1, 5, 7, 8],
    });
  });

  it('a long text with normalized tokens is normalised a block at a time, with the same result as at once', () => {
    const tok = withAdded([
      ['new york', { normalized: true, lstrip: true, rstrip: true }],
      ['新冠', { normalized: true, single_word: true }],
      ['ab', { normalized: true }],
      ['x', {}],
    ]);
    const parts = [
      'New York',
      'NEW  YORK',
      '新冠',
      '我',
      'ab',
      'AB',
      'x',
      ' ',
      '  ',
      '\u3000',
      '\t',
      'é',
      '𠀀',
      'unbelievable',
      '.',
      '\u0000',
    ];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...parts), { maxLength: 80 }),
        fc.integer({ min: 16, max: 40 }),
        (ps, block) => {
          const text = ps.join('');
          const whole = tok.tokenizeRaw(text);
          WordPiece.normalizeBlock = block;
          try {
            expect(tok.tokenizeRaw(text)).toEqual(whole);
          } finally {
            WordPiece.normalizeBlock = 8192;
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('decode skips the special tokens only', () => {
    const tok = withAdded([
      ['[E1]', { special: true }],
      ['covid', { normalized: true }],
    ]);
    const ids = tok.encode('[E1] Covid').inputIds;
    expect(ids).toEqual([plain.clsId, FIRST_ID, FIRST_ID + 1, plain.sepId]);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('covid');
    expect(tok.decode(ids)).toBe('[CLS] [E1] covid [SEP]');
  });

  it('vocab.txt + tokenizer_config.json: added tokens come from added_tokens_decoder (ignored beside a tokenizer.json)', () => {
    const config = join(tmp, 'tokenizer_config.json');
    const flags = { lstrip: false, normalized: false, rstrip: false, single_word: false };
    writeFileSync(
      config,
      JSON.stringify({
        do_lower_case: true,
        added_tokens_decoder: {
          0: { content: '[PAD]', ...flags, special: true },
          [FIRST_ID]: { content: '[E1]', ...flags, special: true },
          [FIRST_ID + 1]: { content: 'covid', ...flags, normalized: true, special: false },
        },
      }),
    );
    const slow = BertTokenizer.fromFiles({ vocab: fixture('vocab.txt'), tokenizerConfig: config });
    expect(slow.encode('[E1]那个人 COVID').inputIds).toEqual([
      plain.clsId,
      FIRST_ID,
      ...plain.tokenizeRaw('那个人').ids,
      FIRST_ID + 1,
      plain.sepId,
    ]);
    expect(slow.idToToken(FIRST_ID)).toBe('[E1]');
    const fast = BertTokenizer.fromFiles({
      tokenizerJson: fixture('tiny', 'hf', 'tokenizer.json'),
      tokenizerConfig: config,
    });
    expect(fast.encode('[E1]').inputIds).toEqual(plain.encode('[E1]').inputIds);
  });

  it('a flag that is not a boolean is an error naming the file', () => {
    const file = join(tmp, 'bad-flag.json');
    writeFileSync(
      file,
      JSON.stringify({ ...base, added_tokens: [...base.added_tokens, { id: FIRST_ID, content: 'x', lstrip: 'yes' }] }),
    );
    expect(() => BertTokenizer.fromFiles({ tokenizerJson: file })).toThrow(CheckpointError);
    expect(() => BertTokenizer.fromFiles({ tokenizerJson: file })).toThrow(
      /added token "x": lstrip must be true or false/,
    );
  });
});
