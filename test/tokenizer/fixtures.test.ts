// Every golden case from HF BertTokenizerFast (transformers 5.17): ids, tokens and offsets, case by case.
// One test per file keeps 5 000+ cases fast; a mismatch fails and names each differing text.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BertTokenizer, type Encoding } from '../../src/tokenizer/index.js';
import { fixture } from '../fixtures.js';
import type { Case, PairCase } from './cases.js';

interface Batch {
  texts: string[];
  input_ids: number[][];
  token_type_ids: number[][];
  attention_mask: number[][];
}

const readJsonl = (path: string): Case[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Case);
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

const tmp = mkdtempSync(join(tmpdir(), 'sbert-tok-'));
const casedConfig = join(tmp, 'tokenizer_config.json');
writeFileSync(casedConfig, JSON.stringify({ do_lower_case: false }));

const zh = BertTokenizer.fromFiles({ vocab: fixture('vocab.txt') });
const zhCased = BertTokenizer.fromFiles({ vocab: fixture('vocab.txt'), tokenizerConfig: casedConfig });
const en = BertTokenizer.fromFiles({ vocab: fixture('vocab-en.txt') });

const show = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

function caseMismatches(tok: BertTokenizer, cases: Case[]): string[] {
  const bad: string[] = [];
  for (const c of cases) {
    const e = tok.encode(c.text);
    for (const [what, got, want] of [
      ['input_ids', e.inputIds, c.input_ids],
      ['tokens', e.tokens, c.tokens],
      ['offsets', e.offsets, c.offsets],
    ] as const) {
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        bad.push(`${c.source} ${show(c.text)}: ${what} ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      }
    }
  }
  return bad;
}

function pairMismatches(tok: BertTokenizer, cases: PairCase[]): string[] {
  const bad: string[] = [];
  for (const c of cases) {
    const opts = c.max_length === null ? {} : { maxLength: c.max_length };
    const e = c.b === null ? tok.encode(c.a, opts) : tok.encodePair(c.a, c.b, opts);
    const got = [e.inputIds, e.tokenTypeIds, e.attentionMask];
    const want = [c.input_ids, c.token_type_ids, c.attention_mask];
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      bad.push(
        `a=${show(c.a)} b=${c.b === null ? 'null' : show(c.b)} max_length=${c.max_length}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`,
      );
    }
  }
  return bad;
}

function batchMismatches(tok: BertTokenizer, b: Batch): string[] {
  const encs: Encoding[] = tok.encodeBatch(b.texts);
  const bad: string[] = [];
  b.texts.forEach((t, i) => {
    const got = [encs[i]!.inputIds, encs[i]!.tokenTypeIds, encs[i]!.attentionMask];
    const want = [b.input_ids[i], b.token_type_ids[i], b.attention_mask[i]];
    if (JSON.stringify(got) !== JSON.stringify(want))
      bad.push(`${show(t)}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  });
  return bad;
}

describe('tokenizer fixtures (Chinese vocab)', () => {
  it('matches all uncased cases (edge cases + Chinese STS-B test)', () => {
    const cases = readJsonl(fixture('tokenizer', 'cases.jsonl'));
    expect(cases.length).toBe(2516);
    expect(cases.filter((c) => c.source === 'edge').length).toBe(60);
    expect(caseMismatches(zh, cases)).toEqual([]);
  });

  it('matches the cased cases (do_lower_case=false)', () => {
    const cases = readJsonl(fixture('tokenizer', 'cases.cased.jsonl'));
    expect(cases.length).toBe(60);
    expect(caseMismatches(zhCased, cases)).toEqual([]);
  });

  it('matches pairs and longest_first truncation', () => {
    const pairs = readJson<PairCase[]>(fixture('tokenizer', 'pairs.json'));
    expect(pairs.some((p) => p.b !== null && p.max_length !== null)).toBe(true);
    expect(pairMismatches(zh, pairs)).toEqual([]);
    expect(pairMismatches(zhCased, readJson<PairCase[]>(fixture('tokenizer', 'pairs.cased.json')))).toEqual([]);
  });

  it('matches the padded batches', () => {
    expect(batchMismatches(zh, readJson<Batch>(fixture('tokenizer', 'batch.json')))).toEqual([]);
    expect(batchMismatches(zhCased, readJson<Batch>(fixture('tokenizer', 'batch.cased.json')))).toEqual([]);
  });
});

describe('tokenizer fixtures (English BERT-base uncased vocab)', () => {
  it('matches all cases (edge cases + English STS-B test)', () => {
    const cases = readJsonl(fixture('tokenizer-en', 'cases.jsonl'));
    expect(cases.length).toBe(2724);
    expect(caseMismatches(en, cases)).toEqual([]);
  });

  it('matches pairs, truncation and the padded batch', () => {
    expect(pairMismatches(en, readJson<PairCase[]>(fixture('tokenizer-en', 'pairs.json')))).toEqual([]);
    expect(batchMismatches(en, readJson<Batch>(fixture('tokenizer-en', 'batch.json')))).toEqual([]);
  });
});

describe('tokenizer sources', () => {
  it('tokenizer.json (tiny/hf) gives the same tokenizer as vocab.txt', () => {
    const hf = BertTokenizer.fromDir(fixture('tiny', 'hf'));
    const txt = BertTokenizer.fromDir(fixture('tiny', 'uer-converted'));
    expect(hf.vocabSize).toBe(21128);
    expect(txt.vocabSize).toBe(21128);
    for (let id = 0; id < hf.vocabSize; id++) {
      if (hf.idToToken(id) !== txt.idToToken(id))
        expect.fail(`id ${id}: ${JSON.stringify(hf.idToToken(id))} != ${JSON.stringify(txt.idToToken(id))}`);
    }
    // vocab.txt lines 344 and 13503 are U+2028 and "##\u2028": trimmed as HF does, like tokenizer.json has them.
    expect(txt.idToToken(343)).toBe('');
    expect(txt.idToToken(13502)).toBe('##');
    expect(hf.settings).toEqual(txt.settings);
    const cases = readJsonl(fixture('tokenizer', 'cases.jsonl'));
    expect(caseMismatches(hf, cases)).toEqual([]);
  });

  it('a sentence-transformers folder (tiny/st) reads model_max_length from tokenizer_config.json', () => {
    const st = BertTokenizer.fromDir(fixture('tiny', 'st'));
    expect(st.settings.modelMaxLength).toBe(512);
    expect(st.settings.doLowerCase).toBe(true);
    expect(st.encode('那个人很开心').inputIds).toEqual([101, 6929, 702, 782, 2523, 2458, 2552, 102]);
  });
});
