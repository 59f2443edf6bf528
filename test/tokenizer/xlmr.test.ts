// The XLM-R SentencePiece tokenizer against HF transformers 5.17's XLMRobertaTokenizer: every golden case of
// ../shared/fixtures/xlmr/tokenizer (ids, tokens, code-point offsets), pairs with truncation, a padded batch,
// from tokenizer.json and from sentencepiece.bpe.model, plus the reader's and the normalizer's own rules.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { Precompiled } from '../../src/tokenizer/precompiled.js';
import { readSentencePieceModel } from '../../src/tokenizer/sentencepiece-model.js';
import { XLMRobertaTokenizer } from '../../src/tokenizer/xlmr-tokenizer.js';
import { fixture } from '../fixtures.js';
import type { Case, PairCase } from './cases.js';

interface Batch {
  texts: string[];
  input_ids: number[][];
  token_type_ids: number[][];
  attention_mask: number[][];
}

const hf = fixture('xlmr', 'xlmr-tiny', 'hf');
const cases = readFileSync(fixture('xlmr', 'tokenizer', 'cases.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => JSON.parse(l) as Case);
const pairs = JSON.parse(readFileSync(fixture('xlmr', 'tokenizer', 'pairs.json'), 'utf8')) as PairCase[];
const batch = JSON.parse(readFileSync(fixture('xlmr', 'tokenizer', 'batch.json'), 'utf8')) as Batch;
const tok = XLMRobertaTokenizer.fromDir(hf);

const show = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);

function caseMismatches(t: XLMRobertaTokenizer): string[] {
  const bad: string[] = [];
  for (const c of cases) {
    const e = t.encode(c.text);
    for (const [what, got, want] of [
      ['input_ids', e.inputIds, c.input_ids],
      ['tokens', e.tokens, c.tokens],
      ['offsets', e.offsets, c.offsets],
    ] as const) {
      if (JSON.stringify(got) !== JSON.stringify(want))
        bad.push(`${show(c.text)}: ${what} ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
    }
  }
  return bad;
}

function pairMismatches(t: XLMRobertaTokenizer): string[] {
  const bad: string[] = [];
  for (const c of pairs) {
    const opts = c.max_length === null ? {} : { maxLength: c.max_length };
    const e = c.b === null ? t.encode(c.a, opts) : t.encodePair(c.a, c.b, opts);
    const got = JSON.stringify([e.inputIds, e.tokenTypeIds, e.attentionMask]);
    const want = JSON.stringify([c.input_ids, c.token_type_ids, c.attention_mask]);
    if (got !== want)
      bad.push(`a=${show(c.a)} b=${c.b === null ? 'null' : show(c.b)} max_length=${c.max_length}: ${got} != ${want}`);
  }
  return bad;
}

/** A folder holding only the given files of hf/. */
function folderWith(...names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sbert-xlmr-tok-'));
  for (const n of names) copyFileSync(join(hf, n), join(dir, n));
  return dir;
}

describe('XLM-R tokenizer fixtures (HF transformers 5.17)', () => {
  it('matches all 2 542 cases: ids, tokens and code-point offsets', () => {
    expect(cases.length).toBe(2542);
    expect(caseMismatches(tok)).toEqual([]);
  });

  it('matches the pairs (longest_first truncation, empty texts, single texts truncated)', () => {
    expect(pairs.length).toBe(28);
    expect(pairMismatches(tok)).toEqual([]);
  });

  it('matches the padded batch (padding id 1, type ids 0)', () => {
    const encs = tok.encodeBatch(batch.texts);
    expect(encs.map((e) => e.inputIds)).toEqual(batch.input_ids);
    expect(encs.map((e) => e.tokenTypeIds)).toEqual(batch.token_type_ids);
    expect(encs.map((e) => e.attentionMask)).toEqual(batch.attention_mask);
    expect(tok.padId).toBe(1);
  });

  it('reads the same tokenizer from every model folder', () => {
    for (const dir of [
      ['xlmr-tiny', 'st'],
      ['xlmr-tiny', 'st-cls'],
      ['bert-xlmr-tok', 'st'],
    ]) {
      const other = XLMRobertaTokenizer.fromDir(fixture('xlmr', ...dir));
      expect(caseMismatches(other).length, dir.join('/')).toBe(0);
    }
  });

  it('from sentencepiece.bpe.model + tokenizer_config.json (no tokenizer.json): identical', () => {
    const t = XLMRobertaTokenizer.fromDir(folderWith('sentencepiece.bpe.model', 'tokenizer_config.json'));
    expect(t.vocabSize).toBe(8002);
    expect(caseMismatches(t)).toEqual([]);
    expect(pairMismatches(t)).toEqual([]);
    expect(t.settings.modelMaxLength).toBe(512);
  });

  it('from sentencepiece.bpe.model alone: as transformers 5, <mask> has no lstrip (one offset differs)', () => {
    const t = XLMRobertaTokenizer.fromDir(folderWith('sentencepiece.bpe.model'));
    const bad = caseMismatches(t);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toContain('"Paris is the <mask> of France."');
    // HF 5.17 on the same folder: <mask> [13, 19] (the space before it is dropped, not absorbed)
    expect(t.encode('Paris is the <mask> of France.').offsets[8]).toEqual([13, 19]);
    expect(pairMismatches(t)).toEqual([]);
    expect(t.settings.modelMaxLength).toBe(1e30);
  });
});

describe('XLM-R tokenizer rules', () => {
  it('truncates pairs as tokenizers 0.23 does: each side first cut at max_length tokens, then longest_first', () => {
    // From HF (tokenizers 0.23.2) on "你 你 …" texts: [words in a, words in b, max_length] → kept tokens of a, b.
    const words = (k: number): string => Array<string>(k).fill('你').join(' ');
    const golden: [number, number, number, number, number][] = [
      [6, 5, 5, 0, 1], // both longer than max_length: the odd token goes to b although a is longer
      [8, 7, 7, 1, 2],
      [4, 3, 5, 1, 0],
      [10, 9, 9, 2, 3],
      [3, 12, 12, 3, 5],
    ];
    for (const [ka, kb, max, na, nb] of golden) {
      const ids = tok.encodePair(words(ka), words(kb), { maxLength: max }).inputIds;
      const sep = ids.indexOf(tok.sepId);
      expect([sep - 1, ids.length - sep - 3], `${ka} ${kb} ${max}`).toEqual([na, nb]);
    }
  });

  it('decodes with the Metaspace decoder as HF does', () => {
    // HF 5.17: tok.decode(ids) and tok.decode(ids, skip_special_tokens=True)
    for (const [text, full, skipped] of [
      ['Hello world, 你好 <mask>!', '<s> Hello world, 你好<mask> !</s>', 'Hello world, 你好 !'],
      ['  a  b ', '<s> a b</s>', 'a b'],
      ['ｶﾞ①ﬁ ＡＢＣ１２３', '<s> カ<unk>1fi ABC123</s>', 'カ1fi ABC123'],
    ] as const) {
      const ids = tok.encode(text).inputIds;
      expect(tok.decode(ids)).toBe(full);
      expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(skipped);
    }
  });

  it('matches pieces that normalization turns into special tokens, and fuses unknown characters', () => {
    // HF 5.17: 'ｶﾞｷﾞｸﾞ ＜ｓ＞ x' → full-width <s> becomes the piece <s> (id 0); ゙ギグ is one <unk>
    expect(tok.encode('ｶﾞｷﾞｸﾞ ＜ｓ＞ x').inputIds).toEqual([0, 4, 6029, 3, 4, 0, 4, 1742, 2]);
  });

  it('handles 100k-character texts as HF does', () => {
    // HF 5.17 on the same texts: length, first and last ids, last offsets; truncated to 512.
    const zh = tok.encode('你'.repeat(100_000));
    expect(zh.inputIds.length).toBe(100_002);
    expect(zh.inputIds.slice(0, 3)).toEqual([0, 390, 164]);
    expect(zh.offsets[100_000]).toEqual([99_999, 100_000]);
    const marks = tok.encode('a\u0301'.repeat(50_000));
    expect(marks.inputIds.length).toBe(50_003);
    expect(marks.offsets.slice(-3, -1)).toEqual([
      [99_996, 99_997],
      [99_998, 99_999],
    ]);
    const flags = tok.encode('🇨🇳'.repeat(25_000), { maxLength: 512 });
    expect(flags.inputIds.slice(0, 5)).toEqual([0, 4, 3, 6803, 3]);
    expect(flags.inputIds.slice(-3)).toEqual([6803, 3, 2]);
    expect(tok.encode('\x7f'.repeat(100_000)).inputIds).toEqual([0, 2]);
  });

  it('reads the ModelProto: pieces and scores as tokenizer.json has them (ids shifted by one)', () => {
    const m = readSentencePieceModel(new Uint8Array(readFileSync(join(hf, 'sentencepiece.bpe.model'))));
    expect(m.pieces.length).toBe(8000);
    expect(m.pieces.slice(0, 3).map((p) => [p.piece, p.type])).toEqual([
      ['<unk>', 2],
      ['<s>', 3],
      ['</s>', 3],
    ]);
    expect(m.trainer).toMatchObject({ modelType: 1, unkId: 0, bosId: 1, eosId: 2, padId: -1, byteFallback: false });
    expect(m.normalizer.name).toBe('nmt_nfkc');
    const tj = JSON.parse(readFileSync(join(hf, 'tokenizer.json'), 'utf8')) as { model: { vocab: [string, number][] } };
    for (let i = 3; i < 8000; i++) expect([m.pieces[i]!.piece, m.pieces[i]!.score]).toEqual(tj.model.vocab[i + 1]);
  });

  it('refuses malformed SentencePiece models and charsmaps with a one-line error naming the file', () => {
    const bytes = new Uint8Array(readFileSync(join(hf, 'sentencepiece.bpe.model')));
    for (const cut of [1, 2, 5, 17, 100, 1000, bytes.length - 1]) {
      expect(() => readSentencePieceModel(bytes.subarray(0, cut), 'x.model')).toThrow(
        /^x\.model: not a SentencePiece model/,
      );
    }
    expect(() => readSentencePieceModel(new Uint8Array([0x0b]), 'x.model')).toThrow(/wire type 3/);
    expect(() => readSentencePieceModel(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]), 'x.model')).toThrow(
      /runs past the end/,
    );
    expect(() => readSentencePieceModel(new Uint8Array(0), 'x.model')).toThrow(/no pieces/);
    expect(() => new Precompiled(new Uint8Array([8, 0, 0, 0, 1, 2]), 'c')).toThrow(CheckpointError);
    expect(() => new Precompiled(new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0, 0xff]), 'c')).toThrow(/not valid UTF-8/);
    const dir = folderWith('tokenizer_config.json');
    writeFileSync(join(dir, 'sentencepiece.bpe.model'), bytes.subarray(0, 300));
    expect(() => XLMRobertaTokenizer.fromDir(dir)).toThrow(/sentencepiece\.bpe\.model: not a SentencePiece model/);
  });

  it('corrupted models and charsmaps: a CheckpointError or a working tokenizer, never anything else', () => {
    const bytes = new Uint8Array(readFileSync(join(hf, 'sentencepiece.bpe.model')));
    const text = 'Hello wörld, 你好！ ｶﾞ①ﬁ e\u0301 \x7f<mask> 🇨🇳';
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (edits) => {
          const b = bytes.slice();
          for (const [at, v] of edits) b[at] = v;
          let m;
          try {
            m = readSentencePieceModel(b, 'x.model');
          } catch (e) {
            expect(e).toBeInstanceOf(CheckpointError);
            return;
          }
          let p;
          try {
            p = new Precompiled(m.normalizer.precompiledCharsmap, 'x.model');
          } catch (e) {
            expect(e).toBeInstanceOf(CheckpointError);
            return;
          }
          const n = p.normalize(text, 0, text.length, 0);
          expect(n.start.length).toBe(n.text.length);
        },
      ),
      { numRuns: 300, seed: 18 },
    );
    // a charsmap whose trie points anywhere: lookups end, replacements decode (as U+FFFD where broken)
    const noise = new Uint8Array(4096).map((_, i) =>
      i < 2052 ? Math.imul(i + 1, 2654435761) >>> 24 : i % 7 === 0 ? 0 : 97 + (i % 26),
    );
    noise.set([0, 8, 0, 0]); // a trie of 2048 bytes (random units), then ASCII replacement strings
    const p = new Precompiled(noise, 'noise');
    for (const t of [text, '\u0000\uffff\ud800x', 'a'.repeat(1000)]) {
      const n = p.normalize(t, 0, t.length, 0);
      expect(n.start.length).toBe(n.text.length);
    }
  });

  it('the Precompiled normalizer: nmt_nfkc rules, graphemes replaced whole, deleted characters', () => {
    const tj = JSON.parse(readFileSync(join(hf, 'tokenizer.json'), 'utf8')) as {
      normalizer: { normalizers: { precompiled_charsmap: string }[] };
    };
    const p = Precompiled.fromBase64(tj.normalizer.normalizers[0]!.precompiled_charsmap);
    const norm = (s: string): [string, number[][]] => {
      const n = p.normalize(s, 0, s.length, 0);
      return [n.text, [...n.start].map((st, i) => [st, n.end[i]!])];
    };
    expect(norm('ﬁ①')).toEqual([
      'fi1',
      [
        [0, 1],
        [0, 1],
        [1, 2],
      ],
    ]);
    expect(norm('e\u0301x')).toEqual([
      'éx',
      [
        [0, 1],
        [2, 3],
      ],
    ]);
    expect(norm('a\x01b')).toEqual([
      'ab',
      [
        [0, 1],
        [2, 3],
      ],
    ]);
    // a deletion at the start is lost: everything after shifts one to the left (HF's alignment quirk)
    expect(norm('\x7fab')).toEqual([
      'ab',
      [
        [0, 1],
        [1, 2],
      ],
    ]);
    expect(norm('▁')[0]).toBe(' ');
    expect(p.transform('\0', 0, 1)).toBeUndefined();
  });

  it('names the unsupported tokenizer file or class', () => {
    const dir = folderWith('sentencepiece.bpe.model');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'T5Tokenizer' }));
    expect(() => XLMRobertaTokenizer.fromDir(dir)).toThrow(
      /tokenizer_config\.json: tokenizer_class "T5Tokenizer" is not supported/,
    );
    const wp = mkdtempSync(join(tmpdir(), 'sbert-xlmr-tok-'));
    writeFileSync(join(wp, 'tokenizer.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }));
    expect(() => XLMRobertaTokenizer.fromDir(wp)).toThrow(
      /tokenizer\.json: model type "WordPiece" is not a SentencePiece Unigram model/,
    );
  });
});
