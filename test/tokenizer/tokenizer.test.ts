// Settings, loading errors, truncation arithmetic, decode and the UTF-16 helper.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, InputError, UsageError } from '../../src/errors.js';
import { BertTokenizer, longestFirst, utf16Offsets } from '../../src/tokenizer/index.js';
import { fixture } from '../fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'sbert-tok-unit-'));
let n = 0;
function writeTmp(name: string, content: unknown): string {
  const path = join(tmp, `${n++}-${name}`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
const vocab = fixture('vocab.txt');
const en = BertTokenizer.fromFiles({ vocab: fixture('vocab-en.txt') });
const zh = BertTokenizer.fromFiles({ vocab });
const tokenizerJson = JSON.parse(readFileSync(fixture('tiny', 'hf', 'tokenizer.json'), 'utf8')) as Record<
  string,
  unknown
>;

describe('settings', () => {
  it('do_lower_case defaults to true; strip_accents follows it unless set', () => {
    expect(zh.settings.doLowerCase).toBe(true);
    expect(zh.encode('Café').tokens).toEqual(['[CLS]', 'cafe', '[SEP]']);
    const keepAccents = BertTokenizer.fromFiles({
      vocab,
      tokenizerConfig: writeTmp('tc.json', { strip_accents: false }),
    });
    // lower-cased but not stripped: "café" is not in the (accent-stripped) vocabulary
    expect(keepAccents.encode('Café').tokens).toEqual(['[CLS]', '[UNK]', '[SEP]']);
    const cased = BertTokenizer.fromFiles({ vocab, tokenizerConfig: writeTmp('tc.json', { do_lower_case: false }) });
    expect(cased.encode('Café').tokens).toEqual(['[CLS]', '[UNK]', '[SEP]']);
    const stripOnly = BertTokenizer.fromFiles({
      vocab,
      tokenizerConfig: writeTmp('tc.json', { do_lower_case: false, strip_accents: true }),
    });
    expect(stripOnly.encode('café').tokens).toEqual(['[CLS]', 'cafe', '[SEP]']);
    expect(cased.encode('café').tokens).toEqual(['[CLS]', '[UNK]', '[SEP]']);
  });

  it('tokenize_chinese_chars=false keeps ideographs inside words (WordPiece splits them with ##)', () => {
    const t = BertTokenizer.fromFiles({
      vocab,
      tokenizerConfig: writeTmp('tc.json', { tokenize_chinese_chars: false }),
    });
    expect(t.encode('那个人').tokens).toEqual(['[CLS]', '那', '##个', '##人', '[SEP]']);
    expect(zh.encode('那个人').tokens).toEqual(['[CLS]', '那', '个', '人', '[SEP]']);
  });

  it('reads BertNormalizer settings from tokenizer.json when no BERT class is named (transformers 5.17)', () => {
    const tj = writeTmp('tokenizer.json', {
      ...tokenizerJson,
      normalizer: {
        type: 'BertNormalizer',
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: null,
        lowercase: false,
      },
    });
    const t = BertTokenizer.fromFiles({ tokenizerJson: tj });
    expect(t.settings.doLowerCase).toBe(false);
    expect(t.encode('Hello').tokens).toEqual(['[CLS]', '[UNK]', '[SEP]']);
    // no class: AutoTokenizer builds TokenizersBackend from the file, and do_lower_case is not one of its arguments
    const noClass = BertTokenizer.fromFiles({
      tokenizerJson: tj,
      tokenizerConfig: writeTmp('tc.json', { do_lower_case: true }),
    });
    expect(noClass.encode('Hello').tokens).toEqual(['[CLS]', '[UNK]', '[SEP]']);
    expect(noClass.sources.doLowerCase).toMatch(/tokenizer\.json normalizer$/);
  });

  it('matches added tokens from tokenizer.json whole, in the raw text', () => {
    // As HF saves tokens added after training: in added_tokens only, with ids past model.vocab.
    const tj = writeTmp('tokenizer.json', {
      ...tokenizerJson,
      added_tokens: [
        ...(tokenizerJson.added_tokens as object[]),
        { id: 21128, content: '<new>', special: true, normalized: false },
      ],
    });
    const t = BertTokenizer.fromFiles({ tokenizerJson: tj });
    expect(t.vocabSize).toBe(21129);
    expect(t.idToToken(21128)).toBe('<new>');
    const e = t.encode('中<new>文 [MASK]x');
    expect(e.tokens).toEqual(['[CLS]', '中', '<new>', '文', '[MASK]', 'x', '[SEP]']);
    expect(e.offsets).toEqual([
      [0, 0],
      [0, 1],
      [1, 6],
      [6, 7],
      [8, 14],
      [14, 15],
      [0, 0],
    ]);
    // Special tokens match case-sensitively: lower case is ordinary text.
    expect(zh.encode('[mask]').tokens).toEqual(['[CLS]', '[', 'ma', '##sk', ']', '[SEP]']);
  });
});

describe('character classes as HF tokenizers has them (Unicode 9.0 categories, from its sources)', () => {
  const tok = (t: string): [string, [number, number]][] => {
    const e = zh.encode(t);
    return e.tokens.map((x, i) => [x, e.offsets[i]!]);
  };
  it('drops Cc, Cf and private use (Unicode 9.0), keeps unassigned code points, drops lone surrogates', () => {
    expect(tok('\ue001a\u200b\u0085b').slice(1, -1)).toEqual([['ab', [1, 5]]]);
    expect(tok('\ue001a').slice(1, -1)).toEqual([['a', [1, 2]]]);
    expect(tok('a\u0378').slice(1, -1)).toEqual([['[UNK]', [0, 2]]]); // U+0378 unassigned: kept in the word
    expect(tok('\u0890').slice(1, -1)).toEqual([['[UNK]', [0, 1]]]); // Cf only since Unicode 14: kept
    expect(tok('\ud800a\udc00').slice(1, -1)).toEqual([['a', [1, 2]]]);
  });

  it('splits on Unicode 9.0 punctuation only; whitespace is Unicode White_Space', () => {
    expect(tok('a\u2e3ab').map((x) => x[0])).toEqual(['[CLS]', 'a', '[UNK]', 'b', '[SEP]']); // U+2E3A Pd (6.1)
    expect(tok('a\u2e4fb').map((x) => x[0])).toEqual(['[CLS]', '[UNK]', '[SEP]']); // U+2E4F Po only since 12.0
    expect(tok('a\u2028b\u00a0c').slice(1, -1)).toEqual([
      ['a', [0, 1]],
      ['b', [2, 3]],
      ['c', [4, 5]],
    ]);
  });
});

describe('loading errors', () => {
  it('names the folder or file and the problem', () => {
    expect(() => BertTokenizer.fromDir(join(tmp, 'nope'))).toThrow(InputError);
    expect(() => BertTokenizer.fromDir(fixture('tiny'))).toThrow(/tiny: no tokenizer.json or vocab.txt/);
    const bad = writeTmp('tokenizer.json', '{"model": ');
    expect(() => BertTokenizer.fromFiles({ tokenizerJson: bad })).toThrow(CheckpointError);
    expect(() => BertTokenizer.fromFiles({ tokenizerJson: bad })).toThrow(/tokenizer.json: invalid JSON/);
    const bpe = writeTmp('tokenizer.json', { ...tokenizerJson, model: { type: 'BPE', vocab: {}, merges: [] } });
    expect(() => BertTokenizer.fromFiles({ tokenizerJson: bpe })).toThrow(/model type "BPE" is not supported/);
    const nfkc = writeTmp('tokenizer.json', { ...tokenizerJson, normalizer: { type: 'NFKC' } });
    expect(() => BertTokenizer.fromFiles({ tokenizerJson: nfkc })).toThrow(/normalizer "NFKC" is not supported/);
    const noSpecials = writeTmp('vocab.txt', 'a\nb\n');
    expect(() => BertTokenizer.fromFiles({ vocab: noSpecials })).toThrow(
      /the unknown-word token "\[UNK\]" \(default\) is not in the vocabulary/,
    );
    expect(() => BertTokenizer.fromFiles({ vocab: join(tmp, 'missing.txt') })).toThrow(/missing.txt: no such file/);
    const badConfig = writeTmp('tc.json', { do_lower_case: 'yes' });
    expect(() => BertTokenizer.fromFiles({ vocab, tokenizerConfig: badConfig })).toThrow(
      /do_lower_case must be true or false/,
    );
  });

  it('rejects a max length with no room for the special tokens', () => {
    expect(() => zh.encode('abc', { maxLength: 1 })).toThrow(UsageError);
    expect(() => zh.encodePair('a', 'b', { maxLength: 2 })).toThrow(UsageError);
    expect(zh.encode('abc', { maxLength: 2 }).inputIds).toEqual([101, 102]);
  });
});

describe('truncation and padding', () => {
  it('longest_first: the shorter keeps its length when it can, else halves (longer gets the odd one)', () => {
    expect(longestFirst(5, 5, 20)).toEqual([5, 5]);
    expect(longestFirst(2, 100, 29)).toEqual([2, 27]);
    expect(longestFirst(100, 2, 29)).toEqual([27, 2]);
    expect(longestFirst(100, 100, 61)).toEqual([30, 31]);
    expect(longestFirst(100, 90, 61)).toEqual([31, 30]);
    expect(longestFirst(20, 25, 30)).toEqual([15, 15]);
    expect(longestFirst(3, 3, 0)).toEqual([0, 0]);
  });

  it('pads a batch to its longest with [PAD], type 0, mask 0, offsets [0, 0]', () => {
    const [a, b] = zh.encodeBatch(['你好', '']);
    expect(a!.inputIds).toEqual([101, 872, 1962, 102]);
    expect(b!.inputIds).toEqual([101, 102, 0, 0]);
    expect(b!.attentionMask).toEqual([1, 1, 0, 0]);
    expect(b!.tokens).toEqual(['[CLS]', '[SEP]', '[PAD]', '[PAD]']);
    expect(b!.offsets).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    expect(zh.encodeBatch(['你好', ''], { padding: false })[1]!.inputIds).toEqual([101, 102]);
    const pairs = zh.encodePairBatch([
      ['你', '好'],
      ['你好', null],
    ]);
    expect(pairs[0]!.tokenTypeIds).toEqual([0, 0, 0, 1, 1]);
    expect(pairs[1]!.tokenTypeIds).toEqual([0, 0, 0, 0, 0]);
    expect(pairs[1]!.attentionMask).toEqual([1, 1, 1, 1, 0]);
  });
});

describe('decode', () => {
  it('joins ## pieces and cleans spaces before punctuation like HF WordPiece decoding', () => {
    expect(en.decode(en.encode('Hello, World! unaffable antidisestablishmentarianism').inputIds)).toBe(
      '[CLS] hello, world! unaffable antidisestablishmentarianism [SEP]',
    );
    // HF's WordPiece decoder cleans up token by token, so " ' " never matches: the fast tokenizer gives "don ' t".
    expect(en.decode(en.encode("I don't know.").inputIds, { skipSpecialTokens: true })).toBe("i don ' t know.");
    expect(zh.decode(zh.encode('我爱北京天安门！').inputIds, { skipSpecialTokens: true })).toBe(
      '我 爱 北 京 天 安 门 ！',
    );
    expect(() => zh.decode([999_999])).toThrow(RangeError);
  });
});

describe('utf16Offsets', () => {
  it('maps code-point offsets to UTF-16 offsets across astral characters', () => {
    const text = '𠮷野家😂a';
    const e = zh.encode(text);
    expect(e.tokens).toEqual(['[CLS]', '[UNK]', '野', '家', '😂', '##a', '[SEP]']);
    expect(e.offsets).toEqual([
      [0, 0],
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
      [0, 0],
    ]);
    const u = utf16Offsets(text, e.offsets);
    expect(u).toEqual([
      [0, 0],
      [0, 2],
      [2, 3],
      [3, 4],
      [4, 6],
      [6, 7],
      [0, 0],
    ]);
    expect(text.slice(u[1]![0], u[1]![1])).toBe('𠮷');
    expect(text.slice(u[4]![0], u[4]![1])).toBe('😂');
  });
});
