// The three rule families where tokenizers 0.23 / transformers 5.17 differ from older HF (issue #16 §1):
// pair truncation on whole-word prefixes, the Unicode White_Space class with clean_text off, and which
// settings win when tokenizer_config.json names a BERT class. Instances from the issue, HF's own answers
// (recorded with tokenizers 0.23.2 / transformers 5.17, quoted where used), and variants checked against the
// rule as documented in src/tokenizer.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { BertTokenizer, longestFirst } from '../../src/tokenizer/index.js';
import { sbert } from '../cli.js';
import { fixture } from '../fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'sbert-rules-'));
let n = 0;
const zhJson = JSON.parse(readFileSync(fixture('tiny', 'hf', 'tokenizer.json'), 'utf8')) as Record<string, unknown> & {
  model: Record<string, unknown>;
  normalizer: Record<string, unknown>;
  added_tokens: Record<string, unknown>[];
};
const zh = BertTokenizer.fromDir(fixture('tiny', 'hf'));

/** The English uncased vocabulary as a tokenizer.json (tiny/hf's settings), for "Hello World". */
function enJson(): typeof zhJson {
  const words = readFileSync(fixture('vocab-en.txt'), 'utf8').split('\n');
  if (words.at(-1) === '') words.pop();
  const vocab = Object.fromEntries(words.map((w, i) => [w, i]));
  const added = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return { ...structuredClone(zhJson), model: { ...zhJson.model, vocab }, added_tokens: added };
}
const EN = enJson();

/** A folder with tokenizer.json (`tj`), and tokenizer_config.json / config.json when given. */
function folder(tj: object, tc?: object, config?: object): string {
  const dir = join(tmp, `m${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tj));
  if (tc) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tc));
  if (config) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}
const withNormalizer = (base: typeof zhJson, norm: object): object => ({
  ...base,
  normalizer: { ...base.normalizer, ...norm },
});
const tokens = (tok: BertTokenizer, text: string): string[] => tok.encode(text).tokens.slice(1, -1);

describe('pair truncation as tokenizers ≥ 0.23: whole-word prefixes of max_length tokens, then longest_first', () => {
  it('gives HF’s ids on every STS-B test pair at max_length 8/16/24/32/64 (pairs-truncation.jsonl)', () => {
    const [meta, ...rows] = readFileSync(fixture('tokenizer', 'pairs-truncation.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(JSON.parse(meta!).meta.tokenizers).toBe('0.23.2');
    expect(rows.length).toBe(6770);
    const bad: string[] = [];
    for (const line of rows) {
      const r = JSON.parse(line) as {
        a: string;
        b: string;
        max_length: number;
        input_ids: number[];
        token_type_ids: number[];
      };
      const e = zh.encodePair(r.a, r.b, { maxLength: r.max_length });
      if (JSON.stringify([e.inputIds, e.tokenTypeIds]) !== JSON.stringify([r.input_ids, r.token_type_ids]))
        bad.push(`${r.a} / ${r.b} / ${r.max_length}`);
    }
    expect(bad).toEqual([]);
  });

  it('the issue’s instance: {"a": "a b c d e f g h", "b": "a b c d"} at 4 is [CLS] [SEP] a [SEP]', () => {
    // a is cut to "a b c d" (4 tokens, the first whole-word prefix of ≥ 4), b has 4: longest_first on 4 + 4
    // with room for 1 gives b the token (equal lengths: the second is "longer").
    expect(zh.encodePair('a b c d e f g h', 'a b c d', { maxLength: 4 }).tokens).toEqual([
      '[CLS]',
      '[SEP]',
      'a',
      '[SEP]',
    ]);
    // tokenizers < 0.23 cut on the full lengths (8 + 4): [CLS] a [SEP] [SEP]
    expect(longestFirst(8, 4, 1)).toEqual([1, 0]);
    expect(longestFirst(4, 4, 1)).toEqual([0, 1]);
  });

  it('an added token counts towards the prefix but only a word ends it (HF, tokenizers 0.23.2)', () => {
    const a = '一 二 三 [MASK] 四 五 六 七 八 九 十';
    const b = '一 二 三 四 五 六 七 八 九 十';
    // a's prefix at 4 is 一 二 三 [MASK] 四 (5 tokens: [MASK] reaches 4 but the check comes after 四)
    expect(zh.encodePair(a, b, { maxLength: 4 }).tokens).toEqual(['[CLS]', '一', '[SEP]', '[SEP]']);
    expect(zh.encodePair('一 二 三 [MASK]', b, { maxLength: 4 }).tokens).toEqual(['[CLS]', '[SEP]', '一', '[SEP]']);
    const many = '一 二 三 [MASK] [MASK] [MASK] [MASK] 四 五 六 七 八 九 十';
    const b12 = `${b} 十一 十二`;
    expect(zh.encodePair(many, b12, { maxLength: 10 }).tokens).toEqual([
      '[CLS]',
      '一',
      '二',
      '三',
      '[SEP]',
      '一',
      '二',
      '三',
      '四',
      '[SEP]',
    ]);
    expect(zh.encodePair(many, b12, { maxLength: 4 }).tokens).toEqual(['[CLS]', '一', '[SEP]', '[SEP]']);
  });

  it('a word of several pieces stays whole in the prefix (HF, tokenizers 0.23.2)', () => {
    const en = BertTokenizer.fromDir(folder(EN));
    expect(en.encode('unbelievable').tokens).toEqual(['[CLS]', 'unbelievable', '[SEP]']);
    // on the Chinese vocabulary "unbelievable" is u ##n ##bel ##ie ##va ##ble: 6 tokens, one word
    expect(
      zh.encodePair('unbelievable unbelievable unbelievable', '一二三四五六七八九十', { maxLength: 8 }).tokens,
    ).toEqual(['[CLS]', 'u', '##n', '##bel', '[SEP]', '一', '二', '[SEP]']);
    expect(
      zh.encodePair('一二三四五六七八九十', 'unbelievable unbelievable unbelievable', { maxLength: 8 }).tokens,
    ).toEqual(['[CLS]', '一', '二', '[SEP]', 'u', '##n', '##bel', '[SEP]']);
  });

  it('variants: random word sequences agree with the rule computed word by word', () => {
    // Words from the vocabulary and beyond (several pieces, [UNK]), CJK characters (one word each).
    const word = fc.constantFrom(
      'a',
      'b',
      'hello',
      'world',
      'unbelievable',
      'tokenization',
      'qzxv',
      '中',
      '国',
      '人',
      '12345',
    );
    const sentence = fc.array(word, { minLength: 0, maxLength: 30 });
    const piecesOf = (w: string): number => zh.tokenizeRaw(w).ids.length;
    // the shortest whole-word prefix with at least `max` tokens, or all of them
    const capped = (words: string[], max: number): number => {
      let total = 0;
      for (const w of words) {
        total += piecesOf(w);
        if (total >= max) break;
      }
      return total;
    };
    fc.assert(
      fc.property(sentence, sentence, fc.integer({ min: 3, max: 40 }), (wa, wb, max) => {
        const [a, b] = [wa.join(' '), wb.join(' ')];
        fc.pre(b !== '');
        const full = [zh.tokenizeRaw(a).ids, zh.tokenizeRaw(b).ids];
        const [n1, n2] = longestFirst(capped(wa, max), capped(wb, max), max - 3);
        const want = [zh.clsId, ...full[0]!.slice(0, n1), zh.sepId, ...full[1]!.slice(0, n2), zh.sepId];
        expect(zh.encodePair(a, b, { maxLength: max }).inputIds).toEqual(want);
      }),
      { numRuns: 600 },
    );
  });

  it('a single text is cut as before: the prefix of max_length − 2 tokens', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('hello', 'unbelievable', '中', 'qzxv', '[MASK]'), { maxLength: 40 }),
        fc.integer({ min: 2, max: 30 }),
        (ws, max) => {
          const t = ws.join(' ');
          const e = zh.encode(t, { maxLength: max });
          expect(e.inputIds).toEqual([zh.clsId, ...zh.tokenizeRaw(t).ids.slice(0, max - 2), zh.sepId]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('whitespace is Unicode White_Space (Rust char::is_whitespace)', () => {
  const raw = BertTokenizer.fromDir(folder(withNormalizer(zhJson, { clean_text: false })));
  // Every code point with the property, from the JS engine's Unicode tables; the ones below are what HF
  // printed for "hello" + c + "world" with clean_text false (tokenizers 0.23.2).
  const white: number[] = [];
  for (let c = 0; c <= 0x3000; c++) if (/\p{White_Space}/u.test(String.fromCodePoint(c))) white.push(c);

  it('the issue’s instance: "hello\\u000bworld" is hello world with clean_text false', () => {
    expect(tokens(raw, 'hello\u000bworld')).toEqual(['hello', 'world']);
    // with clean_text on, \v is a control character, dropped before the split: the word stays one
    expect(tokens(zh, 'hello\u000bworld')).toEqual(['hello', '##world']);
  });

  it('splits on each of the 25 White_Space code points and on nothing else', () => {
    expect(white.map((c) => c.toString(16))).toEqual([
      '9',
      'a',
      'b',
      'c',
      'd',
      '20',
      '85',
      'a0',
      '1680',
      '2000',
      '2001',
      '2002',
      '2003',
      '2004',
      '2005',
      '2006',
      '2007',
      '2008',
      '2009',
      '200a',
      '2028',
      '2029',
      '202f',
      '205f',
      '3000',
    ]);
    for (const c of white)
      expect(tokens(raw, `hello${String.fromCodePoint(c)}world`), c.toString(16)).toEqual(['hello', 'world']);
    // Python's str.isspace takes U+001C..U+001F, Unicode does not; nor the zero-width ones
    for (const c of [0x1c, 0x1d, 0x1e, 0x1f, 0x180e, 0x200b, 0xfeff, 0x7f, 0x00]) {
      expect(tokens(raw, `hello${String.fromCodePoint(c)}world`), c.toString(16)).toEqual(['[UNK]']);
    }
  });

  it('variants: any mix of White_Space runs separates the same words, offsets included', () => {
    const ws = fc.string({
      unit: fc.constantFrom(...white.map((c) => String.fromCodePoint(c))),
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('hello', 'world', '中', 'a'), { minLength: 1, maxLength: 8 }),
        fc.array(ws, { minLength: 8, maxLength: 8 }),
        (words, gaps) => {
          const text = words.map((w, i) => w + gaps[i]).join('');
          const spaced = words.map((w, i) => w + ' '.repeat(gaps[i]!.length)).join('');
          expect(raw.encode(text)).toEqual(raw.encode(spaced));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('which settings win: a BERT class rebuilds the normalizer from tokenizer_config.json (transformers 5.17)', () => {
  const lowerOff = withNormalizer(EN, { lowercase: false });

  it('the issue’s instance: tokenizer.json lowercase false + {"tokenizer_class": "BertTokenizer"} lower-cases', () => {
    const tok = BertTokenizer.fromDir(folder(lowerOff, { tokenizer_class: 'BertTokenizer' }));
    expect(tokens(tok, 'Hello World')).toEqual(['hello', 'world']);
    expect(tok.settings.doLowerCase).toBe(true);
    expect(tok.sources.doLowerCase).toBe("BertTokenizer default (tokenizer.json's value not used)");
    expect(tok.tokenizerClass).toBe('BertTokenizer (tokenizer_config.json)');
    // without class information the file's normalizer stays
    const plain = BertTokenizer.fromDir(folder(lowerOff));
    expect(tokens(plain, 'Hello World')).toEqual(['[UNK]', '[UNK]']);
    expect(plain.sources.doLowerCase).toBe('tokenizer.json normalizer');
  });

  // What names the class (HF's AutoTokenizer order), and whether it rebuilds: HF printed hello/world for the
  // rebuilding ones and [UNK] [UNK] for the others.
  const namers: [string, object | undefined, object | undefined, boolean][] = [
    ['BertTokenizer', { tokenizer_class: 'BertTokenizer' }, undefined, true],
    ['BertTokenizerFast', { tokenizer_class: 'BertTokenizerFast' }, undefined, true],
    ['ElectraTokenizerFast', { tokenizer_class: 'ElectraTokenizerFast' }, undefined, true],
    ['config.json model_type bert', {}, { model_type: 'bert' }, true],
    ['config.json model_type bert, no tokenizer_config.json', undefined, { model_type: 'bert' }, true],
    ['config.json tokenizer_class', undefined, { model_type: 'roberta', tokenizer_class: 'BertTokenizerFast' }, true],
    ['no class', {}, undefined, false],
    [
      'PreTrainedTokenizerFast over model_type bert',
      { tokenizer_class: 'PreTrainedTokenizerFast' },
      { model_type: 'bert' },
      false,
    ],
    ['TokenizersBackend', { tokenizer_class: 'TokenizersBackend' }, undefined, false],
    ['config.json model_type roberta', undefined, { model_type: 'roberta' }, false],
  ];
  for (const [what, tc, config, rebuilds] of namers) {
    it(`${what}: ${rebuilds ? 'rebuilt from the config' : "tokenizer.json's settings"}`, () => {
      const tok = BertTokenizer.fromDir(folder(lowerOff, tc, config));
      expect(tokens(tok, 'Hello World')).toEqual(rebuilds ? ['hello', 'world'] : ['[UNK]', '[UNK]']);
    });
  }

  it('variants: every normalizer and model setting of tokenizer.json is replaced by the class defaults', () => {
    const bert = { tokenizer_class: 'BertTokenizer' };
    // strip_accents true + lowercase false in the file: the class lower-cases and strips (default None → follows lower-casing)
    expect(
      tokens(
        BertTokenizer.fromDir(folder(withNormalizer(EN, { strip_accents: true, lowercase: false }), bert)),
        'Héllo',
      ),
    ).toEqual(['hello']);
    expect(
      tokens(BertTokenizer.fromDir(folder(withNormalizer(EN, { strip_accents: true, lowercase: false }))), 'Héllo'),
    ).toEqual(['[UNK]']);
    // clean_text false in the file: the class cleans (\v dropped, not a space), even when the config says false
    for (const tc of [bert, { ...bert, clean_text: false }]) {
      expect(
        tokens(BertTokenizer.fromDir(folder(withNormalizer(EN, { clean_text: false }), tc)), 'hello\u000bworld'),
      ).toEqual(['hello', '##world']);
    }
    expect(
      tokens(BertTokenizer.fromDir(folder(withNormalizer(EN, { clean_text: false }))), 'hello\u000bworld'),
    ).toEqual(['hello', 'world']);
    // handle_chinese_chars false in the file: the class isolates ideographs
    const zhOff = withNormalizer(zhJson, { handle_chinese_chars: false });
    expect(tokens(BertTokenizer.fromDir(folder(zhOff, bert)), '中文')).toEqual(['中', '文']);
    expect(tokens(BertTokenizer.fromDir(folder(zhOff)), '中文')).toEqual(['中', '##文']);
    // max_input_chars_per_word 10 in the file: the class uses 100 (and ignores the config's key, not an argument)
    const short = { ...EN, model: { ...EN.model, max_input_chars_per_word: 10 } };
    const twelve = 'aaaaaaaaaaaa';
    expect(tokens(BertTokenizer.fromDir(folder(short)), twelve)).toEqual(['[UNK]']);
    for (const tc of [bert, { ...bert, max_input_chars_per_word: 5 }]) {
      expect(tokens(BertTokenizer.fromDir(folder(short, tc)), twelve)).toEqual([
        'aaa',
        '##aa',
        '##aa',
        '##aa',
        '##aa',
        '##a',
      ]);
    }
    // the config's own arguments do apply: do_lower_case false keeps the case
    expect(tokens(BertTokenizer.fromDir(folder(EN, { ...bert, do_lower_case: false })), 'Hello World')).toEqual([
      '[UNK]',
      '[UNK]',
    ]);
  });

  it('sbert inspect says which source each setting came from', async () => {
    const dir = folder(lowerOff, { tokenizer_class: 'BertTokenizer', strip_accents: false });
    copyFileSync(fixture('tiny', 'hf', 'config.json'), join(dir, 'config.json'));
    symlinkSync(fixture('tiny', 'hf', 'model.safetensors'), join(dir, 'model.safetensors'));
    const r = await sbert(['inspect', dir]);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('tokenizer: '));
    expect(lines[at]).toBe(
      `tokenizer: ${join(dir, 'tokenizer.json')}, 30522 ids; class BertTokenizer (tokenizer_config.json)`,
    );
    expect(lines.slice(at + 1, at + 5).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      ['do_lower_case', 'true', "from BertTokenizer default (tokenizer.json's value not used)"],
      ['strip_accents', 'false', 'from tokenizer_config.json'],
      ['tokenize_chinese_chars', 'true', "from BertTokenizer default (tokenizer.json's value not used)"],
      ['clean_text', 'true', "from BertTokenizer default (tokenizer.json's value not used)"],
    ]);
    // the English vocabulary has ids the tiny model's 21128-row embedding table lacks: said in the report, and as
    // the one error line of a non-zero exit (encode refuses this folder)
    const problem = `${join(dir, 'tokenizer.json')}: token ids 21128..30521 ("##kia", ...) past the model's embedding table of 21128 rows (vocab_size in ${join(dir, 'config.json')})`;
    expect(lines).toContain(`tokenizer problem: ${problem}`);
    expect([r.code, r.stderr]).toEqual([2, `error: ${problem}\n`]);
    const json = await sbert(['inspect', dir, '--json']);
    expect([json.code, json.stderr]).toEqual([2, `error: ${problem}\n`]);
    const report = JSON.parse(json.stdout) as {
      tokenizer: { settings: Record<string, { value: unknown; source: string }> };
    };
    expect(report.tokenizer.settings.model_max_length).toEqual({ value: 1e30, source: 'default' });
    expect(report.tokenizer.settings.do_lower_case!.value).toBe(true);
  });

  it('fixtures: tiny/hf and tiny/st name BertTokenizer; vocab.txt folders are BertTokenizer by model_type', () => {
    const hf = BertTokenizer.fromDir(fixture('tiny', 'hf'));
    expect(hf.tokenizerClass).toBe('BertTokenizer (tokenizer_config.json)');
    expect(hf.sources.modelMaxLength).toBe('tokenizer_config.json');
    expect(BertTokenizer.fromDir(fixture('tiny', 'uer-converted')).tokenizerClass).toBe(
      'BertTokenizer (config.json model_type bert)',
    );
  });
});

describe('settings out of range are errors naming the file', () => {
  const cases: [string, object, object | undefined, RegExp][] = [
    [
      'max_input_chars_per_word -1',
      { ...zhJson, model: { ...zhJson.model, max_input_chars_per_word: -1 } },
      undefined,
      /tokenizer\.json: model\.max_input_chars_per_word must be an integer of at least 1/,
    ],
    [
      'max_input_chars_per_word 0',
      { ...zhJson, model: { ...zhJson.model, max_input_chars_per_word: 0 } },
      undefined,
      /max_input_chars_per_word must be an integer of at least 1/,
    ],
    [
      'max_input_chars_per_word 1.5',
      { ...zhJson, model: { ...zhJson.model, max_input_chars_per_word: 1.5 } },
      undefined,
      /max_input_chars_per_word must be an integer/,
    ],
    [
      'max_input_chars_per_word "100"',
      { ...zhJson, model: { ...zhJson.model, max_input_chars_per_word: '100' } },
      { tokenizer_class: 'BertTokenizer' },
      /max_input_chars_per_word must be an integer/,
    ],
    [
      'model_max_length 1',
      zhJson,
      { model_max_length: 1 },
      /tokenizer_config\.json: model_max_length must be an integer of at least 2/,
    ],
    ['model_max_length 0', zhJson, { model_max_length: 0 }, /model_max_length must be an integer of at least 2/],
    ['model_max_length -512', zhJson, { model_max_length: -512 }, /model_max_length/],
    ['model_max_length "512"', zhJson, { model_max_length: '512' }, /model_max_length/],
    [
      'added token id 2^40',
      { ...zhJson, added_tokens: [...zhJson.added_tokens, { id: 2 ** 40, content: '<x>' }] },
      undefined,
      /tokenizer\.json: added token "<x>": id 1099511627776 is not a token id/,
    ],
    [
      'added token id -1',
      { ...zhJson, added_tokens: [...zhJson.added_tokens, { id: -1, content: '<x>' }] },
      undefined,
      /added token "<x>": id -1 is not a token id/,
    ],
    [
      'added token id 2^32',
      { ...zhJson, added_tokens: [...zhJson.added_tokens, { id: 2 ** 32, content: '<x>' }] },
      undefined,
      /id 4294967296 is not a token id/,
    ],
    [
      'added token id "5"',
      { ...zhJson, added_tokens: [...zhJson.added_tokens, { id: '5', content: '<x>' }] },
      undefined,
      /id "5" is not a token id/,
    ],
    [
      'vocab id 2^40',
      { ...zhJson, model: { ...zhJson.model, vocab: { ...(zhJson.model.vocab as object), '<x>': 2 ** 40 } } },
      undefined,
      /model\.vocab: token "<x>" has id 1099511627776/,
    ],
    [
      'continuing_subword_prefix 5',
      { ...zhJson, model: { ...zhJson.model, continuing_subword_prefix: 5 } },
      undefined,
      /continuing_subword_prefix must be a string/,
    ],
  ];
  for (const [what, tj, tc, msg] of cases) {
    it(what, () => {
      const dir = folder(tj, tc);
      expect(() => BertTokenizer.fromDir(dir)).toThrow(CheckpointError);
      expect(() => BertTokenizer.fromDir(dir)).toThrow(msg);
      try {
        BertTokenizer.fromDir(dir);
      } catch (e) {
        expect((e as Error).message.startsWith(dir)).toBe(true);
        expect((e as Error).message).not.toContain('\n');
      }
    });
  }

  it('an id the file gives is checked, then HF’s id is used: the vocabulary’s, else the next after it', () => {
    const tok = BertTokenizer.fromDir(
      folder({
        ...zhJson,
        added_tokens: [
          ...zhJson.added_tokens,
          { id: 30000, content: '[A]' },
          { id: 5, content: '[B]' },
          { id: 77, content: 'ab' },
        ],
      }),
    );
    // HF: [A] 21128, [B] 21129 (file order), "ab" its vocabulary id 9386
    expect([tok.vocab.ids.get('[A]'), tok.vocab.ids.get('[B]'), tok.vocab.ids.get('ab')]).toEqual([21128, 21129, 9386]);
    expect(tok.encode('[A][B]').inputIds).toEqual([101, 21128, 21129, 102]);
    // a BERT class adds them in the order of their ids (transformers sorts added_tokens_decoder)
    const cls = BertTokenizer.fromDir(
      folder(
        { ...zhJson, added_tokens: [...zhJson.added_tokens, { id: 30000, content: '[A]' }, { id: 5, content: '[B]' }] },
        { tokenizer_class: 'BertTokenizer' },
      ),
    );
    expect([cls.vocab.ids.get('[A]'), cls.vocab.ids.get('[B]')]).toEqual([21129, 21128]);
  });

  it('ids past the model’s embedding table: extra vocab.txt lines, added tokens', () => {
    expect(() => zh.checkVocabSize(21128, 'config.json')).not.toThrow();
    expect(() => zh.checkVocabSize(21000, '/m/config.json')).toThrow(
      /tiny\/hf\/tokenizer\.json: token ids 21000\.\.21127 \("##.*", \.\.\.\) past the model's embedding table of 21000 rows \(vocab_size in \/m\/config\.json\)$/,
    );
    const added = BertTokenizer.fromDir(
      folder({ ...zhJson, added_tokens: [...zhJson.added_tokens, { id: 21128, content: '<new>' }] }),
    );
    expect(() => added.checkVocabSize(21128, 'config.json')).toThrow(
      /token id 21128 \("<new>"\) past the model's embedding table of 21128 rows/,
    );
    expect(() => added.checkVocabSize(21129, 'config.json')).not.toThrow();
  });
});
